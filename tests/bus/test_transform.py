"""Input, InputPath and InputTransformer against AWS's documented examples (the EC2 event of the input
transformation guide) and outputs recorded on AWS (an SQS target's message body)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepdance.bus.errors import ValidationException
from stepdance.bus.transform import Delivered, TargetInput

EC2 = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}
DELIVERED = Delivered(
    "arn:aws:events:us-east-2:123456789012:rule/example", "example", "2015-11-11T21:29:55.123Z"
)

# (template, the text the target receives)
TEMPLATES = [
    ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
    ('"instance \\"<instance>\\" is in <state>"', '"instance \\"i-0123456789\\" is in RUNNING"'),
    ('{\n  "instance" : <instance>,\n  "state": <state>\n}', '{"instance":"i-0123456789","state":"RUNNING"}'),
    (
        '{\n "instance" : <instance>,\n "state": "<state>",\n'
        ' "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
        '{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}',
    ),
    (
        '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "Transformed" : "Yes"\n}',
        '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}',
    ),
    ('"<aws.events.rule-name> triggered"', '"example triggered"'),
    (
        '{"ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>}',
        '{"ruleArn":"arn:aws:events:us-east-2:123456789012:rule/example","ruleName":"example"}',
    ),
    ('"at <aws.events.event.ingestion-time>"', '"at 2015-11-11T21:29:55.123Z"'),
    ('"Detail is <detail>"', '"Detail is {instance-id:i-0123456789,state:RUNNING,count:3,flag:true}"'),
    (
        '{"detail": <detail>}',
        '{"detail":{"instance-id":"i-0123456789","state":"RUNNING","count":3,"flag":true}}',
    ),
    (
        '"{[/Check with special starting characters for event of <instance>"',
        '"{[/Check with special starting characters for event of i-0123456789"',
    ),
    ('"no such field: <missing>."', '"no such field: ."'),
    ('{"missing": <missing>, "quoted": "<missing>"}', '{"missing":"","quoted":""}'),
    ('{"count": <count>, "flag": <flag>, "text": "n=<count>"}', '{"count":3,"flag":true,"text":"n=3"}'),
]


@pytest.mark.parametrize(("template", "expected"), TEMPLATES)
def test_input_transformer(template: str, expected: str) -> None:
    event = {**EC2, "detail": {**EC2["detail"], "count": 3, "flag": True}}
    paths = {**PATHS, "detail": "$.detail", "missing": "$.detail.nothing", "count": "$.detail.count"}
    paths["flag"] = "$.detail.flag"
    target = {"Id": "t", "InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}}
    assert TargetInput.parse(target).render(event, json.dumps(event), DELIVERED) == expected


def test_the_predefined_event_variables_as_aws_shows_them() -> None:
    template = '{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}'
    target = {"Id": "t", "InputTransformer": {"InputTemplate": template}}
    rendered = TargetInput.parse(target).render(EC2, json.dumps(EC2), DELIVERED)
    assert rendered is not None
    output = json.loads(rendered)
    assert list(output["originalEvent"]) == [
        "id",
        "account",
        "detailType",
        "time",
        "source",
        "region",
        "resources",
        "version",
    ]
    assert output["originalEvent"]["time"] == DELIVERED.ingestion_time
    assert output["originalEventJson"] == EC2


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({}, None),  # the event itself, as published
        ({"InputPath": "$.detail"}, '{"instance-id":"i-0123456789","state":"RUNNING"}'),
        ({"InputPath": "$.detail.state"}, '"RUNNING"'),
        ({"InputPath": "$.resources[0]"}, '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'),
        ({"InputPath": "$.detail.nothing"}, "nothing"),
        ({"Input": '{"fixed": [1, 2]}'}, '{"fixed": [1, 2]}'),
    ],
)
def test_input_and_input_path(target: dict[str, Any], expected: str | None) -> None:
    text = json.dumps(EC2)
    rendered = TargetInput.parse({"Id": "t", **target}).render(EC2, text, DELIVERED)
    if expected is None:
        assert rendered == text
    elif expected == "nothing":
        assert rendered is None
    else:
        assert rendered == expected


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            {"InputPath": "$.detail", "InputTransformer": {"InputTemplate": "{}"}},
            "Only one of Input, InputPath, or InputTransformer must be provided for target t.",
        ),
        (
            {"InputTransformer": {"InputPathsMap": {"a": "$.a"}, "InputTemplate": '"<a> <notdefinedkey>"'}},
            "InputTemplate for target t contains invalid placeholder notdefinedkey.",
        ),
        ({"InputTransformer": {"InputPathsMap": {"a b": "$.a"}, "InputTemplate": '"x"'}}, "invalid key a b"),
        (
            {"InputTransformer": {"InputPathsMap": {"a": "$..["}, "InputTemplate": '"<a>"'}},
            "not a valid JSON path",
        ),
    ],
)
def test_put_targets_refuses(target: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationException) as refused:
        TargetInput.parse({"Id": "t", **target})
    assert message in refused.value.message
