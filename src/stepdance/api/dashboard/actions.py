"""What an operator may do from the dashboard (POST): stop or redrive an execution, redrive dead letters,
start the demo workload. Each first answers a page that asks for confirmation (nothing is done); the
confirmed form does it and shows the result. Every form carries the dashboard's token (see
:meth:`Dashboard.forged`), and the dashboard's auth covers these as it covers the pages."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from stepdance.api.dashboard.context import Dashboard, DemoRun
from stepdance.api.dashboard.pages import page
from stepdance.awserror import AwsError
from stepdance.order import workload
from stepdance.order.run import run_orders

DEMO_MAX = 1000


async def act(dash: Dashboard, request: Request) -> Response:
    form = await request.form()
    if dash.forged(request, str(form.get("csrf", ""))):
        return page(
            dash,
            request,
            "result.html",
            403,
            ok=False,
            title="Refused",
            message="This form did not come from this dashboard (its token is missing or wrong).",
        )
    action = request.path_params["action"]
    do = ACTIONS.get(action)
    if do is None:
        return page(dash, request, "missing.html", 404, what=f"no action {action!r}")
    question, fields = _what(action, form)
    if form.get("confirmed") != "yes":
        return page(dash, request, "confirm.html", action=action, question=question, fields=fields)
    try:
        ok, message, links = await do(dash, form)
    except AwsError as error:
        ok, message, links = False, f"{error.code}: {error.message}", []
    return page(
        dash, request, "result.html", 200 if ok else 400, ok=ok, title=question, message=message, links=links
    )


def _what(action: str, form: FormData) -> tuple[str, list[tuple[str, str]]]:
    """The question the confirmation asks, and the form's fields to send again."""
    fields = [(k, str(v)) for k, v in form.multi_items() if k not in ("csrf", "confirmed")]
    if action == "stop":
        return f"Stop the execution {form.get('arn', '')}?", fields
    if action == "redrive":
        return f"Redrive the execution {form.get('arn', '')} from the state where it stopped?", fields
    if action == "redrive-letters":
        ids = form.getlist("id")
        return f"Send {len(ids)} dead letter(s) back to their targets?", fields
    return f"Place {form.get('orders', '')} demo orders on each design?", fields


async def _stop(dash: Dashboard, form: FormData) -> tuple[bool, str, list[tuple[str, str]]]:
    arn = str(form.get("arn", ""))
    stopped = await dash.sfn.stop_execution(
        executionArn=arn, error="Operator", cause="stopped from the dashboard"
    )
    return True, f"Stopped at {stopped['stopDate']:%H:%M:%S}.", [(_execution_link(arn), "the execution")]


async def _redrive(dash: Dashboard, form: FormData) -> tuple[bool, str, list[tuple[str, str]]]:
    arn = str(form.get("arn", ""))
    await dash.sfn.redrive_execution(executionArn=arn)
    return True, "Redriven: it runs again from the state that failed.", [(_execution_link(arn), "follow it")]


async def _redrive_letters(dash: Dashboard, form: FormData) -> tuple[bool, str, list[tuple[str, str]]]:
    ids = [str(i) for i in form.getlist("id")]
    if not ids:
        return False, "No dead letter was selected.", [("/dashboard/dlq", "the dead letters")]
    answer = await dash.events.redrive_dead_letters(Ids=ids)
    failed = answer.get("FailedEntries", [])
    message = f"{answer['RedrivenCount']} sent back to their targets."
    if failed:
        message += " Not sent: " + "; ".join(f"{f['Id']}: {f['ErrorMessage']}" for f in failed)
    links = [(f"/dashboard/order?id={order}", f"order {order}") for order in form.getlist("order") if order]
    return not failed, message, [*links, ("/dashboard/dlq", "the dead letters")]


async def _demo(dash: Dashboard, form: FormData) -> tuple[bool, str, list[tuple[str, str]]]:
    text = str(form.get("orders", ""))
    if not text.isdigit() or not 1 <= int(text) <= DEMO_MAX:
        return (
            False,
            f"orders must be a whole number from 1 to {DEMO_MAX}, not {text!r}.",
            [("/dashboard/demo", "back")],
        )
    if dash.demo.running:
        return False, "A demo workload is running already.", [("/dashboard/demo", "follow it")]
    dash.demo = DemoRun(orders=int(text), started=time.time(), running=True)
    task = asyncio.get_running_loop().create_task(_run_demo(dash, dash.demo))
    _background.add(task)
    task.add_done_callback(_background.discard)
    return True, f"Placing {text} orders on each design.", [("/dashboard/demo", "follow it")]


_background: set[asyncio.Task[None]] = set()


async def _run_demo(dash: Dashboard, run: DemoRun) -> None:
    stamp = time.strftime("%H%M%S")
    try:
        for name, design in dash.designs.items():
            batch = workload.orders(
                run.orders, seed=int(run.started) % 1000, prefix=f"demo-{stamp}-{name[:5]}"
            )
            result = await run_orders(design, batch, concurrency=16, timeout=120)
            run.results[name] = {**result.to_json(), "first": batch[0].order_id if batch else ""}
    except Exception as error:  # shown on the demo page; the server goes on
        run.error = f"{type(error).__name__}: {error}"
    finally:
        run.running = False


def _execution_link(arn: str) -> str:
    return f"/dashboard/execution?arn={quote(arn, safe='')}"


ACTIONS: dict[str, Any] = {
    "stop": _stop,
    "redrive": _redrive,
    "redrive-letters": _redrive_letters,
    "demo": _demo,
}
