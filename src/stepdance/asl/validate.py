"""Validation of Amazon States Language definitions, as ValidateStateMachineDefinition does it.

``validate_text`` and ``validate`` return every problem found, never only the first, each with AWS's code,
wording and location (``SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/X``). They
never raise: any input, however malformed, gives a list. Problems of severity WARNING (NO_DOLLAR,
NO_PATH, PASS_RESULT_IS_STATIC) do not make a definition invalid.

The rules live in small modules: ``validate_json`` (reading the text), ``validate_machine`` (a machine
and its top-level fields), ``validate_states`` and ``validate_composite`` (one handler per state type),
``validate_choice``, ``validate_retry``, ``validate_templates``, ``validate_graph`` (transitions),
``validate_schema`` (field tables and types), ``validate_paths`` and ``validate_jsonata`` (expressions).
"""

from __future__ import annotations

from stepdance.asl.definition import Problem
from stepdance.asl.validate_context import SCHEMA, Report
from stepdance.asl.validate_json import parse
from stepdance.asl.validate_machine import check_machine

NOT_AN_OBJECT = "Definition must be a valid JSON object"


def validate_text(text: str) -> list[Problem]:
    """Every problem in a definition given as JSON text."""
    if not text.strip():
        return [Problem(SCHEMA, NOT_AN_OBJECT, "")]
    raw, problem = parse(text)
    if problem is not None:
        return [problem]
    return validate(raw)


def validate(raw: object) -> list[Problem]:
    """Every problem in a definition already read from JSON (anything but an object is one problem)."""
    if not isinstance(raw, dict):
        return [Problem(SCHEMA, NOT_AN_OBJECT, "")]
    report = Report()
    try:
        check_machine(report, raw, "", "root")
    except RecursionError:
        report.add("TOO_DEEPLY_NESTED", "The states are too deeply nested", "")
    return report.problems


def is_valid(problems: list[Problem]) -> bool:
    """Whether a definition with these problems can be created (warnings do not prevent it)."""
    return not any(problem.severity == "ERROR" for problem in problems)
