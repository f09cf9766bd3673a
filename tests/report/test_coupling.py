"""Coupling and change impact are computed from the definitions: what each component must know, and which
artifacts change to put a fraud check before the payment."""

from __future__ import annotations

from stepdance.report.coupling import coupling, task_services


def test_what_each_component_must_know() -> None:
    orchestrated, choreographed, hybrid = (coupling(d) for d in ("orchestrated", "choreographed", "hybrid"))
    assert orchestrated.knows["engine"] == {"payment", "inventory", "notification", "orders"}
    assert all(not orchestrated.knows[s] for s in ("payment", "inventory", "notification", "orders"))
    assert choreographed.knows["inventory"] == {"payment"}  # it reacts to PaymentCharged only
    assert choreographed.knows["notification"] == {"payment", "inventory"}
    assert "engine" not in choreographed.knows
    assert hybrid.knows["notification"] == {"engine"} and "bus" in hybrid.knows["engine"]
    assert (orchestrated.artifacts, choreographed.artifacts, hybrid.artifacts) == (1, 4, 2)


def test_adding_a_fraud_check_changes_one_definition_or_three_services_rules() -> None:
    orchestrated, choreographed = coupling("orchestrated"), coupling("choreographed")
    assert orchestrated.teams == {"workflow", "fraud"}
    assert orchestrated.change[0].startswith("saga.asl.json: StartAt, States change")
    assert choreographed.teams == {"payment", "orders", "notification", "fraud"}
    assert "the inventory service's rule" not in " ".join(choreographed.change)


def test_task_services_reads_branches_too() -> None:
    asl = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "C",
                        "States": {
                            "C": {"Type": "Task", "Resource": "stepdance:payment.charge", "End": True}
                        },
                    }
                ],
                "End": True,
            }
        },
    }
    assert task_services(asl) == {"payment"}
