"""Failure scenarios: declared in YAML (:mod:`.scenario`), run on any design with their faults injected
(:mod:`.runner`), judged by the invariants (:mod:`.invariants`) on what the services' own data shows
(:mod:`.evidence`). The catalog shipped with stepdance is :func:`catalog`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from stepdance.faults.invariants import RULES, Snapshot, Violation, check
from stepdance.faults.scenario import Scenario, ScenarioError, load_scenario, parse_scenario


def catalog_files() -> list[Path]:
    """The catalog's scenario files, by name."""
    folder = Path(str(resources.files("stepdance.faults") / "catalog"))
    return sorted(folder.glob("*.yaml"))


def catalog() -> list[Scenario]:
    """The scenarios shipped with stepdance."""
    return [load_scenario(path) for path in catalog_files()]


__all__ = [
    "RULES",
    "Scenario",
    "ScenarioError",
    "Snapshot",
    "Violation",
    "catalog",
    "catalog_files",
    "check",
    "load_scenario",
    "parse_scenario",
]
