"""The decision matrix and the recommendation: each design scored 1-5 on each criterion from a measured
figure or a computed fact (the reason says which), weighted by the user's priorities; the recommendation is
the highest total, with what it gives up against the runner-up. Pure: evidence and priorities in.

Criteria: the ones the comparison starts from (clear step order, independent teams, easy debugging, loose
coupling, long-running workflows, audit) and the ones practitioners add (consistency, operability,
scalability, testability).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from stepdance.report.coupling import Coupling

CRITERIA: dict[str, str] = {
    "step-order": "clear step order",
    "team-autonomy": "independent teams",
    "debugging": "easy debugging",
    "loose-coupling": "loose coupling",
    "long-running": "long-running workflows",
    "audit": "audit",
    "consistency": "consistency",
    "operability": "operability",
    "scalability": "scalability",
    "testability": "testability",
}
WEIGHTS = {"none": 0, "low": 1, "medium": 2, "high": 3}
DEFAULT_PRIORITIES: dict[str, str] = {
    "step-order": "medium",
    "team-autonomy": "medium",
    "debugging": "high",
    "loose-coupling": "medium",
    "long-running": "medium",
    "audit": "high",
    "consistency": "high",
    "operability": "medium",
    "scalability": "medium",
    "testability": "medium",
}
ENGINE_DESIGNS = ("orchestrated", "hybrid", "workflows")
CENTRAL = ("orchestrated", "workflows")  # one definition holds the whole flow


class PriorityError(ValueError):
    """A ``--priorities`` text that names an unknown criterion or weight; the message lists the valid ones."""


def parse_priorities(text: str | None) -> dict[str, str]:
    """``audit=high,team-autonomy=low`` over the defaults."""
    chosen = dict(DEFAULT_PRIORITIES)
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, equals, weight = (part.strip().lower() for part in item.partition("="))
        if name not in CRITERIA:
            raise PriorityError(f"unknown criterion {name!r}: one of {', '.join(CRITERIA)}")
        if not equals or weight not in WEIGHTS:
            raise PriorityError(f"{name}: the weight is one of {', '.join(WEIGHTS)}, not {weight!r}")
        chosen[name] = weight
    return chosen


@dataclass(frozen=True)
class Evidence:
    """What was measured and computed for one design."""

    design: str
    orders_per_second: float
    p99_ms: float
    coupling: Coupling
    scenario_runs: int
    scenarios_passed: int
    violations: int
    mean_recover_seconds: float | None
    resent: int
    timeout_recover_seconds: float | None  # the inventory-timeout scenario (a step past its deadline)
    spans_per_order: float


@dataclass(frozen=True)
class Score:
    value: int  # 1..5
    reason: str


@dataclass
class Matrix:
    designs: list[str]
    priorities: dict[str, str]
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)  # criterion -> design -> score

    def total(self, design: str) -> int:
        return sum(WEIGHTS[self.priorities[c]] * self.scores[c][design].value for c in CRITERIA)

    def ranking(self) -> list[str]:
        order = {d: i for i, d in enumerate(self.designs)}
        return sorted(self.designs, key=lambda d: (-self.total(d), order[d]))


@dataclass(frozen=True)
class Recommendation:
    design: str
    runner_up: str
    totals: dict[str, int]
    wins: list[str]  # criteria where it beats the runner-up, with the reasons
    gives_up: list[str]  # criteria where the runner-up beats it

    def summary(self) -> str:
        margin = self.totals[self.design] - self.totals[self.runner_up]
        return (
            f"{self.design} (weighted score {self.totals[self.design]}, {margin} ahead of {self.runner_up})"
        )


def matrix(evidence: Sequence[Evidence], priorities: Mapping[str, str]) -> Matrix:
    found = Matrix([e.design for e in evidence], dict(priorities))
    best_rate = max((e.orders_per_second for e in evidence), default=1.0) or 1.0
    recoveries = [e.mean_recover_seconds for e in evidence if e.mean_recover_seconds is not None]
    for criterion in CRITERIA:
        found.scores[criterion] = {
            e.design: _score(criterion, e, best_rate, min(recoveries, default=0.0)) for e in evidence
        }
    return found


def recommend(found: Matrix) -> Recommendation:
    first, second = found.ranking()[:2]
    wins, gives_up = [], []
    for criterion, label in CRITERIA.items():
        weight = found.priorities[criterion]
        if weight == "none":
            continue
        a, b = found.scores[criterion][first], found.scores[criterion][second]
        if a.value > b.value:
            wins.append(f"{label} ({weight}): {a.value} vs {b.value}, {a.reason}")
        elif b.value > a.value:
            gives_up.append(f"{label} ({weight}): {a.value} vs {b.value}, {second}: {b.reason}")
    totals = {d: found.total(d) for d in found.designs}
    return Recommendation(first, second, totals, wins, gives_up)


def _clamp(value: float) -> int:
    return max(1, min(5, round(value)))


def _score(criterion: str, e: Evidence, best_rate: float, best_recovery: float) -> Score:
    engine = e.design in ENGINE_DESIGNS
    c = e.coupling
    match criterion:
        case "step-order":
            return Score(
                _clamp(6 - c.artifacts),
                f"the order of the steps is read in {c.artifacts} definition{'s' if c.artifacts > 1 else ''}",
            )
        case "team-autonomy":
            name, width = c.widest
            central = f"the {name} must know {width} other components: flow changes go through its owner"
            spread = f"no component knows more than {width} others; no central owner"
            return Score(_clamp(6 - width), central if width >= 3 else spread)
        case "debugging":
            records, which = {
                "orchestrated": (1, "the execution's history: every step's input, output and error"),
                "hybrid": (2, "the execution's history and the notification's delivery on the bus"),
                "workflows": (1, "the execution's step entries: every step's output, error and line"),
            }.get(e.design, (5, "the four services' own records and the bus's dead letters"))
            return Score(
                _clamp(6 - records),
                f"{records} record{'s' if records > 1 else ''} to open to follow an order without its trace "
                f"({which}); with it, {e.spans_per_order:.0f} spans per order in one trace",
            )
        case "loose-coupling":
            consumers = 1 if e.design in CENTRAL else 0
            return Score(
                5 if consumers == 0 else 3,
                f"a new reaction to an outcome changes {consumers} existing component"
                f"{'' if consumers == 1 else 's'} ({'the state machine' if consumers else 'a new rule only'}); "
                f"{c.links} dependencies between components",
            )
        case "long-running":
            timed = e.timeout_recover_seconds
            how = (
                "durable state, timers and deadlines in the engine (TimeoutSeconds cut a 6 s step at 5 s)"
                if engine
                else "no deadline on a reaction: a stuck step is only late; timers are each service's own"
            )
            figure = f"; slow step settled {timed:.1f} s after it struck" if timed is not None else ""
            return Score(5 if engine else 2, how + figure)
        case "audit":
            if e.design in CENTRAL:
                return Score(5, "every step, input, output and error in one execution history per order")
            if e.design == "hybrid":
                return Score(
                    4, "the money and stock steps in one history; the notification in the bus's records"
                )
            return Score(
                3, "the facts are events (archivable, replayable), but no one record holds the order"
            )
        case "consistency":
            held = e.violations == 0
            return Score(
                5 if held and e.resent == 0 else 4 if held else 1,
                f"invariants held in {e.scenarios_passed} of {e.scenario_runs} scenario runs"
                + (
                    f"; {e.resent} notifications handed over twice when the database died mid-send"
                    if e.resent
                    else ""
                ),
            )
        case "operability":
            if e.mean_recover_seconds is None:
                return Score(3, "no time to recover measured")
            ratio = best_recovery / e.mean_recover_seconds if e.mean_recover_seconds else 1.0
            return Score(
                _clamp(5 * ratio),
                f"mean time to recover {e.mean_recover_seconds:.1f} s over the catalog's faults",
            )
        case "scalability":
            return Score(
                _clamp(5 * e.orders_per_second / best_rate),
                f"{e.orders_per_second:.0f} orders/s, p99 {e.p99_ms:.0f} ms on the standard workload",
            )
        case "testability":
            parts = 1 if e.design in CENTRAL else 2 if e.design == "hybrid" else 5
            return Score(
                _clamp(6 - parts),
                f"{parts} component{'s' if parts > 1 else ''} to start to test the flow end to end"
                + (
                    " (the state machine runs in the pure interpreter)"
                    if engine
                    else " (the bus and four services)"
                ),
            )
    raise KeyError(criterion)
