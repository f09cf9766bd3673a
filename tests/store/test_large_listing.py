"""ListExecutions stays fast on a large table: keyset pagination over indexes, never OFFSET.

With OFFSET the last pages would cost a hundred times the first; with a keyset they cost the same.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from stepdance.store import open_store
from tests.store.backends import url_for
from tests.store.factories import SM, create

ROWS = 100_000
PAGE = 1000


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_last_pages_of_a_hundred_thousand_executions_cost_what_the_first_do(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = open_store(url_for(backend, tmp_path, request))
    for first in range(0, ROWS, 10_000):
        batch = [
            create(f"e{i:06d}", start=float(i), status="FAILED" if i % 100 == 0 else "SUCCEEDED")
            for i in range(first, first + 10_000)
        ]
        assert set(store.commit(batch)) == {None}
    took: list[float] = []
    seen, token = 0, None
    while True:
        began = time.perf_counter()
        page = store.list_executions(SM, None, PAGE, token)
        took.append(time.perf_counter() - began)
        seen += len(page.items)
        if page.next_token is None:
            break
        token = page.next_token
    assert seen == ROWS
    first, last = statistics.median(took[1:11]), statistics.median(took[-10:])
    assert last < 3 * first + 0.02, f"first pages {first:.4f}s, last pages {last:.4f}s"
    failed = store.list_executions(SM, "FAILED", 100)
    second = store.list_executions(SM, "FAILED", 100, failed.next_token)
    assert [e.name for e in second.items][:2] == ["e089900", "e089800"]
    store.close()
