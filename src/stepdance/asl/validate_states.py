"""Checks on one state: the common part (type, query language, fields, transition) and one small handler
per state type. Parallel and Map, which hold machines of their own, live in ``validate_composite``."""

from __future__ import annotations

import re
from collections.abc import Callable

from stepdance.asl.validate_choice import TIMESTAMP, check_choices
from stepdance.asl.validate_context import Report, StateContext, language_of
from stepdance.asl.validate_jsonata import is_expression
from stepdance.asl.validate_retry import check_retry_and_catch
from stepdance.asl.validate_schema import (
    LANGUAGES,
    STATE_TYPES,
    check_enum,
    check_exactly_one,
    check_field_types,
    check_known_fields,
    check_only_one,
    check_required,
)
from stepdance.asl.validate_templates import check_state_templates

Handler = Callable[[Report, StateContext], None]
TRANSITIONING = frozenset({"Pass", "Task", "Wait", "Parallel", "Map"})
MAX_STATE_NAME = 80
ARN = re.compile(r"arn:[^:\s]+:[^:\s]+:[^\s]*")


def check_state(report: Report, name: str, raw: object, location: str, handlers: dict[str, Handler]) -> None:
    _check_name(report, name, location)
    if not isinstance(raw, dict):
        report.expect(raw, (dict,), location)
        return
    if not check_required(report, raw, ("Type",), location):
        return
    if not check_enum(report, raw["Type"], STATE_TYPES, f"{location}/Type"):
        return
    ctx = StateContext(name, raw, location, language_of(raw, report.root_language))
    _check_query_language(report, ctx)
    check_known_fields(report, ctx)
    check_field_types(report, ctx)
    _check_transition(report, ctx)
    check_state_templates(report, ctx)
    handlers[raw["Type"]](report, ctx)


def _check_name(report: Report, name: str, location: str) -> None:
    if name in report.state_names:
        report.add("DUPLICATE_STATE_NAME", f"Duplicate State name: {name}", location)
    report.state_names.add(name)
    if not name or len(name) > MAX_STATE_NAME:
        report.add(
            "INVALID_STATE_NAME",
            f"State name '{name}' must be between 1 and {MAX_STATE_NAME} characters long",
            location,
        )


def _check_query_language(report: Report, ctx: StateContext) -> None:
    if "QueryLanguage" not in ctx.raw:
        return
    if not check_enum(report, ctx.raw["QueryLanguage"], LANGUAGES, ctx.at("QueryLanguage")):
        return
    if report.root_language == "JSONata" and ctx.raw["QueryLanguage"] == "JSONPath":
        report.schema(
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", ctx.location
        )


def _check_transition(report: Report, ctx: StateContext) -> None:
    if ctx.raw["Type"] not in TRANSITIONING:
        return
    has_next, ends = "Next" in ctx.raw, ctx.raw.get("End") is True
    if has_next and ends:
        report.schema("There should only be one of the following fields: [Next, End]", ctx.location)
    elif not has_next and not ends:
        report.schema("This object should have only one of the following fields: [Next, End]", ctx.location)


def check_pass(report: Report, ctx: StateContext) -> None:
    """Pass has nothing beyond the common checks."""


def check_succeed(report: Report, ctx: StateContext) -> None:
    """Succeed has nothing beyond the common checks."""


def check_task(report: Report, ctx: StateContext) -> None:
    if check_required(report, ctx.raw, ("Resource",), ctx.location):
        _check_resource(report, ctx.raw["Resource"], ctx.at("Resource"))
    check_only_one(report, ctx.raw, ("TimeoutSeconds", "TimeoutSecondsPath"), ctx.location)
    check_only_one(report, ctx.raw, ("HeartbeatSeconds", "HeartbeatSecondsPath"), ctx.location)
    timeout, heartbeat = (
        _plain_int(ctx.raw.get("TimeoutSeconds")),
        _plain_int(ctx.raw.get("HeartbeatSeconds")),
    )
    if timeout is not None and heartbeat is not None and heartbeat >= timeout:
        report.schema("HeartbeatSeconds must be smaller than TimeoutSeconds", ctx.at("HeartbeatSeconds"))
    check_retry_and_catch(report, ctx)


def _check_resource(report: Report, resource: object, location: str) -> None:
    """AWS takes only ARNs; stepdance also runs plain names as registered handlers, so those only warn."""
    if not isinstance(resource, str):
        return  # the type check has already reported it
    if not resource.strip():
        report.schema("Value cannot be empty", location)
    elif not ARN.fullmatch(resource):
        report.warn(
            "INVALID_RESOURCE",
            f"Value is not a valid resource ARN: {resource} (AWS would refuse it)",
            location,
        )


def _plain_int(value: object) -> int | None:
    """The value when it is a literal integer (not a JSONata expression, nor a boolean)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check_wait(report: Report, ctx: StateContext) -> None:
    check_exactly_one(report, ctx.raw, ("Seconds", "Timestamp", "SecondsPath", "TimestampPath"), ctx.location)
    timestamp = ctx.raw.get("Timestamp")
    if not isinstance(timestamp, str) or (ctx.is_jsonata and is_expression(timestamp)):
        return
    if not TIMESTAMP.fullmatch(timestamp):
        report.schema("Value is not a valid timestamp", ctx.at("Timestamp"))


def check_fail(report: Report, ctx: StateContext) -> None:
    check_only_one(report, ctx.raw, ("Error", "ErrorPath"), ctx.location)
    check_only_one(report, ctx.raw, ("Cause", "CausePath"), ctx.location)
    if ctx.is_jsonata:
        return
    for key in ("Error", "Cause"):
        value = ctx.raw.get(key)
        if isinstance(value, str) and value.startswith("$"):
            report.warn(
                "NO_PATH",
                "Field value looks like a path, but field name does not end with 'Path'",
                ctx.at(key),
            )


def check_choice(report: Report, ctx: StateContext) -> None:
    check_choices(report, ctx)


SIMPLE_HANDLERS: dict[str, Handler] = {
    "Pass": check_pass,
    "Succeed": check_succeed,
    "Task": check_task,
    "Wait": check_wait,
    "Fail": check_fail,
    "Choice": check_choice,
}
