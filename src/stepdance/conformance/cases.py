"""The corpus's case files, as typed values (formats: ``shared/conformance/README.md``)."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepdance.conformance.results import Unreadable


class CaseFormatError(ValueError):
    """A file that is not a case of a known kind."""


@dataclass(frozen=True, slots=True)
class ExecutionCase:
    """One recorded ASL execution: definition + input -> status, output/error/cause, history."""

    id: str
    area: str
    definition: dict[str, Any]
    input_text: str
    expected: dict[str, Any]  # status, and output or error/cause as recorded, and history
    transformers: tuple[Mapping[str, Any], ...] = ()
    parallel_branch_events: bool = False

    @property
    def closing_details_key(self) -> str:
        """Where the closing event holds output/error/cause, e.g. ``executionFailedEventDetails``."""
        history = self.expected.get("history") or [{}]
        closing = str(history[-1].get("type", "ExecutionSucceeded"))
        return closing[0].lower() + closing[1:] + "EventDetails"

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ExecutionCase:
        normalisation = raw.get("normalisation") or {}
        return cls(
            id=raw["id"],
            area=raw.get("area", "unknown"),
            definition=raw["definition"],
            input_text=raw["input_text"],
            expected=raw["expected"],
            transformers=tuple(normalisation.get("transformers") or ()),
            parallel_branch_events=bool(normalisation.get("parallel_branch_events")),
        )


@dataclass(frozen=True, slots=True)
class ChoicePair:
    input_text: str
    definition: dict[str, Any]  # the pair's own, else the case's
    expected_status: str
    expected_output: Any


@dataclass(frozen=True, slots=True)
class ChoiceCase:
    """One Choice operator and the branch AWS took for each input."""

    id: str
    operator: str
    pairs: tuple[ChoicePair, ...]
    area: str = "choiceoperators"

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ChoiceCase:
        pairs = tuple(
            ChoicePair(
                input_text=pair["input_text"],
                definition=pair.get("definition") or raw["definition"],
                expected_status=pair["expected"]["status"],
                expected_output=pair["expected"].get("output"),
            )
            for pair in raw["pairs"]
        )
        return cls(
            id=raw["id"],
            operator=raw.get("operator", ""),
            pairs=pairs,
            area=raw.get("area", "choiceoperators"),
        )


@dataclass(frozen=True, slots=True)
class PatternCase:
    """An event-pattern case; loaded so that it can be told apart, run by the patterns command."""

    id: str
    raw: dict[str, Any]


Case = ExecutionCase | ChoiceCase | PatternCase


def parse_case(raw: Any) -> Case:
    if not isinstance(raw, dict) or "id" not in raw:
        raise CaseFormatError("not a conformance case (a JSON object with an id)")
    try:
        if "pairs" in raw:
            return ChoiceCase.from_json(raw)
        if "pattern" in raw or "pattern_text" in raw:
            return PatternCase(raw["id"], raw)
        return ExecutionCase.from_json(raw)
    except (KeyError, TypeError, IndexError) as exc:
        raise CaseFormatError(f"case {raw['id']}: malformed ({type(exc).__name__}: {exc})") from exc


def load_case(path: Path) -> Case:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CaseFormatError(f"{path.name}: {exc}") from exc
    return parse_case(raw)


def case_files(folder: Path) -> list[Path]:
    """The ``*.json`` files of a corpus folder and its sub-folders, in a stable order."""
    return sorted(path for path in folder.rglob("*.json") if path.is_file())


def read_folder(
    folder: Path, only: str | None, wanted: Callable[[Case], bool]
) -> tuple[list[Case], list[Unreadable]]:
    """The cases under ``folder`` that ``wanted`` keeps (and whose id contains ``only``, if given), and the
    files that are not cases. Raises OSError when the folder cannot be read."""
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    cases: list[Case] = []
    unreadable: list[Unreadable] = []
    for path in case_files(folder):
        try:
            case = load_case(path)
        except CaseFormatError as exc:
            unreadable.append(Unreadable(str(path), str(exc)))
            continue
        if wanted(case) and (only is None or only in case.id):
            cases.append(case)
    return cases, unreadable
