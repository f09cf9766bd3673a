"""The Step Functions API over HTTP, driven by boto3 exactly as code written for AWS drives it."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stepdance.order import orders as orders_view
from tests.api.served import Served, eventually

ROLE = "arn:aws:iam::123456789012:role/test"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}})


def start_order(sfn: Any, state_machine_arn: str, order_id: str) -> Any:
    # what a user writes against AWS, unchanged
    return sfn.start_execution(stateMachineArn=state_machine_arn, input=json.dumps({"orderId": order_id}))


def finished(sfn: Any, arn: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=arn)
        return None if described["status"] == "RUNNING" else described

    result: dict[str, Any] = eventually(done)
    return result


def machine(sfn: Any, definition: str = PASS, prefix: str = "m") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return str(sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)["stateMachineArn"])


def saga_arn(sfn: Any) -> str:
    machines = sfn.list_state_machines()["stateMachines"]
    return next(m["stateMachineArn"] for m in machines if m["name"] == "stepdance-order-saga")


def test_start_execution_on_the_order_state_machine_runs_the_orchestrated_saga(
    served: Served, sfn: Any
) -> None:
    order_id = f"api-{uuid.uuid4().hex[:8]}"
    started = start_order(sfn, saga_arn(sfn), order_id)
    assert isinstance(started["startDate"], datetime)
    ended = finished(sfn, started["executionArn"])
    assert ended["status"] == "SUCCEEDED", ended
    output = json.loads(ended["output"])
    assert output["orderId"] == order_id and output["order"] == {"status": "completed"}
    record = served.orders_record(order_id)
    assert record is not None and record["status"] == orders_view.COMPLETED
    assert record["design"] == "orchestrated"


def test_the_history_pages_with_next_token_and_reverse_order(sfn: Any) -> None:
    arn = start_order(sfn, saga_arn(sfn), f"hist-{uuid.uuid4().hex[:8]}")["executionArn"]
    finished(sfn, arn)
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = sfn.get_execution_history(
            executionArn=arn, maxResults=4, **({"nextToken": token} if token else {})
        )
        assert len(page["events"]) <= 4
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "ExecutionStarted" and events[-1]["type"] == "ExecutionSucceeded"
    assert all(isinstance(e["timestamp"], datetime) for e in events)
    newest = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)["events"]
    assert newest[0]["type"] == "ExecutionSucceeded"


def test_state_machines_are_created_described_updated_listed_and_deleted(sfn: Any) -> None:
    prefix = f"crud-{uuid.uuid4().hex[:6]}"
    arns = [machine(sfn, prefix=prefix) for _ in range(3)]
    described = sfn.describe_state_machine(stateMachineArn=arns[0])
    assert json.loads(described["definition"]) == json.loads(PASS) and described["roleArn"] == ROLE
    other = json.dumps({"StartAt": "S", "States": {"S": {"Type": "Succeed"}}})
    updated = sfn.update_state_machine(stateMachineArn=arns[0], definition=other)
    assert isinstance(updated["updateDate"], datetime)
    assert sfn.describe_state_machine(stateMachineArn=arns[0])["definition"] == other
    listed: list[str] = []
    token = None
    while True:
        page = sfn.list_state_machines(maxResults=2, **({"nextToken": token} if token else {}))
        listed += [m["stateMachineArn"] for m in page["stateMachines"]]
        token = page.get("nextToken")
        if not token:
            break
    assert set(arns) <= set(listed) and len(listed) == len(set(listed))
    sfn.delete_state_machine(stateMachineArn=arns[0])
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arns[0])


def test_an_invalid_definition_is_refused_and_validation_names_where(sfn: Any) -> None:
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    with pytest.raises(sfn.exceptions.InvalidDefinition) as refused:
        sfn.create_state_machine(name=f"bad-{uuid.uuid4().hex[:6]}", definition=broken, roleArn=ROLE)
    assert "Nowhere" in str(refused.value)
    checked = sfn.validate_state_machine_definition(definition=broken)
    assert checked["result"] == "FAIL"
    assert checked["diagnostics"][0]["location"] == "/States/A/Next"
    assert sfn.validate_state_machine_definition(definition=PASS)["result"] == "OK"


def test_start_sync_execution_answers_when_it_ends(served: Served) -> None:
    # AWS's SDKs send StartSyncExecution to a "sync-" host; a local endpoint has no such name
    sfn = served.client("stepfunctions", inject_host_prefix=False)
    answer = sfn.start_sync_execution(stateMachineArn=machine(sfn), input="{}")
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == {"ok": True}
    assert answer["stopDate"] >= answer["startDate"]


def test_a_lambda_arn_runs_the_handler_the_server_was_given(served: Served) -> None:
    sfn = served.client("stepfunctions", inject_host_prefix=False)
    greet = "arn:aws:lambda:us-east-1:123456789012:function:greet"
    definition = json.dumps(
        {"StartAt": "G", "States": {"G": {"Type": "Task", "Resource": greet, "End": True}}}
    )
    answer = sfn.start_sync_execution(
        stateMachineArn=machine(sfn, definition), input=json.dumps({"name": "ann"})
    )
    assert json.loads(answer["output"]) == {"greeting": "hello ann"}


def test_stop_and_list_executions_by_status(sfn: Any) -> None:
    waits = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
    arn = machine(sfn, waits)
    runs = [sfn.start_execution(stateMachineArn=arn)["executionArn"] for _ in range(3)]
    stopped = sfn.stop_execution(executionArn=runs[0], error="Operator", cause="test")
    assert isinstance(stopped["stopDate"], datetime)
    assert finished(sfn, runs[0])["status"] == "ABORTED"
    running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
    assert {e["executionArn"] for e in running} == set(runs[1:])
    page = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    assert len(page["executions"]) == 2 and page["nextToken"]
    for run in runs[1:]:
        sfn.stop_execution(executionArn=run)


def activity_worker(
    sfn: Any, activity_arn: str, answer: dict[str, Any] | None, stop: threading.Event
) -> None:
    # an activity worker as AWS's docs write one: long-poll, heartbeat, report
    while not stop.is_set():
        task = sfn.get_activity_task(activityArn=activity_arn, workerName="test-worker")
        if not task.get("taskToken"):
            continue
        sfn.send_task_heartbeat(taskToken=task["taskToken"])
        if answer is None:
            sfn.send_task_failure(taskToken=task["taskToken"], error="Boom", cause="worker refused")
        else:
            given = json.loads(task["input"])
            sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps({**answer, **given}))
        return


def test_an_activity_worker_written_with_boto3_completes_tasks_and_a_failure_is_redriven(
    served: Served, sfn: Any
) -> None:
    activity = sfn.create_activity(name=f"act-{uuid.uuid4().hex[:6]}")["activityArn"]
    assert sfn.describe_activity(activityArn=activity)["activityArn"] == activity
    assert activity in [a["activityArn"] for a in sfn.list_activities()["activities"]]
    definition = json.dumps(
        {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": True}}}
    )
    arn = sfn.start_execution(stateMachineArn=machine(sfn, definition), input=json.dumps({"n": 1}))[
        "executionArn"
    ]
    stop = threading.Event()
    worker = served.client("stepfunctions", read_timeout=70)
    activity_worker(worker, activity, None, stop)
    failed = finished(sfn, arn)
    assert failed["status"] == "FAILED" and failed["error"] == "Boom"
    assert isinstance(sfn.redrive_execution(executionArn=arn)["redriveDate"], datetime)
    activity_worker(worker, activity, {"done": True}, stop)
    ended = finished(sfn, arn)
    assert ended["status"] == "SUCCEEDED" and json.loads(ended["output"]) == {"done": True, "n": 1}
    assert ended["redriveCount"] == 1
    sfn.delete_activity(activityArn=activity)
    with pytest.raises(sfn.exceptions.ActivityDoesNotExist):
        sfn.describe_activity(activityArn=activity)


def test_errors_come_back_as_the_exceptions_boto3_knows(sfn: Any) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:execution:nothing:here"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=missing)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn="not-an-arn")
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=machine(sfn), input="{not json")
    with pytest.raises(ClientError) as refused:
        sfn.send_task_success(taskToken="no-such-token", output="{}")
    assert refused.value.response["Error"]["Code"] in {"InvalidToken", "TaskDoesNotExist"}
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
