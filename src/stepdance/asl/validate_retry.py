"""Checks on Retry (retriers) and Catch (catchers) of Task, Parallel and Map states."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepdance.asl import validate_jsonata
from stepdance.asl.errors import ALL
from stepdance.asl.validate_context import Report, StateContext, child, item
from stepdance.asl.validate_schema import (
    Rule,
    check_enum,
    check_path,
    check_required,
    check_unknown,
    check_value,
)
from stepdance.asl.validate_templates import check_assign

RETRIER_FIELDS = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)
RETRIER_RULES: dict[str, Rule] = {
    "IntervalSeconds": Rule((int,), 0, 99999999),
    "MaxAttempts": Rule((int,), 0, 99999999),
    "BackoffRate": Rule((float, int), 1),
    "MaxDelaySeconds": Rule((int,), 1, 31622400),
    "Comment": Rule((str,)),
}
JITTER_STRATEGIES = ("NONE", "FULL")
CATCHER_FIELDS = {
    "JSONPath": frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"}),
    "JSONata": frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"}),
}


def check_retry_and_catch(report: Report, ctx: StateContext) -> None:
    _check_list(report, ctx, "Retry", _check_retrier)
    _check_list(report, ctx, "Catch", _check_catcher)


EntryCheck = Callable[[Report, dict[str, Any], str, StateContext, bool], None]


def _check_list(report: Report, ctx: StateContext, key: str, check: EntryCheck) -> None:
    entries = ctx.raw.get(key)
    if not isinstance(entries, list):
        return  # absent, or already reported by the type check
    for index, entry in enumerate(entries):
        location = item(ctx.at(key), index)
        if report.expect(entry, (dict,), location):
            last = index == len(entries) - 1
            check(report, entry, location, ctx, last)


def _check_retrier(report: Report, raw: dict[str, Any], location: str, ctx: StateContext, last: bool) -> None:
    check_unknown(report, raw, RETRIER_FIELDS, location)
    check_required(report, raw, ("ErrorEquals",), location)
    _check_error_equals(report, raw, location, last)
    for key, rule in RETRIER_RULES.items():
        if key in raw:
            check_value(report, raw[key], rule, child(location, key), jsonata=False)
    if "JitterStrategy" in raw:
        check_enum(report, raw["JitterStrategy"], JITTER_STRATEGIES, child(location, "JitterStrategy"))


def _check_catcher(report: Report, raw: dict[str, Any], location: str, ctx: StateContext, last: bool) -> None:
    check_unknown(report, raw, CATCHER_FIELDS[ctx.language], location)
    check_required(report, raw, ("ErrorEquals", "Next"), location)
    _check_error_equals(report, raw, location, last)
    if "Next" in raw:
        report.expect(raw["Next"], (str,), child(location, "Next"))
    if "Comment" in raw:
        report.expect(raw["Comment"], (str,), child(location, "Comment"))
    if "ResultPath" in raw and raw["ResultPath"] is not None:
        check_path(report, raw["ResultPath"], child(location, "ResultPath"), reference=True)
    if "Assign" in raw and report.expect(raw["Assign"], (dict,), child(location, "Assign")):
        check_assign(report, raw["Assign"], child(location, "Assign"), jsonata=ctx.is_jsonata)
    if ctx.is_jsonata:
        for key in ("Output", "Assign"):
            if key in raw:
                validate_jsonata.check_value(report, raw[key], child(location, key))


def _check_error_equals(report: Report, raw: dict[str, Any], location: str, last: bool) -> None:
    names = raw.get("ErrorEquals")
    at = child(location, "ErrorEquals")
    if names is None or not report.expect(names, (list,), at):
        return
    if not names:
        report.schema("Value cannot be empty", at)
        return
    for index, name in enumerate(names):
        report.expect(name, (str,), item(at, index))
    if ALL in names and (len(names) > 1 or not last):
        report.schema(f"{ALL} must appear alone and at end of list", at)
