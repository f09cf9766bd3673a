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

``hosts`` names local servers, as a service's stable URL names wherever it runs now: a request to a host
registered there (``services.stepdance.local``) goes to the address registered (``127.0.0.1:41234``).
Executions keep their URLs across a crash while the server behind the name moves to a new port with the
process that serves it.

The client is aiohttp's: with many requests in flight, httpx's pool spent a quarter of the saga's CPU
checking every pooled connection on each request (orders/s fell from 65 to 40 as the pool grew from 8 to
64 connections).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import orjson
from yarl import URL

from stepdance.engine.handlers import TaskContext, TaskFailure

HTTP_RESOURCES = tuple(f"http.{m}" for m in ("get", "post", "put", "patch", "delete", "request"))
DEFAULT_TIMEOUT = 300.0


class HttpTasks:
    """The handler of HTTP tasks; one connection pool for the engine's life (made on first use, on the
    engine's loop)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.hosts: dict[str, str] = {}  # host name -> "address:port" it stands for

    def route(self, host: str, address: str) -> None:
        """Send requests for ``host`` to ``address`` (``127.0.0.1:41234``)."""
        self.hosts[host.lower()] = address

    async def __call__(self, payload: Any, context: TaskContext) -> dict[str, Any]:
        method, url, headers, body, timeout = _request(payload)
        url = self._routed(url)
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=256, limit_per_host=0, ttl_dns_cache=60)
            session = self._session = aiohttp.ClientSession(connector=connector, json_serialize=json.dumps)
        try:
            async with session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=True,
            ) as response:
                content = await response.read()
                return {
                    "code": response.status,
                    "headers": {k: v for k, v in response.headers.items()},
                    "body": _body(response.headers.get("Content-Type", ""), content),
                }
        except TimeoutError as error:
            raise _failure(
                "TimeoutError", f"the request timed out after {timeout:g} s{_said(error)}"
            ) from None
        except aiohttp.ClientConnectorError as error:
            raise _failure("ConnectionFailedError", f"could not connect: {error}") from None
        except (aiohttp.ClientError, ValueError) as error:
            raise _failure(
                "ConnectionError", f"the connection failed: {type(error).__name__}{_said(error)}"
            ) from None

    def _routed(self, url: URL) -> URL:
        address = self.hosts.get((url.host or "").lower()) if self.hosts else None
        if address is None:
            return url
        host, _, port = address.rpartition(":")
        return url.with_host(host).with_port(int(port))

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _request(payload: Any) -> tuple[str, URL, dict[str, str], bytes | None, float]:
    if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
        raise _failure("ValueError", "an HTTP task needs a url")
    try:
        url = URL(payload["url"])
    except ValueError as error:
        raise _failure("ValueError", f"not a URL: {payload['url']!r}: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise _failure("ValueError", f"not an http(s) URL: {payload['url']!r}")
    query = {str(k): _query_value(v) for k, v in (payload.get("query") or {}).items()}
    if query:
        url = url.update_query(query)
    headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
    body = None
    if "body" in payload and payload["body"] is not None:
        body = _content(payload["body"], headers)
    method = str(payload.get("method") or "GET").upper()
    return method, url, headers, body, float(payload.get("timeout") or DEFAULT_TIMEOUT)


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


def _body(content_type: str, content: bytes) -> Any:
    if "json" in content_type.lower() and content:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    return content.decode("utf-8", errors="replace")


def _said(error: BaseException) -> str:
    text = str(error)
    return f": {text}" if text else ""


def _failure(tag: str, message: str) -> TaskFailure:
    # The cause is Workflows' error map, which the interpreter raises as it is.
    return TaskFailure(tag, json.dumps({"message": message, "tags": [tag]}))
