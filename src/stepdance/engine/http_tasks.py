"""HTTP requests of Cloud Workflows executions (``call: http.get`` ... ``http.request``), sent for real.

The interpreter hands the runtime an :class:`~stepdance.asl.protocol.InvokeTask` of kind ``http`` whose
payload is the request (:mod:`stepdance.gcw.machine_calls` states the contract); :class:`HttpTasks` is the
handler registered for every ``http.*`` resource. It sends the request with one shared connection pool and
answers ``{"code", "headers", "body"}`` whatever the status (the interpreter raises ``HttpError`` from 400
on, with the response in the error map, as Workflows does), or fails the task with Workflows' tag when
there is no response: ``ConnectionFailedError`` (no connection), ``ConnectionError`` (broken during the
exchange), ``TimeoutError``.

As in Workflows: a map or list ``body`` is sent as JSON unless the headers name another content type, a
string as UTF-8 text; a JSON response body is decoded, any other kept as text; ``query`` is added to the
URL. ``auth`` (OIDC / OAuth2) is accepted and not acted on: there is no Google identity to mint a token
for locally, and the services stepdance runs do their own authentication.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson

from stepdance.engine.handlers import TaskContext, TaskFailure

HTTP_RESOURCES = tuple(f"http.{m}" for m in ("get", "post", "put", "patch", "delete", "request"))
DEFAULT_TIMEOUT = 300.0


class HttpTasks:
    """The handler of HTTP tasks; one connection pool for the engine's life (made on first use, on the
    engine's loop)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, payload: Any, context: TaskContext) -> dict[str, Any]:
        request = _request(payload)
        client = self._client
        if client is None:
            limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
            client = self._client = httpx.AsyncClient(limits=limits, follow_redirects=True)
        try:
            response = await client.request(**request)
        except httpx.TimeoutException as error:
            raise _failure(
                "TimeoutError", f"the request timed out: {error or type(error).__name__}"
            ) from None
        except httpx.ConnectError as error:
            raise _failure("ConnectionFailedError", f"could not connect: {error}") from None
        except (httpx.TransportError, httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise _failure("ConnectionError", f"the connection failed: {error}") from None
        return {"code": response.status_code, "headers": dict(response.headers), "body": _body(response)}

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def _request(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
        raise _failure("ValueError", "an HTTP task needs a url")
    headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
    request: dict[str, Any] = {
        "method": str(payload.get("method") or "GET").upper(),
        "url": payload["url"],
        "headers": headers,
        "params": {str(k): _query_value(v) for k, v in (payload.get("query") or {}).items()},
        "timeout": float(payload.get("timeout") or DEFAULT_TIMEOUT),
    }
    if "body" in payload and payload["body"] is not None:
        request["content"] = _content(payload["body"], headers)
    return request


def _query_value(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _content(body: Any, headers: dict[str, str]) -> bytes:
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if content_type is None:
        if isinstance(body, str):
            headers["Content-Type"] = "text/plain; charset=utf-8"
            return body.encode()
        headers["Content-Type"] = "application/json"
        return orjson.dumps(body)
    if "json" in content_type.lower():
        return orjson.dumps(body)
    if isinstance(body, str):
        return body.encode()
    raise _failure("TypeError", f"a {type(body).__name__} body cannot be sent as {content_type}")


def _body(response: httpx.Response) -> Any:
    content_type = response.headers.get("content-type", "").lower()
    if "json" in content_type and response.content:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass
    return response.text


def _failure(tag: str, message: str) -> TaskFailure:
    # The cause is Workflows' error map, which the interpreter raises as it is.
    return TaskFailure(tag, json.dumps({"message": message, "tags": [tag]}))
