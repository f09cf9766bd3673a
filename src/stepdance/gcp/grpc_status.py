"""Ending a gRPC call with a :class:`~stepdance.gcp.status.GoogleApiError`'s status, or INTERNAL for a bug
(logged, never shown to the caller)."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import grpc

from stepdance.gcp.status import GoogleApiError

log = logging.getLogger(__name__)
INTERNAL = "Internal error; see the server's log"


async def abort(context: grpc.aio.ServicerContext[Any, Any], error: BaseException, what: str) -> NoReturn:
    """Abort the call ``what`` (``"Pub/Sub: Publish"``) that failed with ``error``."""
    if isinstance(error, GoogleApiError):
        await context.abort(grpc.StatusCode[error.code], error.message)
    log.error("%s failed", what, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, INTERNAL)
    raise AssertionError("grpc's abort raises; it never returns")
