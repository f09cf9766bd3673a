"""A Cloud Workflows execution on the dashboard: a row per step entry (routine, step, type, thread, status,
line, times, output or error, tries and retries, its ``sys.log`` lines), the timeline over them and the
workflow's graph with the path marked. Histories come from the simulator; the pages are served by the
dashboard's own routes over an engine double answering with them, and once by a real ``stepdance serve``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette

from stepdance.api.dashboard import routes, views
from stepdance.api.dashboard.context import Dashboard
from stepdance.gcw.simulate import Outcome, simulate
from stepdance.gcw.syntax import parse
from tests.api.served import Served, eventually, serving
from tests.gcw.test_machine_support import EXAMPLES, example
from tests.gcw.test_simulate_saga import Shop

pytestmark = pytest.mark.timeout(10)

NASTY = """
main:
  params: [input]
  steps:
    - note:
        call: sys.log
        args:
          text: ${input.text}
          severity: WARNING
    - keep:
        assign:
          - kept: ${input.text}
    - fail:
        try:
          raise: ${input.text}
        except:
          as: e
          steps:
            - done:
                return: ${e}
"""
EVIL = "<script>alert(1)</script>"
ARN = "arn:aws:states:us-east-1:123456789012:execution:wf:e-1"


def _compensation() -> Outcome:
    return Shop(reserve=[503, 409]).run()


def test_each_step_entry_is_a_row_with_its_type_thread_output_error_and_retries() -> None:
    outcome = _compensation()
    rows = views.entry_rows(outcome.events)
    assert len(rows) == sum(e["type"] == "StepEntryStarted" for e in outcome.events)
    assert all(r.status in ("succeeded", "failed", "retried") and r.exited is not None for r in rows)
    init = rows[0]
    assert (init.routine, init.step, init.step_type, init.thread, init.line) == (
        "main",
        "init",
        "ASSIGN",
        "t0",
        6,
    )
    assert init.output is not None and '"payments": "http://payments"' in init.output
    assert init.brief.startswith('{"payments":"http://payments"') and init.brief.endswith("…")
    calls = [r for r in rows if r.step == "reserve" and r.step_type == "STD_LIB_CALL"]
    assert [(r.status, r.tasks) for r in calls] == [("failed", 1), ("failed", 1)]
    assert calls[0].error == "HTTP server responded with error code 503"
    assert calls[0].exception is not None and '"code": 503' in calls[0].exception
    (attempt,) = [r for r in rows if r.step_type == "RETRY"]
    assert attempt.note == "retry 1 after 1.0 s" and attempt.error == calls[0].error
    (held,) = [r for r in rows if r.step == "reserve" and r.step_type == "TRY_RETRY_EXCEPT"]
    assert (held.retries, held.status) == (1, "retried")
    (compensate,) = [r for r in rows if r.step == "compensate"]
    refund = [r for r in rows if r.routine == "refund"]
    assert compensate.output is not None and "ch-1" in compensate.output
    assert min(r.depth for r in refund) > compensate.depth > held.depth
    assert compensate.times == "00:00:01.000 to 00:00:01.000"


def test_log_lines_belong_to_their_step_and_switch_and_parallel_entries_say_which() -> None:
    switch = simulate(example("switch"), "{}", http=lambda r: {"SomeField": 50})
    rows = {(r.step, r.step_type): r for r in views.entry_rows(switch.events)}
    assert rows["medium_log", "STD_LIB_CALL"].logs == ['INFO: "medium"']
    assert rows["where_to_jump", "SWITCH"].note == "condition [1] held"
    parallel = simulate(
        example("parallel"), json.dumps({"user_id": "u", "order_ids": [1, 2]}), http=lambda r: {"amount": 3}
    )
    rows = {(r.step, r.note): r for r in views.entry_rows(parallel.events)}
    branch = rows["get_user", "branch get_user"]
    assert branch.thread != "t0" and branch.depth == rows["fetch_both", ""].depth + 1
    assert rows["sum_in_parallel", "iteration 1"].step_type == "FOR_ITERATION"


def test_a_running_execution_has_open_entries_and_a_failed_one_fails_them() -> None:
    events = _compensation().events
    cut = next(i for i, e in enumerate(events) if e["type"] == "TaskScheduled") + 1
    rows = views.entry_rows(events[:cut])
    assert [r.status for r in rows] == ["succeeded", "running", "running"]
    assert rows[-1].tasks == 1 and rows[-1].seconds is None
    picture = views.timeline_svg(rows, now=events[0]["timestamp"] + 2)
    assert picture.count("<rect") == 3 and "2000 ms" in picture
    stopped = views.entry_rows([*events[:cut], {"type": "ExecutionAborted", "timestamp": 0.0}])
    assert [r.status for r in stopped] == ["succeeded", "cancelled", "cancelled"]


def test_a_definition_that_cannot_be_drawn_is_said_not_raised() -> None:
    drawn = views.graph("<not json>", [], "broken")
    assert drawn.startswith('<p class="problem">The definition cannot be drawn') and "<not" not in drawn


class Engine:
    """The engine's client as the dashboard's execution page uses it, answering with one history."""

    def __init__(self, definition: str, events: list[dict[str, Any]], status: str = "SUCCEEDED") -> None:
        self.definition, self.status = definition, status
        self.events = [{**e, "timestamp": datetime.fromtimestamp(e["timestamp"], UTC)} for e in events]

    async def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return {
            "executionArn": executionArn,
            "name": "e-1",
            "stateMachineArn": ARN.replace(":execution:wf:e-1", ":stateMachine:wf"),
            "status": self.status,
            "startDate": self.events[0]["timestamp"],
            "input": "{}",
        }

    async def get_execution_history(self, executionArn: str, **_: Any) -> dict[str, Any]:
        return {"events": self.events}

    async def describe_state_machine(self, stateMachineArn: str) -> dict[str, Any]:
        return {"name": "wf", "definition": self.definition}


async def _page(engine: Engine) -> str:
    dash = Dashboard(engine, None, None, None, {})  # type: ignore[arg-type]  # the page asks the engine only
    app = httpx.ASGITransport(app=Starlette(routes=routes(dash)))
    async with httpx.AsyncClient(transport=app, base_url="http://dashboard") as web:
        answer = await web.get(f"/dashboard/execution?arn={quote(ARN)}")
    assert answer.status_code == 200
    return answer.text


async def test_the_page_shows_the_workflow_step_entries_and_the_marked_graph() -> None:
    outcome = _compensation()
    page = await _page(Engine((EXAMPLES / "order_saga.yaml").read_text(), outcome.events))
    assert "<h2>Workflow</h2>" in page and "<h2>Step entries</h2>" in page and 'id="states"' not in page
    assert page.count("<tr class=") == len(views.entry_rows(outcome.events))
    assert "class='node failed'" in page and "refund_call" in page  # the graph, reserve caught
    assert "HTTP server responded with error code 409" in page and "SUBWORKFLOW_CALL" in page
    assert 'class="timeline"' in page and "compensate · subworkflow_call" in page


async def test_user_data_in_logs_outputs_and_errors_is_escaped() -> None:
    outcome = simulate(parse(NASTY), json.dumps({"text": EVIL}))
    assert outcome.status == "SUCCEEDED", outcome.cause
    page = await _page(Engine(NASTY, outcome.events))
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "WARNING: &#34;&lt;script&gt;" in page  # the log line, on its step's row


async def test_a_running_workflows_execution_shows_its_open_entries() -> None:
    events = _compensation().events
    cut = next(i for i, e in enumerate(events) if e["type"] == "TaskScheduled") + 1
    page = await _page(Engine((EXAMPLES / "order_saga.yaml").read_text(), events[:cut], "RUNNING"))
    assert page.count('<tr class="running"') == 2 and "class='node taken'" in page


async def test_an_asl_execution_page_keeps_its_states_table() -> None:
    asl = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    events = [
        {"type": "ExecutionStarted", "timestamp": 0.0},
        {
            "type": "PassStateEntered",
            "timestamp": 0.0,
            "stateEnteredEventDetails": {"name": "P", "input": "{}"},
        },
        {
            "type": "PassStateExited",
            "timestamp": 0.1,
            "stateExitedEventDetails": {"name": "P", "output": "{}"},
        },
        {"type": "ExecutionSucceeded", "timestamp": 0.1},
    ]
    page = await _page(Engine(json.dumps(asl), events))
    assert "<h2>State machine</h2>" in page and 'id="states"' in page and "Step entries" not in page


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("dashboard-workflows")) as served:
        yield served


@pytest.mark.timeout(60)
def test_a_workflows_execution_run_by_the_engine_shows_its_step_entries(server: Served) -> None:
    sfn = server.client("stepfunctions")
    try:
        machine = sfn.create_state_machine(
            name=f"wf-{uuid.uuid4().hex[:6]}", definition=NASTY, roleArn="arn:aws:iam::123456789012:role/test"
        )
    except sfn.exceptions.InvalidDefinition:
        pytest.skip("engine support pending: the engine refuses Workflows definitions")
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps({"text": EVIL}))[
        "executionArn"
    ]
    eventually(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    page = httpx.get(f"{server.url}/dashboard/execution?arn={quote(arn)}", timeout=30).text
    assert "<h2>Step entries</h2>" in page and "TRY_RETRY_EXCEPT" in page
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
