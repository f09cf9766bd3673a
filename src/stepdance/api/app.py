"""The ASGI app of ``stepdance serve``: AWS's JSON protocol for Step Functions and EventBridge.

Every call is a ``POST /`` whose ``X-Amz-Target`` names the operation (``AWSStepFunctions.StartExecution``,
``AWSEvents.PutEvents``). A request passes four checks before it reaches the engine or the bus, so one that
fails any of them stores nothing: the body's size, the SigV4 signature (when access keys are configured),
the operation, and the body against the operation's input shape (botocore's model of AWS's API). The answer
is the client's result as JSON, or an AWS-style error: HTTP 400 ``{"__type", "message"}``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from stepdance.api import sigv4, wire
from stepdance.api.errors import RequestEntityTooLargeException
from stepdance.api.operations import SERVICES, lookup
from stepdance.api.validation import check_input
from stepdance.awserror import AwsError

log = logging.getLogger("stepdance.api")

MAX_BODY = 1_048_576  # PutEvents takes 256 KiB of entries, but JSON escaping can double a detail's size


@dataclass(frozen=True)
class ApiConfig:
    """``keys``: access key id -> secret; none means auth is off. ``max_body``: bytes a request may carry."""

    keys: Mapping[str, str] = field(default_factory=dict)
    max_body: int = MAX_BODY


def create_app(
    clients: Mapping[str, Any], config: ApiConfig | None = None, extra: Sequence[BaseRoute] = ()
) -> Starlette:
    """The app over ``clients``: ``{"stepfunctions": engine client, "events": bus client}``; ``extra``:
    more routes (the dashboard's)."""
    config = config or ApiConfig()

    async def aws(request: Request) -> Response:
        return await _answer(request, clients, config)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "auth": bool(config.keys)})

    async def home(request: Request) -> Response:
        return RedirectResponse("/dashboard/executions", 303)

    return Starlette(
        routes=[
            Route("/", aws, methods=["POST"]),
            Route("/", home, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            *extra,
        ]
    )


async def _answer(request: Request, clients: Mapping[str, Any], config: ApiConfig) -> Response:
    target = request.headers.get("x-amz-target")
    version = _version_of(target)
    request_id = str(uuid.uuid4())
    try:
        body = await _read(request, config.max_body)
        if config.keys:
            sigv4.verify(
                request.method,
                request.scope.get("raw_path", b"/").decode("latin-1"),
                request.scope.get("query_string", b"").decode("latin-1"),
                request.headers,
                body,
                config.keys,
                now=time.time(),
            )
        operation = lookup(target)
        version = operation.json_version
        params = check_input(operation.model, wire.parse_body(body))
        method = getattr(clients[operation.service], operation.method)
        result = await method(**_accepted(method, params))
        return Response(
            wire.dump(result),
            200,
            headers={"x-amzn-RequestId": request_id},
            media_type=wire.content_type(version),
        )
    except AwsError as error:
        return _error(error.code, error.message, getattr(error, "status", 400), version, request_id)
    except Exception:
        log.exception("%s failed", target)
        return _error(
            "InternalFailure", "The request failed for an unknown reason.", 500, version, request_id
        )


def _error(code: str, message: str, status: int, version: str, request_id: str) -> Response:
    return Response(
        wire.error_body(code, message),
        status,
        # botocore reads the code from __type; JSON 1.1 clients may look at the header first
        headers={"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code},
        media_type=wire.content_type(version),
    )


async def _read(request: Request, limit: int) -> bytes:
    """The body, refused before it is read whole when it is over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> RequestEntityTooLargeException:
    return RequestEntityTooLargeException(
        f"Request body of {size} bytes or more exceeds the limit of {limit} bytes"
    )


def _version_of(target: str | None) -> str:
    prefix = (target or "").partition(".")[0]
    return "1.1" if SERVICES.get(prefix, ("",))[0] == "events" else "1.0"


def _accepted(method: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the client's method takes: AWS fields stepdance does not use are ignored, as AWS
    ignores fields it does not know (docs/aws.md lists them)."""
    names, takes_any = _parameters(method.__func__)
    return params if takes_any else {k: v for k, v in params.items() if k in names}


@functools.cache
def _parameters(fn: Any) -> tuple[frozenset[str], bool]:
    parameters = inspect.signature(fn).parameters.values()
    takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
    return frozenset(p.name for p in parameters if p.kind is p.KEYWORD_ONLY), takes_any
