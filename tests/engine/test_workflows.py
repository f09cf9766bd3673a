"""Cloud Workflows definitions on the durable engine: HTTP calls sent for real, timers, errors, env, logs,
stop and redrive, the Pub/Sub connector onto the bus, and a taken-over execution's trace."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stepdance import telemetry
from stepdance.bus import Bus, handler_arn
from stepdance.bus import Client as EventsClient
from stepdance.engine import Client, Engine, TaskContext
from stepdance.engine.errors import InvalidDefinition
from stepdance.engine.languages import ASL, WORKFLOWS, language_of
from stepdance.settings import Settings
from stepdance.store import open_store
from tests.bus.core_fixtures import bus, bus_name, catalog, clock, events, settings, transport, transport_kind
from tests.engine.machines import ROLE, history

__all__ = ["bus", "bus_name", "catalog", "clock", "events", "settings", "transport", "transport_kind"]

pytestmark = pytest.mark.timeout(60)


class Service(BaseHTTPRequestHandler):
    """A real HTTP service: /echo answers what it got, /flaky 503 twice then 200, /bad 400, /slow later."""

    calls: Counter[str] = Counter()

    def log_message(self, *_: Any) -> None:  # keep pytest's output clean
        pass

    def _answer(self, code: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        Service.calls[path] += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        if path == "/echo":
            self._answer(
                200,
                {
                    "method": self.command,
                    "query": query,
                    "body": json.loads(body) if body else None,
                    "type": self.headers.get("Content-Type"),
                    "key": self.headers.get("X-Key"),
                },
            )
        elif path == "/flaky":
            self._answer(503 if Service.calls[path] <= 2 else 200, {"attempt": Service.calls[path]})
        elif path == "/bad":
            self._answer(400, {"error": "no such card"})
        elif path == "/slow":
            threading.Event().wait(3)
            self._answer(200, {})
        else:
            self._answer(404, {"error": path})

    do_GET = do_POST = do_PUT = do_DELETE = _handle


@pytest.fixture
def service() -> Iterator[str]:
    Service.calls = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    store = open_store(f"sqlite:///{tmp_path / 'engine.db'}")
    running = Engine(store, Settings(poll_seconds=0.05, lease_seconds=2.0))
    await running.start()
    yield running
    await running.stop()
    store.close()


async def run(engine: Engine, yaml: str, argument: Any = None, name: str = "wf") -> dict[str, Any]:
    client = Client(engine)
    sm = await client.create_state_machine(name=name, definition=yaml, roleArn=ROLE)
    started = await client.start_execution(
        stateMachineArn=sm["stateMachineArn"], input=json.dumps(argument if argument is not None else {})
    )
    await engine.wait(started["executionArn"], seconds=30)
    return await client.describe_execution(executionArn=started["executionArn"])


def output(described: dict[str, Any]) -> Any:
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


def test_the_language_is_told_by_the_definition_text() -> None:
    assert language_of('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}') == ASL
    assert language_of("main:\n  steps:\n    - done:\n        return: 1\n") == WORKFLOWS
    assert language_of('{"main": {"steps": [{"done": {"return": 1}}]}}') == WORKFLOWS
    assert language_of("- only:\n    return: 1\n") == WORKFLOWS
    assert language_of("{not json") == ASL  # reported as bad JSON, what an ASL author expects
    assert language_of("main:\n  steps: [oops") == WORKFLOWS  # reported with its YAML line


async def test_http_calls_are_sent_for_real_and_answered_with_code_headers_and_body(
    engine: Engine, service: str
) -> None:
    yaml = f"""
main:
  params: [order]
  steps:
    - charge:
        call: http.post
        args:
          url: {service}/echo
          query: {{currency: EUR, tries: 2}}
          headers: {{X-Key: secret}}
          body: {{orderId: '${{order.orderId}}', amount: 12.5}}
        result: charged
    - done:
        return: {{code: '${{charged.code}}', body: '${{charged.body}}'}}
"""
    result = output(await run(engine, yaml, {"orderId": "o-1"}))
    assert result["code"] == 200
    assert result["body"] == {
        "method": "POST",
        "query": "currency=EUR&tries=2",
        "body": {"orderId": "o-1", "amount": 12.5},
        "type": "application/json",
        "key": "secret",
    }


async def test_default_retry_retries_a_503_with_back_off_and_the_history_shows_every_attempt(
    engine: Engine, service: str
) -> None:
    yaml = f"""
main:
  steps:
    - reserve:
        try:
          call: http.get
          args: {{url: {service}/flaky}}
          result: reserved
        retry:
          predicate: ${{http.default_retry_predicate}}
          max_retries: 3
          backoff: {{initial_delay: 0.1, max_delay: 1, multiplier: 2}}
    - done:
        return: ${{reserved.body.attempt}}
"""
    described = await run(engine, yaml)
    assert output(described) == 3
    events = await history(Client(engine), described["executionArn"])
    assert [e["type"] for e in events].count("TaskScheduled") == 3
    failed = [e for e in events if e["type"] == "TaskSucceeded"]
    assert len(failed) == 3  # two 503 answers are responses too: the interpreter raises HttpError
    entries = [e["stepEntryDetails"] for e in events if e["type"].startswith("StepEntry")]
    assert {(d["step"], d["line"]) for d in entries} >= {("reserve", 5), ("done", 13)}


async def test_errors_without_a_response_carry_workflows_tags(engine: Engine, service: str) -> None:
    yaml = f"""
main:
  steps:
    - init:
        assign:
          - tags: []
    - bad:
        try:
          call: http.get
          args: {{url: {service}/bad}}
        except:
          as: e
          steps:
            - keep:
                assign:
                  - tags: ${{list.concat(tags, [e.tags, e.code, e.body.error])}}
    - refused:
        try:
          call: http.get
          args: {{url: "http://127.0.0.1:1/none"}}
        except:
          as: e
          steps:
            - keep_refused:
                assign:
                  - tags: ${{list.concat(tags, [e.tags])}}
    - slow:
        try:
          call: http.get
          args: {{url: {service}/slow, timeout: 0.3}}
        except:
          as: e
          steps:
            - keep_slow:
                assign:
                  - tags: ${{list.concat(tags, [e.tags])}}
    - done:
        return: ${{tags}}
"""
    assert output(await run(engine, yaml)) == [  # list.concat appends its value as one item
        [["HttpError"], 400, "no such card"],
        [["ConnectionFailedError"]],
        [["TimeoutError"]],
    ]


async def test_sleep_env_and_log_run_on_the_engine(engine: Engine) -> None:
    engine.workflow_env["PAYMENTS_URL"] = "http://payments.local"
    yaml = """
main:
  steps:
    - nap:
        call: sys.sleep
        args: {seconds: 0.2}
    - note:
        call: sys.log
        args: {text: napped, severity: INFO}
    - done:
        return:
          url: ${sys.get_env("PAYMENTS_URL")}
          workflow: ${sys.get_env("GOOGLE_CLOUD_WORKFLOW_ID")}
"""
    described = await run(engine, yaml, name="napper")
    assert output(described) == {"url": "http://payments.local", "workflow": "napper"}
    events = await history(Client(engine), described["executionArn"])
    (log,) = [e for e in events if e["type"] == "LogWritten"]
    assert log["logWrittenEventDetails"] == {"severity": "INFO", "payload": '"napped"'}
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


async def test_an_unhandled_error_fails_the_execution_with_its_first_tag(engine: Engine) -> None:
    yaml = """
main:
  steps:
    - divide:
        return: ${1 / 0}
"""
    described = await run(engine, yaml)
    assert described["status"] == "FAILED"
    assert described["error"] == "ZeroDivisionError"
    assert json.loads(described["cause"])["tags"] == ["ZeroDivisionError", "ArithmeticError"]


async def test_a_bad_definition_is_refused_with_its_line_and_validation_lists_every_problem(
    engine: Engine,
) -> None:
    client = Client(engine)
    yaml = "main:\n  steps:\n    - a:\n        next: nowhere\n"
    with pytest.raises(InvalidDefinition, match="line 4"):
        await client.create_state_machine(name="bad", definition=yaml, roleArn=ROLE)
    report = await client.validate_state_machine_definition(definition=yaml)
    assert report["result"] == "FAIL"
    assert report["diagnostics"][0]["location"].startswith("line 4: ")
    good = "main:\n  steps:\n    - a:\n        return: 1\n"
    assert (await client.validate_state_machine_definition(definition=good))["result"] == "OK"


async def test_stop_aborts_a_sleeping_execution_and_redrive_resumes_a_failed_one(
    engine: Engine, service: str
) -> None:
    client = Client(engine)
    sleeper = "main:\n  steps:\n    - nap:\n        call: sys.sleep\n        args: {seconds: 60}\n"
    sm = await client.create_state_machine(name="sleeper", definition=sleeper, roleArn=ROLE)
    arn = (await client.start_execution(stateMachineArn=sm["stateMachineArn"]))["executionArn"]
    await client.stop_execution(executionArn=arn, error="Stopped", cause="by the test")
    assert (await engine.wait(arn, 10)).status == "ABORTED"

    # /flaky answers 503 twice: with no retry the first run fails, a redrive runs the step again
    flaky = f"""
main:
  steps:
    - first:
        call: http.get
        args: {{url: {service}/echo}}
    - reserve:
        call: http.get
        args: {{url: {service}/flaky}}
        result: r
    - done:
        return: ${{r.body.attempt}}
"""
    described = await run(engine, flaky, name="flaky")
    assert described["status"] == "FAILED" and described["error"] == "HttpError"
    for attempt in (2, 3):
        await client.redrive_execution(executionArn=described["executionArn"])
        record = await engine.wait(described["executionArn"], 10)
        if attempt == 2:
            assert record.status == "FAILED"
    assert json.loads(record.output or "null") == 3
    assert Service.calls["/echo"] == 1  # the steps before the failed one did not run again


async def test_the_pubsub_publish_connector_publishes_onto_the_bus(
    bus: Bus, events: EventsClient, bus_name: str, settings: Settings
) -> None:
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    bus.register("collect", received.put_nowait)
    await events.put_rule(Name="all", EventBusName=bus_name, EventPattern='{"source": ["shop"]}')
    target = {"Id": "collect", "Arn": handler_arn(bus.settings, "collect")}
    await events.put_targets(Rule="all", EventBusName=bus_name, Targets=[target])
    store = open_store("memory://")
    yaml = f"""
main:
  params: [order]
  steps:
    - publish:
        call: googleapis.pubsub.v1.projects.topics.publish
        args:
          topic: projects/local/topics/orders
          body:
            messages:
              - data: ${{base64.encode(json.encode(order))}}
                attributes: {{source: shop, type: OrderCompleted, eventBusName: {bus_name}, region: eu}}
        result: published
    - done:
        return: ${{published.messageIds}}
"""
    async with Engine(store, settings, events=events) as engine:
        ids = output(await run(engine, yaml, {"orderId": "o-9", "total": 3}))
    event = await asyncio.wait_for(received.get(), 10)
    assert ids == [event["id"]]
    assert event["source"] == "shop" and event["detail-type"] == "OrderCompleted"
    assert event["detail"] == {"orderId": "o-9", "total": 3, "attributes": {"region": "eu"}}
    store.close()


async def test_a_taken_over_workflows_execution_is_one_trace_with_a_span_per_step_entry(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, lease_seconds=1.0, poll_seconds=0.05)
    store = open_store(settings.store)
    yaml = """
main:
  steps:
    - work:
        call: googleapis.test.v1.work
        result: w
    - done:
        return: ${w}
"""
    invoked = asyncio.Event()

    async def stuck(payload: Any, context: TaskContext) -> None:
        invoked.set()
        await asyncio.Event().wait()

    try:
        dead = Engine(store, settings, owner="dead")
        dead.register("googleapis.test.v1.work", stuck)
        await dead.start()
        client = Client(dead)
        sm = await client.create_state_machine(name="traced", definition=yaml, roleArn=ROLE)
        header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        arn = (await client.start_execution(stateMachineArn=sm["stateMachineArn"], traceHeader=header))[
            "executionArn"
        ]
        await asyncio.wait_for(invoked.wait(), 10)
        await dead.stop(release_leases=False)
        async with Engine(store, settings, owner="alive") as alive:
            alive.register("googleapis.test.v1.work", lambda payload: "worked")
            assert (await alive.wait(arn, seconds=15)).status == "SUCCEEDED"
    finally:
        store.close()
    telemetry.flush()
    spans = [s for s in telemetry.read_spans(tmp_path / "traces") if s["traceId"] == header.split("-")[1]]
    names = [s["name"] for s in spans]
    assert names.count("work") == 1 and names.count("done") == 1
    assert names.count("task work") == 2  # the dead worker's and the new one's
    ids = {s["spanId"] for s in spans}
    execution = next(s for s in spans if s["name"].startswith("execution "))
    assert all(s["parentSpanId"] in ids for s in spans if s is not execution)
    work = next(s for s in spans if s["name"] == "work")
    assert all(s["parentSpanId"] == work["spanId"] for s in spans if s["name"] == "task work")
