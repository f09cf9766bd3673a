"""Server-sent events: an execution's or an order's page updates while it runs, without a reload.

The stream renders the page's live fragment again every :data:`EVERY` seconds and sends it when it changed
(one ``data:`` line per line of HTML, escaped like the page); once the execution has ended, or the order is
decided, it sends the last one and an ``end`` event, and the page closes the stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from stepdance.api.dashboard.context import Dashboard
from stepdance.api.dashboard.pages import execution_values, order_values

EVERY = 0.5
KEEPALIVE = 15.0  # a comment line now and then keeps proxies from closing a quiet stream


def message(html: str, event: str | None = None) -> str:
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in html.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def stream(
    request: Request,
    render: Callable[[], Awaitable[tuple[str, bool] | None]],
) -> Response:
    """``render`` answers the fragment and whether it is final (None: gone)."""

    async def events() -> AsyncIterator[str]:
        last = ""
        quiet = 0.0
        while not await request.is_disconnected():
            rendered = await render()
            if rendered is None:
                yield message("", "end")
                return
            html, final = rendered
            if html != last:
                last, quiet = html, 0.0
                yield message(html)
            elif quiet >= KEEPALIVE:
                quiet = 0.0
                yield ": still here\n\n"
            if final:
                yield message("", "end")
                return
            await asyncio.sleep(EVERY)
            quiet += EVERY

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _fragment(dash: Dashboard, template: str, values: dict[str, Any]) -> str:
    return dash.templates.get_template(template).render({"csrf": dash.csrf, **values})


async def execution(dash: Dashboard, request: Request) -> Response:
    arn = request.query_params.get("arn", "")

    async def render() -> tuple[str, bool] | None:
        values = await execution_values(dash, arn)
        if values is None:
            return None
        return _fragment(dash, "_execution.html", {"arn": arn, **values}), not values["running"]

    return stream(request, render)


async def order(dash: Dashboard, request: Request) -> Response:
    order_id = request.query_params.get("id", "")

    async def render() -> tuple[str, bool] | None:
        values = await order_values(dash, order_id)
        if values is None:
            return None
        # decided is not final: a dead-lettered notification may still be redriven and sent
        return _fragment(dash, "_order.html", {"order_id": order_id, **values}), False

    return stream(request, render)


async def demo(dash: Dashboard, request: Request) -> Response:
    async def render() -> tuple[str, bool] | None:
        return _fragment(dash, "_demo.html", {"run": dash.demo}), False

    return stream(request, render)
