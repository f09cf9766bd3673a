"""AWS's JSON protocol on the wire: the request's JSON in, the answer's JSON out, errors as ``__type``.

Responses carry what botocore's parser expects: timestamps as epoch seconds (a number), blobs base64,
``Content-Type: application/x-amz-json-1.0`` (1.1 for EventBridge, whose model says so) and an
``x-amzn-RequestId``; an error is HTTP 400 with ``{"__type": "InvalidArn", "message": "..."}``.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson

from stepdance.api.errors import SerializationException


def parse_body(body: bytes) -> Any:
    """The request's JSON (an empty body is ``{}``, as botocore sends for no arguments)."""
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise SerializationException(f"The request body is not valid JSON: {error}") from None


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def dump(value: Any) -> bytes:
    # orjson would write datetimes as RFC 3339 text; botocore's JSON parser reads epoch seconds
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def content_type(json_version: str) -> str:
    return f"application/x-amz-json-{json_version}"


def error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"__type": code, "message": message})
