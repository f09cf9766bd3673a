"""Placeholder until the validator lands: accepts any JSON object with States and StartAt."""

from __future__ import annotations

import json

from stepdance.asl.definition import Problem


def validate_text(text: str) -> list[Problem]:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        return [Problem("INVALID_JSON_DESCRIPTION", str(exc), "")]
    if not isinstance(raw, dict) or "States" not in raw or "StartAt" not in raw:
        return [Problem("SCHEMA_VALIDATION_FAILED", "These fields are required: [States, StartAt]", "")]
    return []
