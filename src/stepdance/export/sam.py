"""A design's :class:`~stepdance.export.plan.Plan` as an AWS SAM template: a plain dict that
``yaml.safe_dump`` writes, so intrinsic functions are in their long form (``{"Ref": ...}``,
``{"Fn::GetAtt": [...]}``), never YAML tags.

=============================  ====================================================================
stepdance                      AWS resource
=============================  ====================================================================
the ASL definition             ``AWS::Serverless::StateMachine`` (STANDARD), the definition inline, each
                               ``stepdance:<service>.<operation>`` Resource a ``${<Name>FunctionArn}``
                               substituted with that function's ARN
a task resource, a subscriber  ``AWS::Serverless::Function`` (see :mod:`.lambda_runtime`)
the event bus                  ``AWS::Events::EventBus``
a rule and its target          ``AWS::Events::Rule`` (pattern, target, RetryPolicy, DeadLetterConfig),
                               ``AWS::Lambda::Permission`` for events.amazonaws.com
the target's dead letters      ``AWS::SQS::Queue`` and the ``AWS::SQS::QueuePolicy`` letting the rule send
=============================  ====================================================================
"""

from __future__ import annotations

import copy
from typing import Any

from stepdance.export import lambda_runtime as runtime
from stepdance.export.plan import Function, Plan, Subscription, task_states

TRANSFORM = "AWS::Serverless-2016-10-31"
RUNTIME = "python3.11"
CODE_DIR = "functions"
STATE_MACHINE = "OrderSagaStateMachine"
EVENT_BUS = "EventBus"
DATABASE = "ServicesDatabaseUrl"
CHANNEL = "NotificationChannel"
FUNCTION_TIMEOUT = 30
# Lambda keeps a failed asynchronous event for 2 retries and 6 hours at most, whatever the design asks.
LAMBDA_MAX_ASYNC_RETRIES = 2
LAMBDA_MAX_EVENT_AGE = 21_600
SQS_MAX_RETENTION = 1_209_600  # 14 days: dead letters wait for a person


def template(plan: Plan) -> dict[str, Any]:
    """The SAM template that deploys ``plan``."""
    resources: dict[str, Any] = {}
    for function in plan.functions:
        resources[function.logical_id] = _function(plan, function)
    if plan.bus is not None:
        resources[EVENT_BUS] = {
            "Type": "AWS::Events::EventBus",
            "Properties": {"Name": plan.bus},
        }
    for subscription in plan.subscriptions:
        resources.update(_subscription(plan, subscription))
    if plan.definition is not None:
        resources[STATE_MACHINE] = _state_machine(plan)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": TRANSFORM,
        "Description": plan.description,
        "Parameters": _parameters(plan),
        "Globals": {"Function": _function_globals()},
        "Resources": resources,
        "Outputs": _outputs(plan),
    }


def substituted(definition: dict[str, Any], resources: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """``definition`` with each task resource replaced by its function's ``${<Name>FunctionArn}``."""
    variables = {resource: f"${{{substitution(name)}}}" for resource, name in resources}
    rewritten = copy.deepcopy(definition)
    for _, state in task_states(rewritten):
        resource = state.get("Resource")
        if isinstance(resource, str) and resource in variables:
            state["Resource"] = variables[resource]
    return rewritten


def substitution(function_name: str) -> str:
    """The DefinitionSubstitutions key of a function's ARN: ``PaymentChargeFunctionArn``."""
    return f"{function_name}FunctionArn"


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def get_att(name: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


def _parameters(plan: Plan) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        DATABASE: {
            "Type": "String",
            "NoEcho": True,
            # every function of a design shares the services' databases: a SQLite file per Lambda
            # container would give each container orders of its own
            "AllowedPattern": r"^postgres(ql)?(\+psycopg)?://.+$",
            "ConstraintDescription": "a postgresql://user:password@host:5432/db URL",
            "Description": (
                "The order services' PostgreSQL server (STEPDANCE_SERVICES): a schema per service is "
                "created there. It must be reachable from Lambda."
            ),
        }
    }
    if any(f.sends for f in plan.functions):
        parameters[CHANNEL] = {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^(|smtp://.+|file:///.+)$",
            "Description": (
                "Where notifications go: smtp://host:port?from=address. Empty: a file in the function's "
                "/tmp, lost with its container."
            ),
        }
    return parameters


def _function_globals() -> dict[str, Any]:
    return {
        "Runtime": RUNTIME,
        "CodeUri": f"{CODE_DIR}/",
        "Timeout": FUNCTION_TIMEOUT,
        "MemorySize": 512,
        "Environment": {
            "Variables": {
                runtime.ENV_SERVICES: ref(DATABASE),
                runtime.ENV_DATA_DIR: runtime.LAMBDA_DATA_DIR,
                runtime.ENV_TRACING: "off",
            }
        },
    }


def _function(plan: Plan, function: Function) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Handler": f"{function.module}.handler",
        "Description": f"stepdance {plan.design}: {function.summary}"[:256],
    }
    variables: dict[str, Any] = {}
    policies: list[Any] = []
    if plan.bus is not None and function.publishes:
        variables[runtime.ENV_EVENT_BUS] = ref(EVENT_BUS)
        policies.append({"EventBridgePutEventsPolicy": {"EventBusName": ref(EVENT_BUS)}})
    if function.sends:
        variables[runtime.ENV_CHANNEL] = ref(CHANNEL)
    if variables:
        properties["Environment"] = {"Variables": variables}
    if policies:
        properties["Policies"] = policies
    target = next((s for s in plan.subscriptions if s.function == function.name), None)
    if target is not None:
        properties["EventInvokeConfig"] = _invoke_config(target)
    return {"Type": "AWS::Serverless::Function", "Properties": properties}


def _invoke_config(subscription: Subscription) -> dict[str, Any]:
    """EventBridge invokes the target asynchronously: its RetryPolicy covers delivering the event to
    Lambda, Lambda's own retries cover the handler failing. Both end in the same dead-letter queue."""
    return {
        "MaximumRetryAttempts": min(LAMBDA_MAX_ASYNC_RETRIES, subscription.retry.maximum_retry_attempts),
        "MaximumEventAgeInSeconds": min(LAMBDA_MAX_EVENT_AGE, subscription.retry.maximum_event_age),
        "DestinationConfig": {
            "OnFailure": {"Type": "SQS", "Destination": get_att(_dlq(subscription), "Arn")},
        },
    }


def _subscription(plan: Plan, subscription: Subscription) -> dict[str, Any]:
    rule, queue = f"{subscription.logical_id}Rule", _dlq(subscription)
    function = plan.function(subscription.function).logical_id
    return {
        rule: {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": subscription.rule,
                "Description": subscription.description,
                "EventBusName": ref(EVENT_BUS),
                "EventPattern": subscription.pattern,
                "State": "ENABLED",
                "Targets": [
                    {
                        "Id": subscription.target_id,
                        "Arn": get_att(function, "Arn"),
                        "RetryPolicy": subscription.retry.shape(),
                        "DeadLetterConfig": {"Arn": get_att(queue, "Arn")},
                    }
                ],
            },
        },
        f"{subscription.logical_id}InvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": ref(function),
                "Principal": "events.amazonaws.com",
                "SourceArn": get_att(rule, "Arn"),
            },
        },
        queue: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": SQS_MAX_RETENTION},
        },
        f"{queue}Policy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref(queue)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DeadLettersFromTheRule",
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": get_att(queue, "Arn"),
                            "Condition": {"ArnEquals": {"aws:SourceArn": get_att(rule, "Arn")}},
                        }
                    ],
                },
            },
        },
    }


def _dlq(subscription: Subscription) -> str:
    return f"{subscription.logical_id}DeadLetterQueue"


def _state_machine(plan: Plan) -> dict[str, Any]:
    assert plan.definition is not None
    functions = [plan.function(name) for _, name in plan.resources]
    policies: list[Any] = [{"LambdaInvokePolicy": {"FunctionName": ref(f.logical_id)}} for f in functions]
    if plan.bus is not None:
        policies.append({"EventBridgePutEventsPolicy": {"EventBusName": ref(EVENT_BUS)}})
    return {
        "Type": "AWS::Serverless::StateMachine",
        "Properties": {
            "Name": plan.machine_name,
            "Type": "STANDARD",
            "Definition": substituted(plan.definition, plan.resources),
            "DefinitionSubstitutions": {
                substitution(f.name): get_att(f.logical_id, "Arn") for f in functions
            },
            "Policies": policies,
        },
    }


def _outputs(plan: Plan) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    if plan.definition is not None:
        outputs["StateMachineArn"] = {
            "Description": "Start an execution per order (named after the order id) here",
            "Value": ref(STATE_MACHINE),
        }
    if plan.bus is not None:
        outputs["EventBusName"] = {"Value": ref(EVENT_BUS)}
        outputs["EventBusArn"] = {"Value": get_att(EVENT_BUS, "Arn")}
    for subscription in plan.subscriptions:
        outputs[f"{_dlq(subscription)}Url"] = {
            "Description": f"Dead letters of the rule {subscription.rule}",
            "Value": ref(_dlq(subscription)),
        }
    for function in plan.functions:
        if function.entry == "place_order":
            outputs["PlaceOrderFunctionName"] = {
                "Description": "Invoke with an order's JSON to place it",
                "Value": ref(function.logical_id),
            }
    return outputs
