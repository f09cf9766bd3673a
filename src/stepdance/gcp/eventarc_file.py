"""A file of Eventarc triggers, as ``stepdance serve --triggers`` and ``stepdance triggers apply`` read it:
JSON or YAML holding one trigger, a list of them, or ``{"triggers": [...]}``. Errors name the file and the
line (a syntax error) or the JSON pointer (a bad trigger)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class TriggerFileError(ValueError):
    """A trigger file that cannot be read; the message names the file and where in it."""


def read_triggers(path: Path) -> tuple[list[Any], list[str]]:
    """The trigger documents of ``path``, not yet checked (``Triggers.apply`` checks them), and the JSON
    pointer of each in the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TriggerFileError(f"{path}: cannot read it ({error})") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as error:
        raise TriggerFileError(f"{path}: line {error.lineno}: {error.msg}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        raise TriggerFileError(f"{path}: {where}{reason}") from None
    if isinstance(document, dict) and "triggers" in document:
        listed = document["triggers"]
        if not isinstance(listed, list):
            raise TriggerFileError(f"{path}: /triggers: a list of triggers, not {type(listed).__name__}")
        return listed, [f"/triggers/{index}" for index in range(len(listed))]
    if isinstance(document, dict):
        return [document], [""]
    if not isinstance(document, list):
        raise TriggerFileError(f'{path}: a trigger, a list of triggers or {{"triggers": [...]}}')
    return document, [f"/{index}" for index in range(len(document))]
