"""From what was gathered to the decision's evidence, per design: every figure here is one of the run's."""

from __future__ import annotations

from statistics import mean

from stepdance.report.coupling import coupling
from stepdance.report.decision import Evidence
from stepdance.report.gather import Gathered

TIMEOUT_SCENARIO = "inventory-timeout"


def evidence(found: Gathered) -> list[Evidence]:
    result = []
    for design, run in found.runs.items():
        mine = [o for o in found.outcomes if o["design"] == design and not o.get("skipped")]
        recovered = [o["recoverSeconds"] for o in mine if o.get("recoverSeconds") is not None]
        timeout = next((o["recoverSeconds"] for o in mine if o["scenario"] == TIMEOUT_SCENARIO), None)
        result.append(
            Evidence(
                design=design,
                orders_per_second=run.orders_per_second,
                p99_ms=run.p99_ms,
                coupling=coupling(design),
                scenario_runs=len(mine),
                scenarios_passed=sum(1 for o in mine if o["passed"]),
                violations=sum(len(o["violations"]) for o in mine),
                mean_recover_seconds=round(mean(recovered), 2) if recovered else None,
                resent=sum(int(o.get("resent") or 0) for o in mine),
                timeout_recover_seconds=timeout,
                spans_per_order=run.spans_per_order,
            )
        )
    return result
