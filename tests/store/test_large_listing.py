"""ListExecutions over a large table: keyset pagination visits every row exactly once, newest first.

How long pages take (flat from the first page to the last, because the token is a key, not an OFFSET) is
measured by ``bench/engine_scale.py``; tests do not assert timings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stepdance.store import open_store
from tests.store.backends import url_for
from tests.store.factories import SM, create

ROWS = 100_000
PAGE = 1000


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_pages_of_a_hundred_thousand_executions_visit_each_once_newest_first(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = open_store(url_for(backend, tmp_path, request))
    for first in range(0, ROWS, 10_000):
        batch = [
            create(f"e{i:06d}", start=float(i), status="FAILED" if i % 100 == 0 else "SUCCEEDED")
            for i in range(first, first + 10_000)
        ]
        assert set(store.commit(batch)) == {None}
    names: list[str] = []
    token = None
    while True:
        page = store.list_executions(SM, None, PAGE, token)
        names += [e.name for e in page.items]
        if page.next_token is None:
            break
        token = page.next_token
    assert names == [f"e{i:06d}" for i in reversed(range(ROWS))]
    failed = store.list_executions(SM, "FAILED", 100)
    second = store.list_executions(SM, "FAILED", 100, failed.next_token)
    assert [e.name for e in second.items][:2] == ["e089900", "e089800"]
    store.close()
