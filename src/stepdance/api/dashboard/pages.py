"""The dashboard's pages (GET): executions, one execution, orders, one order, dead letters, one dead letter,
scenario results, the report, the demo workload, the Eventarc triggers. Each renders a template; the parts that change while one
looks at them are fragments the live stream (:mod:`.live`) renders again."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from stepdance.api.dashboard import views
from stepdance.api.dashboard.context import Dashboard
from stepdance.awserror import AwsError
from stepdance.bus import shapes
from stepdance.faults import evidence
from stepdance.faults.timeline import order_timeline
from stepdance.gcp.eventarc_triggers import rule_name
from stepdance.observe.traces import order_traces
from stepdance.order.orders import DESIGNS, STATUSES

EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
PAGE = 25
SHOWN = 500  # rows of a long execution's tables (a history may hold 25,000 events): the latest ones


def page(dash: Dashboard, request: Request, template: str, code: int = 200, **values: Any) -> Response:
    return dash.templates.TemplateResponse(
        request, template, {"csrf": dash.csrf, "auth": bool(dash.keys), **values}, status_code=code
    )


def missing(dash: Dashboard, request: Request, what: str) -> Response:
    return page(dash, request, "missing.html", 404, what=what)


async def index(dash: Dashboard, request: Request) -> Response:
    return RedirectResponse("/dashboard/executions", 303)


async def executions(dash: Dashboard, request: Request) -> Response:
    machines = (await dash.sfn.list_state_machines(maxResults=1000))["stateMachines"]
    arns = {m["name"]: m["stateMachineArn"] for m in machines}
    design = request.query_params.get("design", "")
    shown: dict[str, Any] = {
        "machines": machines,
        "statuses": EXECUTION_STATUSES,
        "design": design,
        "choreographed": design == "choreographed",  # no executions: the page says where its orders are
        "chosen": "",
        "status": "",
        "rows": [],
        "token": None,
    }
    name = request.query_params.get("machine") or views.MACHINE_OF_DESIGN.get(design, "")
    name = name if name in arns else ("stepdance-order-saga" if "stepdance-order-saga" in arns else "")
    if shown["choreographed"] or not name:
        return page(dash, request, "executions.html", **shown)
    status = request.query_params.get("status", "")
    shown.update(
        chosen=name, design=views.design_of(arns[name]), status=status if status in EXECUTION_STATUSES else ""
    )
    asked: dict[str, Any] = {"stateMachineArn": arns[name], "maxResults": PAGE}
    if shown["status"]:
        asked["statusFilter"] = shown["status"]
    if request.query_params.get("token"):
        asked["nextToken"] = request.query_params["token"]
    try:
        listed = await dash.sfn.list_executions(**asked)
    except AwsError as error:
        return page(dash, request, "missing.html", 400, what=f"{error.code}: {error.message}")
    shown.update(rows=listed["executions"], token=listed.get("nextToken"))
    return page(dash, request, "executions.html", **shown)


async def execution_values(dash: Dashboard, arn: str) -> dict[str, Any] | None:
    """What the execution page and its live fragment show; None when there is no such execution."""
    try:
        described = await dash.sfn.describe_execution(executionArn=arn)
    except AwsError:
        return None
    history = await _history(dash, arn)
    machine = await dash.sfn.describe_state_machine(stateMachineArn=described["stateMachineArn"])
    workflows = views.is_workflows(machine["definition"])
    # a Workflows execution shows its step entries; a loop makes thousands, so the timeline draws the shown
    rows: list[Any] = views.entry_rows(history) if workflows else views.state_rows(history)
    return {
        "execution": described,
        "design": views.design_of(described["stateMachineArn"]),
        "workflows": workflows,
        "rows": rows[-SHOWN:],
        "hidden_rows": max(0, len(rows) - SHOWN),
        "history": history[-SHOWN:],
        "hidden_events": max(0, len(history) - SHOWN),
        "graph": views.graph(machine["definition"], history, machine["name"]),
        "timeline": views.timeline_svg(rows[-SHOWN:] if workflows else rows, time.time()),
        "running": described["status"] == "RUNNING",
        "redrivable": described.get("redriveStatus") == "REDRIVABLE",
        "input": views.pretty(described.get("input", "")),
        "output": views.pretty(described["output"]) if "output" in described else None,
        "order_id": _order_id(described.get("input", "")),
    }


async def _history(dash: Dashboard, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    token = None
    while True:
        page_of = await dash.sfn.get_execution_history(
            executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page_of["events"]
        token = page_of.get("nextToken")
        if not token:
            return events


def _order_id(text: str) -> str | None:
    try:
        found = json.loads(text).get("orderId")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


async def execution(dash: Dashboard, request: Request) -> Response:
    arn = request.query_params.get("arn", "")
    values = await execution_values(dash, arn)
    if values is None:
        return missing(dash, request, f"no execution {arn!r}")
    return page(dash, request, "execution.html", arn=arn, **values)


async def orders(dash: Dashboard, request: Request) -> Response:
    wanted = request.query_params.get("q", "").strip()
    if wanted:
        return RedirectResponse(f"/dashboard/order?id={quote(wanted, safe='')}", 303)
    design = request.query_params.get("design", "")
    status = request.query_params.get("status", "")
    before = request.query_params.get("before", "")
    listed = await asyncio.to_thread(
        dash.services.orders.recent,
        PAGE + 1,
        design=design if design in DESIGNS else None,
        status=status if status in STATUSES else None,
        before=float(before) if _number(before) else None,
    )
    more = listed[PAGE]["placedAt"] if len(listed) > PAGE else None
    return page(
        dash,
        request,
        "orders.html",
        rows=listed[:PAGE],
        design=design,
        status=status,
        designs=DESIGNS,
        statuses=STATUSES,
        more=listed[PAGE - 1]["placedAt"] if more else None,
    )


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


async def order_values(dash: Dashboard, order_id: str) -> dict[str, Any] | None:
    record = await asyncio.to_thread(dash.services.orders.get, order_id)
    if record is None:
        return None
    catalog = dash.events.catalog
    steps = await order_timeline(order_id, dash.services, dash.settings, engine=dash.sfn, catalog=catalog)
    traced = await asyncio.to_thread(_traces, dash, order_id)
    if traced:
        steps = sorted(steps + views.bus_steps(traced, record["placedAt"]), key=lambda s: s["at"])
        for step in steps:
            step.setdefault(
                "time", datetime.fromtimestamp(step["at"], UTC).isoformat(timespec="milliseconds")
            )
    letters = await asyncio.to_thread(_letters_of, catalog, order_id)
    execution_arn = None
    machine = views.MACHINE_OF_DESIGN.get(record["design"])
    if machine is not None:
        execution_arn = (
            f"arn:aws:states:{dash.settings.region}:{dash.settings.account}:execution:{machine}:{order_id}"
        )
    return {
        "order": record,
        "steps": steps,
        "picture": views.steps_svg(steps),
        "letters": letters,
        "execution_arn": execution_arn,
        "decided": record["status"] != "pending",
    }


TRACES_READ_LIMIT = (
    64 * 1024 * 1024
)  # bytes of span files read for one page; beyond, `stepdance trace` does it


def _traces(dash: Dashboard, order_id: str) -> list[Any]:
    """The order's traces when the span files are small enough to read for a page (they are read whole),
    read again only when a file changed: a live page asks every half second."""
    root = dash.settings.data_dir / "traces"
    files = sorted(root.glob("*.jsonl")) if root.exists() else []
    stats = [f.stat() for f in files]
    if not files or sum(st.st_size for st in stats) > TRACES_READ_LIMIT:
        return []
    seen = tuple((f.name, st.st_size, st.st_mtime_ns) for f, st in zip(files, stats, strict=True))
    cached = dash.traces.get(order_id)
    if cached is None or cached[0] != seen:
        cached = (seen, order_traces(root, order_id))
        dash.traces = {order_id: cached}  # the page looked at now; others are read again when asked
    return cached[1]


def _letters_of(catalog: Any, order_id: str) -> list[dict[str, Any]]:
    """The order's dead letters, as DescribeDeadLetter shapes them."""
    return [
        shapes.dead_letter(x, full=True)
        for x in evidence.dead_letters(catalog)
        if evidence.order_of(x.body) == order_id
    ]


async def order(dash: Dashboard, request: Request) -> Response:
    order_id = request.query_params.get("id", "")
    values = await order_values(dash, order_id)
    if values is None:
        return missing(dash, request, f"no order {order_id!r} in the orders view")
    return page(dash, request, "order.html", order_id=order_id, **values)


async def dead_letters(dash: Dashboard, request: Request) -> Response:
    asked: dict[str, Any] = {"Limit": 100}
    for key, name in (("token", "NextToken"), ("bus", "EventBusName"), ("rule", "Rule")):
        if request.query_params.get(key):
            asked[name] = request.query_params[key]
    try:
        listed = await dash.events.list_dead_letters(**asked)
    except AwsError as error:
        return page(dash, request, "missing.html", 400, what=f"{error.code}: {error.message}")
    return page(
        dash,
        request,
        "dlq.html",
        letters=listed["DeadLetters"],
        token=listed.get("NextToken"),
        rule=asked.get("Rule", ""),
        bus=asked.get("EventBusName", ""),
    )


async def triggers(dash: Dashboard, request: Request) -> Response:
    """The Eventarc triggers: what each filters, where it delivers, how, and its dead letters."""
    found = [] if dash.triggers is None else await dash.triggers.list_triggers()
    rows = []
    for trigger in found:
        rule = rule_name(trigger.id)
        letters = await dash.events.list_dead_letters(EventBusName=trigger.event_bus, Rule=rule, Limit=100)
        rows.append({"trigger": trigger, "rule": rule, "letters": len(letters["DeadLetters"])})
    return page(dash, request, "triggers.html", rows=rows)


async def dead_letter(dash: Dashboard, request: Request) -> Response:
    letter_id = request.query_params.get("id", "")
    try:
        letter = await dash.events.describe_dead_letter(Id=letter_id)
    except AwsError:
        return missing(dash, request, f"no dead letter {letter_id!r}")
    event = views.pretty(letter.get("Event", ""))
    order_id = evidence.order_of(letter.get("Event", ""))
    return page(dash, request, "dead_letter.html", letter=letter, event=event, order_id=order_id)


def _report_dir(dash: Dashboard) -> Any:
    return dash.settings.data_dir / "report"


async def scenarios(dash: Dashboard, request: Request) -> Response:
    path = _report_dir(dash) / "report.json"
    found: dict[str, Any] | None = None
    if path.exists():
        try:
            found = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
        except (OSError, ValueError):
            found = None
    runs = list(found.get("outcomes", [])) if found else []
    when = found.get("when", "") if found else ""
    return page(
        dash, request, "scenarios.html", runs=runs, when=when, found=found is not None, where=str(path)
    )


async def report(dash: Dashboard, request: Request) -> Response:
    path = _report_dir(dash) / "report.html"
    if not path.exists():
        return missing(dash, request, f"no report yet in {path.parent}: run `stepdance report` or the demo")
    # the report is self-contained (inline SVG and CSS, no script): it may style itself, never run code
    return FileResponse(
        path,
        media_type="text/html",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:"},
    )


async def demo(dash: Dashboard, request: Request) -> Response:
    return page(dash, request, "demo.html", run=dash.demo, designs=list(dash.designs))
