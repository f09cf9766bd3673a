"""Checks on a machine: the whole definition, a Parallel branch or a Map's item processor. Each has
StartAt and States; the root also takes Version, TimeoutSeconds and QueryLanguage, an item processor its
ProcessorConfig."""

from __future__ import annotations

from functools import partial
from typing import Any

from stepdance.asl.validate_composite import MachineKind, check_map, check_parallel, check_processor_config
from stepdance.asl.validate_context import Report, child, language_of
from stepdance.asl.validate_graph import check_graph
from stepdance.asl.validate_schema import (
    LANGUAGES,
    Rule,
    check_enum,
    check_required,
    check_unknown,
    check_value,
)
from stepdance.asl.validate_states import SIMPLE_HANDLERS, Handler, check_state

_SCOPE_FIELDS = frozenset({"StartAt", "States", "Comment"})
FIELDS: dict[str, frozenset[str]] = {
    "root": _SCOPE_FIELDS | {"Version", "TimeoutSeconds", "QueryLanguage"},
    "branch": _SCOPE_FIELDS,
    "processor": _SCOPE_FIELDS | {"ProcessorConfig"},
}
VERSIONS = ("1.0",)
MACHINE_TIMEOUT = Rule((int,), 0, 99999999)


def check_machine(report: Report, raw: Any, location: str, kind: MachineKind) -> None:
    if not isinstance(raw, dict):
        report.expect(raw, (dict,), location)
        return
    check_unknown(report, raw, FIELDS[kind], location)
    check_required(report, raw, ("States", "StartAt"), location)
    if kind == "root":
        _check_root_fields(report, raw)
    if kind == "processor" and "ProcessorConfig" in raw:
        check_processor_config(report, raw["ProcessorConfig"], child(location, "ProcessorConfig"))
    if "Comment" in raw:
        report.expect(raw["Comment"], (str,), child(location, "Comment"))
    if "StartAt" in raw:
        report.expect(raw["StartAt"], (str,), child(location, "StartAt"))
    states = raw.get("States")
    if states is None or not report.expect(states, (dict,), child(location, "States")):
        return
    for name, state in states.items():
        check_state(report, str(name), state, child(child(location, "States"), str(name)), HANDLERS)
    for name in getattr(states, "duplicates", ()):
        report.add(
            "DUPLICATE_STATE_NAME", f"Duplicate State name: {name}", child(child(location, "States"), name)
        )
    check_graph(report, raw, location)


def _check_root_fields(report: Report, raw: dict[str, Any]) -> None:
    if "QueryLanguage" in raw:
        check_enum(report, raw["QueryLanguage"], LANGUAGES, "/QueryLanguage")
    report.root_language = language_of(raw, "JSONPath")
    if "Version" in raw:
        check_enum(report, raw["Version"], VERSIONS, "/Version")
    if "TimeoutSeconds" in raw:
        check_value(report, raw["TimeoutSeconds"], MACHINE_TIMEOUT, "/TimeoutSeconds", jsonata=False)


def _composite(check: Any) -> Handler:
    return partial(check, check_machine=check_machine)


HANDLERS: dict[str, Handler] = {
    **SIMPLE_HANDLERS,
    "Parallel": _composite(check_parallel),
    "Map": _composite(check_map),
}
