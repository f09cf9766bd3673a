"""The order services over HTTP, under ``stepdance serve``: what a Cloud Workflows definition (or any HTTP
client) calls to charge, reserve, notify and decide an order.

``POST /services/<service>/<operation>`` with the operation's JSON input (the task resources' inputs, see
:mod:`stepdance.order.designs.tasks`): ``payment/charge`` and ``inventory/reserve`` take the order,
``payment/refund``, ``inventory/release`` and ``orders/complete`` take ``{"orderId"}``,
``notification/send`` ``{"orderId", "kind", "to"}``, ``orders/cancel`` ``{"orderId", "reason"}`` and
``orders/accept`` ``{"order", "design"}``. The answer is the service's record as JSON (``null`` when there
was nothing to undo). Every operation is idempotent by order id, so a caller may retry any of them.

A domain outcome is an HTTP status a caller's retry policy can tell apart, with ``{"error", "cause"}``:

=======================  ======  ==================================================
error                    status  meaning
=======================  ======  ==================================================
PaymentDeclined          402     the card or the amount is refused (final)
OutOfStock               409     fewer units left than the order wants (final)
UnknownOrder             404     the orders view has not seen the order (yet)
InvalidInput             400     the body is not what the operation takes
NotificationUndeliverable 422    the mail server refused the message (final)
ServiceFailed            500     the service is broken for this order
ServiceUnavailable       503     transient: nothing was changed, try again
=======================  ======  ==================================================

They run through the same calls as the engine's tasks (the services' group commit). With access keys
configured they ask for one, as the dashboard does (HTTP Basic: key id and secret).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from stepdance.engine import TaskFailure
from stepdance.order.designs.tasks import Handler

STATUS = {
    "PaymentDeclined": 402,
    "OutOfStock": 409,
    "UnknownOrder": 404,
    "InvalidInput": 400,
    "NotificationUndeliverable": 422,
    "ServiceFailed": 500,
    "ServiceUnavailable": 503,
}
MAX_BODY = 262_144


def routes(handlers: dict[str, Handler], refused: Callable[[Request], Response | None]) -> list[BaseRoute]:
    """``handlers``: the saga's task handlers by resource (``stepdance:payment.charge``: ...); ``refused``:
    the answer to a request without the access key when one is needed (the dashboard's guard)."""

    async def call(request: Request) -> Response:
        unwelcome = refused(request)
        if unwelcome is not None:
            return unwelcome
        service, operation = request.path_params["service"], request.path_params["operation"]
        handler = handlers.get(f"stepdance:{service}.{operation}")
        if handler is None:
            known = sorted(r.removeprefix("stepdance:").replace(".", "/") for r in handlers)
            return _error(404, "UnknownOperation", f"no {service}/{operation}: one of {', '.join(known)}")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, "InvalidInput", f"the body is over {MAX_BODY} bytes")
        try:
            payload = orjson.loads(body or b"null")
        except orjson.JSONDecodeError as error:
            return _error(400, "InvalidInput", f"the body is not JSON: {error}")
        try:
            result = await handler(payload)
        except TaskFailure as failure:
            return _error(STATUS.get(failure.error, 500), failure.error, failure.cause or "")
        return Response(orjson.dumps(result), 200, media_type="application/json")

    return [Route("/services/{service}/{operation}", call, methods=["POST"])]


def _error(status: int, error: str, cause: str) -> Response:
    return Response(orjson.dumps({"error": error, "cause": cause}), status, media_type="application/json")
