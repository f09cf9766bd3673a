"""What the API does with requests boto3 would never send: each gets AWS's 400 with ``__type`` and
``message``, and nothing is stored from it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.api.served import Served

SFN = "application/x-amz-json-1.0"
ROLE = "arn:aws:iam::123456789012:role/test"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def call(served: Served, target: str, body: bytes | str, content_type: str = SFN) -> httpx.Response:
    data = body.encode() if isinstance(body, str) else body
    return httpx.post(
        served.url + "/",
        content=data,
        headers={"X-Amz-Target": target, "Content-Type": content_type},
        timeout=30,
    )


def refused(response: httpx.Response, code: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["__type"] == code, body
    assert response.headers["content-type"].startswith("application/x-amz-json-")
    return str(body["message"])


def machines(served: Served) -> set[str]:
    listed = call(served, "AWSStepFunctions.ListStateMachines", "{}").json()["stateMachines"]
    return {m["name"] for m in listed}


@pytest.fixture
def name() -> str:
    return f"req-{uuid.uuid4().hex[:8]}"


def test_a_good_raw_request_is_answered_with_epoch_seconds(served: Served, name: str) -> None:
    answer = call(
        served,
        "AWSStepFunctions.CreateStateMachine",
        json.dumps({"name": name, "definition": PASS, "roleArn": ROLE}),
    )
    assert answer.status_code == 200 and answer.headers["x-amzn-requestid"]
    assert isinstance(answer.json()["creationDate"], float)


def test_malformed_json_is_a_serialization_exception(served: Served) -> None:
    message = refused(
        call(served, "AWSStepFunctions.CreateStateMachine", '{"name": "x",'), "SerializationException"
    )
    assert "not valid JSON" in message
    refused(call(served, "AWSStepFunctions.ListStateMachines", "[1, 2]"), "SerializationException")


def test_an_unknown_operation_is_named(served: Served) -> None:
    message = refused(call(served, "AWSStepFunctions.TagResource", "{}"), "UnknownOperationException")
    assert "TagResource" in message
    refused(call(served, "AWSLambda.Invoke", "{}"), "UnknownOperationException")
    refused(call(served, "", "{}"), "UnknownOperationException")


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"definition": PASS, "roleArn": ROLE}, "ValidationException", "Value null at 'name'"),
        ({"name": 5, "definition": PASS, "roleArn": ROLE}, "SerializationException", "'name'"),
        (
            {"name": "x" * 81, "definition": PASS, "roleArn": ROLE},
            "ValidationException",
            "less than or equal to 80",
        ),
        (
            {"name": "n", "definition": PASS, "roleArn": ROLE, "type": "FAST"},
            "ValidationException",
            "enum value set",
        ),
        (
            {"name": "n", "definition": {"StartAt": "P"}, "roleArn": ROLE},
            "SerializationException",
            "'definition'",
        ),
    ],
)
def test_missing_and_wrong_typed_fields_are_refused_and_nothing_is_created(
    served: Served, body: dict[str, Any], code: str, words: str
) -> None:
    before = machines(served)
    message = refused(call(served, "AWSStepFunctions.CreateStateMachine", json.dumps(body)), code)
    assert words in message
    assert machines(served) == before


def test_an_oversized_body_is_refused_before_it_is_read(served: Served, name: str) -> None:
    huge = json.dumps({"name": name, "definition": PASS, "roleArn": ROLE, "pad": "x" * 2_000_000})
    message = refused(
        call(served, "AWSStepFunctions.CreateStateMachine", huge), "RequestEntityTooLargeException"
    )
    assert "exceeds the limit" in message
    assert name not in machines(served)


def test_a_put_events_batch_over_the_limit_publishes_nothing(served: Served) -> None:
    rule = f"seen-{uuid.uuid4().hex[:6]}"
    entries = [{"Source": rule, "DetailType": "x", "Detail": "{}"} for _ in range(11)]
    message = refused(
        call(served, "AWSEvents.PutEvents", json.dumps({"Entries": entries}), "application/x-amz-json-1.1"),
        "ValidationException",
    )
    assert "'entries'" in message and "less than or equal to 10" in message


def test_an_engine_error_keeps_its_aws_name(served: Served) -> None:
    body = json.dumps({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:none"})
    message = refused(call(served, "AWSStepFunctions.DescribeStateMachine", body), "StateMachineDoesNotExist")
    assert "none" in message


def test_health_says_whether_auth_is_on(served: Served) -> None:
    assert httpx.get(served.url + "/health", timeout=10).json() == {"status": "ok", "auth": False}
