"""Checks on the states that hold machines of their own: Parallel (Branches) and Map (ItemProcessor, or
its older name Iterator). The nested machines are checked by the machine checker passed in, with their own
locations (``/States/M/ItemProcessor/States/X``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from stepdance.asl.validate_context import Report, StateContext, child, item
from stepdance.asl.validate_retry import check_retry_and_catch
from stepdance.asl.validate_schema import (
    check_enum,
    check_exactly_one,
    check_only_one,
    check_required,
    check_unknown,
)

MachineKind = Literal["root", "branch", "processor"]
MachineCheck = Callable[[Report, Any, str, MachineKind], None]
MAX_LABEL = 40
PROCESSOR_MODES = ("INLINE", "DISTRIBUTED")
EXECUTION_TYPES = ("STANDARD", "EXPRESS")


def check_parallel(report: Report, ctx: StateContext, check_machine: MachineCheck) -> None:
    check_required(report, ctx.raw, ("Branches",), ctx.location)
    branches = ctx.raw.get("Branches")
    if isinstance(branches, list):
        if not branches:
            report.schema("Value cannot be empty", ctx.at("Branches"))
        for index, branch in enumerate(branches):
            check_machine(report, branch, item(ctx.at("Branches"), index), "branch")
    check_retry_and_catch(report, ctx)


def check_map(report: Report, ctx: StateContext, check_machine: MachineCheck) -> None:
    check_exactly_one(report, ctx.raw, ("ItemProcessor", "Iterator"), ctx.location)
    for key in ("ItemProcessor", "Iterator"):
        if isinstance(ctx.raw.get(key), dict):
            check_machine(report, ctx.raw[key], ctx.at(key), "processor")
    for pair in (
        ("MaxConcurrency", "MaxConcurrencyPath"),
        ("ToleratedFailureCount", "ToleratedFailureCountPath"),
        ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
        ("ItemSelector", "Parameters"),
    ):
        check_only_one(report, ctx.raw, pair, ctx.location)
    label = ctx.raw.get("Label")
    if isinstance(label, str) and not 0 < len(label) <= MAX_LABEL:
        report.add(
            "INVALID_LABEL_NAME",
            f"Label '{label}' must be between 1 and {MAX_LABEL} characters long",
            ctx.at("Label"),
        )
    check_retry_and_catch(report, ctx)


def check_processor_config(report: Report, raw: Any, location: str) -> None:
    """ItemProcessor's ProcessorConfig: the mode, and the child execution type a distributed Map needs."""
    if not report.expect(raw, (dict,), location):
        return
    check_unknown(report, raw, frozenset({"Mode", "ExecutionType"}), location)
    mode = raw.get("Mode", "INLINE")
    if "Mode" in raw and not check_enum(report, mode, PROCESSOR_MODES, child(location, "Mode")):
        return
    if mode == "DISTRIBUTED" and check_required(report, raw, ("ExecutionType",), location):
        check_enum(report, raw["ExecutionType"], EXECUTION_TYPES, child(location, "ExecutionType"))
    elif mode == "INLINE" and "ExecutionType" in raw:
        report.schema("Field 'ExecutionType' is not supported", location)
