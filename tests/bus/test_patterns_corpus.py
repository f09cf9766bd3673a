"""The visible event-pattern corpus (AWS's answers recorded by LocalStack's validated tests): every case must
pass, invalid patterns with AWS's exact message."""

from __future__ import annotations

import pytest

from stepdance.conformance.patterns import LoadedPatterns, evaluate, load_pattern_folder, run_pattern_cases
from stepdance.conformance.results import tally
from tests.conformance.corpus import corpus_folder, reference_checker


@pytest.fixture(scope="module")
def loaded() -> LoadedPatterns:
    return load_pattern_folder(corpus_folder("event-patterns"))


def test_every_visible_case_gives_aws_answer(loaded: LoadedPatterns) -> None:
    report = run_pattern_cases(loaded.cases)
    counts = tally(report.outcomes)
    assert counts.total >= 129
    assert loaded.unreadable == []
    failing = "\n".join(f"{o.id}: {'; '.join(o.differences)}" for o in report.failures)
    assert counts.failed == 0, failing


def test_the_reference_checker_agrees_with_every_verdict(loaded: LoadedPatterns) -> None:
    reference = reference_checker()
    if reference is None:
        pytest.skip("the reference checker check.py is not in the corpus folder")
    for case in loaded.cases:
        verdict = evaluate(case.raw)
        assert reference.check_pattern(case.raw, verdict.result, verdict.message) == [], case.id
