"""Paginated reads: history (forwards and backwards) and executions (newest first, by status)."""

from __future__ import annotations

from typing import Any

import pytest

from stepdance.store import InvalidPageToken, Page, Store
from tests.store.factories import SM, create, execution_arn, step


def pages(fetch: Any) -> list[list[Any]]:
    out: list[list[Any]] = []
    token = None
    while True:
        page: Page[Any] = fetch(token)
        out.append(page.items)
        if page.next_token is None:
            return out
        token = page.next_token


def test_history_pages_forwards_and_backwards(store: Store) -> None:
    arn = execution_arn("e1")
    store.commit([create("e1", events=7)])
    forwards = pages(lambda token: store.get_history(arn, 3, token))
    assert [[e["id"] for e in p] for p in forwards] == [[1, 2, 3], [4, 5, 6], [7]]
    backwards = pages(lambda token: store.get_history(arn, 3, token, reverse=True))
    assert [[e["id"] for e in p] for p in backwards] == [[7, 6, 5], [4, 3, 2], [1]]


def test_a_history_that_fits_one_page_has_no_token(store: Store) -> None:
    store.commit([create("e1", events=3)])
    page = store.get_history(execution_arn("e1"), 3)
    assert (len(page.items), page.next_token) == (3, None)


def test_a_bad_history_token_is_invalid(store: Store) -> None:
    store.commit([create("e1", events=3)])
    with pytest.raises(InvalidPageToken):
        store.get_history(execution_arn("e1"), 2, "garbage!")


def test_executions_list_newest_first_across_pages(store: Store) -> None:
    # Ties on the start date are broken by arn, so no row is skipped or repeated at a page boundary.
    store.commit([create(f"e{i:03d}", start=1000.0 + i // 3) for i in range(25)])
    listed = pages(lambda token: store.list_executions(SM, None, 4, token))
    names = [e.name for page in listed for e in page]
    expected = sorted(
        (f"e{i:03d}" for i in range(25)), key=lambda n: (1000 + int(n[1:]) // 3, n), reverse=True
    )
    assert names == expected
    assert all(len(page) == 4 for page in listed[:-1])
    assert listed[0][0].snapshot is None


def test_executions_filter_by_status(store: Store) -> None:
    store.commit([create(f"e{i}", start=float(i)) for i in range(6)])
    store.commit([step(f"e{i}", 1, first_event=2, status="SUCCEEDED", stop_date=9.0) for i in (1, 3, 4)])
    done = pages(lambda token: store.list_executions(SM, "SUCCEEDED", 2, token))
    assert [[e.name for e in page] for page in done] == [["e4", "e3"], ["e1"]]
    assert [e.name for e in store.list_executions(SM, "RUNNING", 10).items] == ["e5", "e2", "e0"]
    assert store.list_executions("arn:other", None, 10).items == []


def test_listed_executions_carry_what_list_executions_shows(store: Store) -> None:
    store.commit([create("e1", start=5.0)])
    store.commit([step("e1", 1, first_event=2, status="FAILED", stop_date=8.0, error="E")])
    (item,) = store.list_executions(SM, None, 10).items
    assert (item.arn, item.state_machine_arn, item.name, item.status) == (
        execution_arn("e1"),
        SM,
        "e1",
        "FAILED",
    )
    assert (item.start_date, item.stop_date, item.redrive_count) == (5.0, 8.0, 0)


def test_a_bad_listing_token_is_invalid(store: Store) -> None:
    with pytest.raises(InvalidPageToken):
        store.list_executions(SM, None, 10, "e30=")
