"""The SAM templates: valid for cfn-lint, and saying what the designs say."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from stepdance.export import DESIGNS
from stepdance.order.designs import choreography_subscriptions as chor
from stepdance.order.designs import hybrid
from stepdance.order.designs.hybrid import Hybrid
from stepdance.order.designs.orchestrated import Orchestrated, definition
from tests.export.conftest import Exported, Linted, functions_dir

MACHINES: dict[str, type[Orchestrated]] = {"orchestrated": Orchestrated, "hybrid": Hybrid}
PSEUDO = {
    "AWS::Region",
    "AWS::AccountId",
    "AWS::Partition",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
}


@pytest.mark.parametrize("design", DESIGNS)
def test_cfn_lint_finds_no_error(design: str, lint_matches: Linted) -> None:
    errors = [str(m) for m in lint_matches[design] if m.rule.id.startswith("E")]
    assert errors == []


@pytest.mark.parametrize("design", DESIGNS)
def test_it_is_a_sam_template_of_python_functions(design: str, exported: dict[str, Exported]) -> None:
    template = exported[design].template
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert template["Globals"]["Function"]["Runtime"] == "python3.11"
    assert exported[design].of_type("AWS::Serverless::Function")


@pytest.mark.parametrize("design", DESIGNS)
def test_every_reference_names_a_resource_or_parameter(design: str, exported: dict[str, Exported]) -> None:
    template = exported[design].template
    known = set(template["Resources"]) | set(template.get("Parameters", {})) | PSEUDO
    for name in _references(template):
        assert name in known, name


@pytest.mark.parametrize("design", DESIGNS)
def test_every_function_has_its_handler_module(design: str, exported: dict[str, Exported]) -> None:
    e = exported[design]
    directory = functions_dir(e)
    assert "stepdance" in (directory / "requirements.txt").read_text()
    for name, props in e.of_type("AWS::Serverless::Function").items():
        module, attribute = props["Handler"].split(".")
        spec = importlib.util.spec_from_file_location(
            f"exported_{design}_{module}", directory / f"{module}.py"
        )
        assert spec is not None and spec.loader is not None, name
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        assert callable(getattr(loaded, attribute)), name


@pytest.mark.parametrize("design", ["orchestrated", "hybrid"])
def test_the_definition_is_the_shipped_one_but_for_the_task_resources(
    design: str, exported: dict[str, Exported]
) -> None:
    e = exported[design]
    (machine,) = e.of_type("AWS::Serverless::StateMachine").values()
    assert machine["Type"] == "STANDARD"
    assert machine["Name"] == MACHINES[design].machine_name
    in_template = json.loads(json.dumps(machine["Definition"]))
    substitutions = machine["DefinitionSubstitutions"]
    restored = _restore(e, in_template, substitutions)
    assert restored == json.loads(definition(MACHINES[design].definition_file))
    assert "stepdance:" not in json.dumps(in_template)
    used = set(re.findall(r"\$\{(\w+)\}", json.dumps(in_template)))
    assert used == set(substitutions)


@pytest.mark.parametrize("design", ["orchestrated", "hybrid"])
def test_the_state_machine_may_invoke_exactly_its_functions(
    design: str, exported: dict[str, Exported]
) -> None:
    (machine,) = exported[design].of_type("AWS::Serverless::StateMachine").values()
    invoked = {
        p["LambdaInvokePolicy"]["FunctionName"]["Ref"]
        for p in machine["Policies"]
        if "LambdaInvokePolicy" in p
    }
    substituted = {v["Fn::GetAtt"][0] for v in machine["DefinitionSubstitutions"].values()}
    assert invoked == substituted


def test_the_hybrid_machine_may_publish_on_the_bus_its_definition_names(
    exported: dict[str, Exported],
) -> None:
    e = exported["hybrid"]
    (machine,) = e.of_type("AWS::Serverless::StateMachine").values()
    (bus,) = e.of_type("AWS::Events::EventBus").values()
    assert bus["Name"] == hybrid.BUS
    named = {
        entry["EventBusName"]
        for state in machine["Definition"]["States"].values()
        if state.get("Resource") == "arn:aws:states:::events:putEvents"
        for entry in state["Parameters"]["Entries"]
    }
    assert named == {bus["Name"]}
    assert {"EventBridgePutEventsPolicy": {"EventBusName": {"Ref": "EventBus"}}} in machine["Policies"]


def test_each_choreographed_service_has_its_rule(exported: dict[str, Exported]) -> None:
    e = exported["choreographed"]
    (bus,) = e.of_type("AWS::Events::EventBus").values()
    assert bus["Name"] == chor.DEFAULT_EVENT_BUS
    rules = {props["Name"]: props for props in e.of_type("AWS::Events::Rule").values()}
    assert set(rules) == {chor.rule_name(s) for s in chor.PARTICIPANTS}
    for service in chor.PARTICIPANTS:
        rule = rules[chor.rule_name(service)]
        assert rule["EventBusName"] == {"Ref": "EventBus"}
        assert rule["EventPattern"] == chor.pattern(service)
        (target,) = rule["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == chor.RETRY_ATTEMPTS[service]
        function = target["Arn"]["Fn::GetAtt"][0]
        assert e.handler_constants(function) == {"SERVICE": service}


def test_the_hybrid_notification_rule(exported: dict[str, Exported]) -> None:
    (rule,) = exported["hybrid"].of_type("AWS::Events::Rule").values()
    assert rule["Name"] == hybrid.RULE
    assert rule["EventPattern"] == hybrid.PATTERN
    (target,) = rule["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == hybrid.NOTIFY_RETRY_ATTEMPTS


@pytest.mark.parametrize("design", ["choreographed", "hybrid"])
def test_every_target_dead_letters_into_a_queue_the_rule_may_send_to(
    design: str, exported: dict[str, Exported]
) -> None:
    e = exported[design]
    queues, policies = e.of_type("AWS::SQS::Queue"), e.of_type("AWS::SQS::QueuePolicy").values()
    permissions = e.of_type("AWS::Lambda::Permission").values()
    functions = e.of_type("AWS::Serverless::Function")
    for rule_id, rule in e.of_type("AWS::Events::Rule").items():
        for target in rule["Targets"]:
            queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
            assert queue in queues
            statements = [
                s for p in policies if {"Ref": queue} in p["Queues"] for s in p["PolicyDocument"]["Statement"]
            ]
            assert {
                (s["Principal"]["Service"], s["Action"], json.dumps(s["Condition"])) for s in statements
            } == {
                (
                    "events.amazonaws.com",
                    "sqs:SendMessage",
                    json.dumps({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}),
                )
            }
            function = target["Arn"]["Fn::GetAtt"][0]
            assert function in functions
            assert {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": function},
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
            } in permissions
            # a handler that fails after delivery ends in the same queue
            on_failure = functions[function]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
            assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": [queue, "Arn"]}}


@pytest.mark.parametrize("design", DESIGNS)
def test_the_outputs_give_the_machine_and_the_bus(design: str, exported: dict[str, Exported]) -> None:
    outputs = exported[design].template["Outputs"]
    if design in MACHINES:
        assert outputs["StateMachineArn"]["Value"] == {"Ref": "OrderSagaStateMachine"}
    if design != "orchestrated":
        assert outputs["EventBusName"]["Value"] == {"Ref": "EventBus"}
        assert outputs["EventBusArn"]["Value"] == {"Fn::GetAtt": ["EventBus", "Arn"]}


def _restore(e: Exported, machine: dict[str, Any], substitutions: dict[str, Any]) -> dict[str, Any]:
    """``machine`` with each ``${X}`` Resource put back to the task resource its function serves."""
    resources = {
        f"${{{key}}}": e.handler_constants(value["Fn::GetAtt"][0])["RESOURCE"]
        for key, value in substitutions.items()
    }
    text = json.dumps(machine)
    for variable, resource in resources.items():
        text = text.replace(json.dumps(variable), json.dumps(resource))
    restored: dict[str, Any] = json.loads(text)
    return restored


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            yield node["Ref"]
        elif set(node) == {"Fn::GetAtt"}:
            yield node["Fn::GetAtt"][0]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)
