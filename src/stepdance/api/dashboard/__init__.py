"""The web dashboard under ``/dashboard`` of ``stepdance serve``: executions, orders across the services,
dead letters, scenario results and the report, live while they run, with the operator's actions. Pages are
rendered on the server (Jinja2, every value escaped); the one script and the stylesheet are served from the
package: nothing is fetched from the network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from stepdance.api.dashboard import actions, live, pages
from stepdance.api.dashboard.context import HERE, Dashboard

# Pages may load the dashboard's own script and styles and nothing else; SVG is inline.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

Endpoint = Callable[[Dashboard, Request], Awaitable[Response]]


def routes(dash: Dashboard) -> list[BaseRoute]:
    def guarded(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            refused = dash.refused(request)
            if refused is not None:
                return refused
            response = await endpoint(dash, request)
            response.headers.setdefault("Content-Security-Policy", POLICY)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            return response

        return run

    get = {
        "": pages.index,
        "/executions": pages.executions,
        "/execution": pages.execution,
        "/execution/live": live.execution,
        "/orders": pages.orders,
        "/order": pages.order,
        "/order/live": live.order,
        "/dlq": pages.dead_letters,
        "/dead-letter": pages.dead_letter,
        "/triggers": pages.triggers,
        "/scenarios": pages.scenarios,
        "/report": pages.report,
        "/demo": pages.demo,
        "/demo/live": live.demo,
    }
    found: list[BaseRoute] = [
        Route(f"/dashboard{path}", guarded(fn), methods=["GET"]) for path, fn in get.items()
    ]
    found.append(Route("/dashboard/actions/{action}", guarded(actions.act), methods=["POST"]))
    found.append(Mount("/dashboard/static", StaticFiles(directory=str(HERE / "static")), name="static"))
    found.append(Route("/favicon.ico", _no_icon, methods=["GET"]))
    return found


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204)  # browsers ask for it; a 404 would be an error in their console
