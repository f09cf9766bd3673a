"""Store records as boto3 returns Step Functions resources: camelCase keys, timezone-aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stepdance.store import ActivityRecord, ExecutionRecord, StateMachineRecord


def when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def state_machine(sm: StateMachineRecord) -> dict[str, Any]:
    return {
        "stateMachineArn": sm.arn,
        "name": sm.name,
        "status": "ACTIVE",
        "definition": sm.definition,
        "roleArn": sm.role_arn,
        "type": sm.type,
        "creationDate": when(sm.creation_date),
        "loggingConfiguration": {"level": "OFF", "includeExecutionData": False},
        "tracingConfiguration": {"enabled": False},
        "revisionId": sm.revision_id,
    }


def state_machine_item(sm: StateMachineRecord) -> dict[str, Any]:
    return {
        "stateMachineArn": sm.arn,
        "name": sm.name,
        "type": sm.type,
        "creationDate": when(sm.creation_date),
    }


def activity(record: ActivityRecord) -> dict[str, Any]:
    return {"activityArn": record.arn, "name": record.name, "creationDate": when(record.creation_date)}


def execution(record: ExecutionRecord) -> dict[str, Any]:
    shaped = execution_item(record)
    shaped["input"] = record.input
    shaped["inputDetails"] = {"included": True}
    if record.output is not None:
        shaped["output"] = record.output
        shaped["outputDetails"] = {"included": True}
    for key, value in (("error", record.error), ("cause", record.cause)):
        if value is not None:
            shaped[key] = value
    shaped.update(_redrive_status(record))
    return shaped


def execution_item(record: ExecutionRecord) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "executionArn": record.arn,
        "stateMachineArn": record.state_machine_arn,
        "name": record.name,
        "status": record.status,
        "startDate": when(record.start_date),
        "redriveCount": record.redrive_count,
    }
    if record.stop_date is not None:
        shaped["stopDate"] = when(record.stop_date)
    if record.redrive_date is not None:
        shaped["redriveDate"] = when(record.redrive_date)
    return shaped


def _redrive_status(record: ExecutionRecord) -> dict[str, Any]:
    if record.status in ("FAILED", "TIMED_OUT", "ABORTED"):
        return {"redriveStatus": "REDRIVABLE"}
    return {
        "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": f"Execution is {record.status} and cannot be redriven",
    }


def event(raw: dict[str, Any]) -> dict[str, Any]:
    shaped = dict(raw)
    shaped["timestamp"] = when(float(raw["timestamp"]))
    return shaped
