"""Event-pattern matching throughput with 10 rules and with 1,000 rules: the index should make rule count
nearly free.

Rules look like EventBridge rules in the wild: a literal ``source`` (50 services) and ``detail-type`` (20
kinds), plus one to three conditions on varied ``detail`` fields (literals, prefixes, numeric ranges,
anything-but, exists, equals-ignore-case), a quarter of them with an ``$or``. Events come from the same
services, kinds and fields, so some match and most do not. Each event goes through ``RuleIndex.match``; for
reference, the 1,000 rules are also tried one by one. Target: throughput with 1,000 rules at least 0.33 of
the throughput with 10 (``rules_ratio``).

    .venv/bin/python bench/patterns.py [--events N] [--repeat N]
"""

from __future__ import annotations

import argparse
import random
from typing import Any

from _common import console, figures_table, finish, median_seconds
from stepdance.bus.patterns import Pattern, RuleIndex, compile_pattern

TARGET = 0.33
SERVICES = [f"com.shop.service{n}" for n in range(50)]
KINDS = [f"Order{verb}" for verb in ("Placed", "Paid", "Packed", "Shipped", "Delivered")] + [
    f"Kind{n}" for n in range(15)
]
FIELDS = [f"field{n}" for n in range(30)]
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def condition(rng: random.Random) -> Any:
    """The value array of one detail field."""
    kind = rng.randrange(7)
    if kind == 0:
        return rng.sample(WORDS, rng.randint(1, 3))
    if kind == 1:
        return [{"prefix": rng.choice(WORDS)[:3]}]
    if kind == 2:
        low = rng.randint(0, 80)
        return [{"numeric": [">=", low, "<", low + rng.randint(5, 40)]}]
    if kind == 3:
        return [{"anything-but": rng.sample(WORDS, 2)}]
    if kind == 4:
        return [{"exists": rng.random() < 0.7}]
    if kind == 5:
        return [{"equals-ignore-case": rng.choice(WORDS).upper()}]
    return [rng.randint(0, 100), rng.randint(0, 100)]


def rule(rng: random.Random) -> dict[str, Any]:
    detail = {name: condition(rng) for name in rng.sample(FIELDS, rng.randint(1, 3))}
    if rng.random() < 0.25:
        detail["$or"] = [{rng.choice(FIELDS): condition(rng)}, {rng.choice(FIELDS): condition(rng)}]
    return {"source": [rng.choice(SERVICES)], "detail-type": [rng.choice(KINDS)], "detail": detail}


def event(rng: random.Random) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for name in rng.sample(FIELDS, 12):
        detail[name] = rng.choice(WORDS) if rng.random() < 0.5 else rng.randint(0, 100)
    return {
        "version": "0",
        "id": f"{rng.getrandbits(64):016x}",
        "source": rng.choice(SERVICES),
        "detail-type": rng.choice(KINDS),
        "account": "123456789012",
        "time": "2024-05-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def throughput(seconds: float, events: int) -> float:
    return round(events / seconds) if seconds else float("inf")


def measure(rules: list[Pattern], events: list[dict[str, Any]], repeat: int) -> tuple[float, int]:
    """Events per second through an index of ``rules``, and how many (event, rule) matches were found."""
    index: RuleIndex[int] = RuleIndex()
    for rule_id, pattern in enumerate(rules):
        index.add(rule_id, pattern)
    matched = sum(len(index.match(evt)) for evt in events)
    seconds = median_seconds(lambda: [index.match(evt) for evt in events], repeat)
    return throughput(seconds, len(events)), matched


def one_by_one(rules: list[Pattern], events: list[dict[str, Any]]) -> tuple[float, int]:
    def run() -> int:
        return sum(pattern.matches(evt) for evt in events for pattern in rules)

    matched = run()
    return throughput(median_seconds(run, 1), len(events)), matched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(20240501)
    rules = [compile_pattern(rule(rng)) for _ in range(1000)]
    events = [event(rng) for _ in range(args.events)]

    few, few_matched = measure(rules[:10], events, args.repeat)
    many, many_matched = measure(rules, events, args.repeat)
    sample = events[: max(1, args.events // 50)]
    naive, naive_matched = one_by_one(rules, sample)
    assert naive_matched == sum(len(match) for match in _matches(rules, sample)), (
        "index and one by one differ"
    )

    console.print(
        figures_table(
            f"RuleIndex.match over {len(events):,} events",
            [
                ("10 rules", f"{few:,.0f}", f"{few_matched:,}"),
                ("1,000 rules", f"{many:,.0f}", f"{many_matched:,}"),
                ("1,000 rules one by one (no index)", f"{naive:,.0f}", "-"),
            ],
            columns=("", "events/s", "matches"),
        )
    )
    finish(
        {
            "events": len(events),
            "events_per_s_10_rules": few,
            "events_per_s_1000_rules": many,
            "events_per_s_1000_rules_one_by_one": naive,
            "matches_1000_rules": many_matched,
            "rules_ratio": round(many / few, 2),
        },
        {"rules_ratio": TARGET},
    )


def _matches(rules: list[Pattern], events: list[dict[str, Any]]) -> list[list[int]]:
    """The index's answers, to check the one-by-one count against."""
    index: RuleIndex[int] = RuleIndex()
    for rule_id, pattern in enumerate(rules):
        index.add(rule_id, pattern)
    return [index.match(evt) for evt in events]


if __name__ == "__main__":
    main()
