"""What a conformance run found: one outcome per unit checked (an execution, a Choice pair, a pattern), and
the tallies derived from them.

The report is the same for every kind of case, so sibling commands (``conformance patterns``) produce
outcomes of their own section and share the tallies, the JSON shape and the printing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SECTION_TITLES = {
    "executions": "ASL executions",
    "choice_pairs": "Choice pairs",
    "patterns": "Event patterns",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """One checked unit. ``id`` is the case id, with ``#<n>`` for the n-th pair of a Choice case."""

    id: str
    section: str  # a key of SECTION_TITLES
    area: str
    passed: bool
    differences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Tally:
    passed: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float:
        """Percentage passed; 100 when nothing was run."""
        return 100.0 * self.passed / self.total if self.total else 100.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.passed + other.passed, self.failed + other.failed)

    def to_json(self) -> dict[str, int]:
        return {"passed": self.passed, "failed": self.failed, "total": self.total}


def tally(outcomes: Iterable[Outcome]) -> Tally:
    return sum((Tally(1, 0) if o.passed else Tally(0, 1) for o in outcomes), Tally())


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file in the cases folder that is not a case this command can run."""

    path: str
    problem: str


@dataclass(slots=True)
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    sections_shown: tuple[str, ...] = ()  # sections reported even when nothing of them was run

    @property
    def total(self) -> Tally:
        return tally(self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    def sections(self) -> dict[str, list[Outcome]]:
        """Outcomes per section, in the order of SECTION_TITLES (empty ones only if in sections_shown)."""
        grouped = {name: [o for o in self.outcomes if o.section == name] for name in SECTION_TITLES}
        return {name: found for name, found in grouped.items() if found or name in self.sections_shown}

    def by_area(self, outcomes: Iterable[Outcome] | None = None) -> dict[str, Tally]:
        areas: dict[str, Tally] = {}
        for o in self.outcomes if outcomes is None else outcomes:
            areas[o.area] = areas.get(o.area, Tally()) + (Tally(1, 0) if o.passed else Tally(0, 1))
        return dict(sorted(areas.items()))

    def to_json(self) -> dict[str, Any]:
        """``{"passed", "failed", "total", "failing", "by_area", <section>: {...}, "unreadable"}``."""
        document: dict[str, Any] = {
            **self.total.to_json(),
            "failing": [o.id for o in self.failures],
            "by_area": {area: t.to_json() for area, t in self.by_area().items()},
        }
        for name, outcomes in self.sections().items():
            document[name] = {
                **tally(outcomes).to_json(),
                "failing": [o.id for o in outcomes if not o.passed],
                "by_area": {area: t.to_json() for area, t in self.by_area(outcomes).items()},
            }
        document["unreadable"] = [{"path": u.path, "problem": u.problem} for u in self.unreadable]
        return document
