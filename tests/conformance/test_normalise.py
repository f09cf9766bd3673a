"""The normalisation steps one by one, on small documents with known results."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from stepdance.conformance.locate import locate
from stepdance.conformance.normalise import Names, normalise
from stepdance.conformance.texts import mask_date_times, starts_with_date_time

NAMES = Names.from_arns(
    "arn:aws:states:eu-west-3:123456789012:stateMachine:statemachine_abc",
    "arn:aws:states:eu-west-3:123456789012:execution:statemachine_abc:run-1",
    "arn:aws:iam::123456789012:role/r",
)


def _event(**details: Any) -> dict[str, Any]:
    return {"id": 2, "previousEventId": 1, "type": "PassStateExited", "timestamp": 1.5, **details}


def _one(doc_event: dict[str, Any], *transformers: dict[str, Any]) -> dict[str, Any]:
    return normalise({"events": [doc_event]}, transformers, NAMES)["events"][0]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("2024-02-29T10:00:00Z", "date"),
        ("2023-02-29T10:00:00Z", "2023-02-29T10:00:00Z"),  # not a leap year
        ("1900-02-29T10:00:00Z", "1900-02-29T10:00:00Z"),
        ("2000-02-29T10:00:00.123456789+05:30", "date"),
        ("2021-04-31T10:00:00Z", "2021-04-31T10:00:00Z"),
        ("at 2021-12-31T23:59:59-0800 and 2021-01-01T00:00:00Z.", "at date and date."),
        ("2021-01-01T24:00:00Z", "2021-01-01T24:00:00Z"),
        ("2021-01-01T10:00:00", "2021-01-01T10:00:00"),  # no zone
        ("0999-01-01T00:00:00Z", "0999-01-01T00:00:00Z"),
    ],
)
def test_only_real_calendar_date_times_are_masked(text: str, masked: str) -> None:
    assert mask_date_times(text) == masked


def test_a_match_can_start_inside_an_impossible_date_time() -> None:
    text = "2021-02-30T00:00:00.123456789-05-12T10:00:00Z"
    assert mask_date_times(text) == "2021-02-30T00:00:00.12345date"
    assert not starts_with_date_time(text)


def test_locate_addresses_slots_deep_and_by_index() -> None:
    doc = {"a": [{"b": 1}, {"c": {"b": 2}}], "b": 3}
    assert [c[k] for c, k in locate(doc, "$..b")] == [3, 1, 2]
    assert [c[k] for c, k in locate(doc, "$.a[1].c['b']")] == [2]
    assert [c[k] for c, k in locate(doc, "$.a[*]")] == doc["a"]


def test_json_object_texts_are_parsed_once_and_other_texts_kept() -> None:
    event = _one(_event(stateExitedEventDetails={"output": '{"x": "{\\"y\\": 1}"}', "name": "[1, 2]"}))
    assert event["stateExitedEventDetails"] == {"name": "[1, 2]", "output": {"x": '{"y": 1}'}}


def test_names_account_region_and_partition_are_masked_everywhere() -> None:
    arn = "arn:aws:states:eu-west-3:123456789012:execution:statemachine_abc:run-1"
    event = _one(
        _event(details={"arn": arn, "role": "arn:aws:iam::123456789012:role/r"}),
        {"type": "role_arn"},
        {"type": "state_machine_name", "replacement": "<ArnPart_0idx>"},
        {"type": "execution_name", "replacement": "<ExecArnPart_0idx>"},
    )
    assert event["details"] == {
        "arn": "arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>:<ExecArnPart_0idx>",
        "role": "snf_role_arn",
    }
    assert event["timestamp"] == "timestamp"


def test_uuid_ids_and_causes_become_numbered_references() -> None:
    uid = "0a1b2c3d-0000-4000-8000-0123456789ab"
    event = _one(
        _event(
            d={"requestId": uid, "other": uid + "-x", "RunId": uid + "-x"},
            e={"cause": "bad input '{\"a\": 1}'", "echo": '{"a": 1}'},
        )
    )
    # keys are sorted first, so RunId's value is registered (and numbered) before requestId's
    assert event["d"] == {"RunId": "<uuid:1>", "other": "<uuid:1>", "requestId": "<uuid:2>"}
    assert event["e"] == {"cause": "bad input '<json-input:1>'", "echo": {"a": 1}}


def test_other_timestamp_keys_are_masked_unless_they_hold_a_date_time() -> None:
    event = _one(
        _event(
            d={"TimestampValue": "2016-13-05T21:29:29Z", "myTimestamp": "2016-12-05T21:29:29Z", "ts": 5},
            e={"timestamps": [1, 2]},
        )
    )
    assert event["d"] == {"TimestampValue": "timestamp", "myTimestamp": "date", "ts": 5}
    assert event["e"] == {"timestamps": "timestamp"}


def test_jsonpath_transformers_replace_in_place_or_by_reference() -> None:
    event = _one(
        _event(d={"R": 0.42, "S": "abc", "t": "abc-abc"}),
        {"type": "jsonpath", "path": "$..R", "replacement": "RandomNumberGenerated", "reference": False},
        {"type": "jsonpath", "path": "$..S", "replacement": "secret", "reference": True},
    )
    assert event["d"] == {"R": "RandomNumberGenerated", "S": "<secret:1>", "t": "<secret:1>-<secret:1>"}


def test_regex_and_key_value_transformers() -> None:
    event = _one(
        _event(d={"token": "tk-9", "n": "tk-9 again", "k": "v-1"}),
        {"type": "key_value", "key": "token", "replacement": "tok", "reference": True},
        {"type": "regex", "pattern": r"v-\d", "replacement": "V"},
    )
    assert event["d"] == {"k": "V", "n": "<tok:1> again", "token": "<tok:1>"}


def test_fixed_fields_are_blanked() -> None:
    event = _one(_event(d={"SdkHttpMetadata": {"Headers": {"Date": "Mon"}}, "x-amz-crc32": "12"}))
    assert event["d"] == {"SdkHttpMetadata": {"Headers": {"Date": "date"}}, "x-amz-crc32": "x-amz-crc32"}


def test_parallel_branches_are_sorted_and_the_succeeded_event_dropped() -> None:
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    kinds = [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateEntered",
        "PassStateEntered",
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "ExecutionSucceeded",
    ]
    events = [{"id": i + 1, "previousEventId": i, "type": t, "timestamp": when} for i, t in enumerate(kinds)]
    events[3]["stateEnteredEventDetails"] = {"name": "B"}
    events[4]["stateEnteredEventDetails"] = {"name": "A"}
    got = normalise({"events": events}, (), NAMES, parallel=True)["events"]
    assert [(e["id"], e["type"]) for e in got] == [
        (1, "ExecutionStarted"),
        (2, "ParallelStateEntered"),
        (3, "ParallelStateStarted"),
        ([0], "PassStateEntered"),
        ([0], "PassStateEntered"),
        (7, "ParallelStateExited"),
        (8, "ExecutionSucceeded"),
    ]
    assert [e["stateEnteredEventDetails"]["name"] for e in got[3:5]] == ["A", "B"]
    assert events[3]["id"] == 4, "the caller's document is left untouched"
