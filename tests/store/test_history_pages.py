"""History pages cut across the steps that wrote the events, at every page size, both ways."""

from __future__ import annotations

from stepdance.store import Store
from tests.store.factories import create, event, execution_arn, step

STEP_SIZES = [1, 3, 1, 1, 4, 2, 5, 1]  # events written by each commit: 18 in all


def _commit_steps(store: Store) -> str:
    store.commit([create("e1", events=STEP_SIZES[0])])
    first = STEP_SIZES[0] + 1
    for version, size in enumerate(STEP_SIZES[1:], start=1):
        events = [event(i) for i in range(first, first + size)]
        assert store.commit([step("e1", version, first_event=first, events=events)]) == [None]
        first += size
    return execution_arn("e1")


def _all_pages(store: Store, arn: str, limit: int, *, reverse: bool) -> list[list[int]]:
    pages, token = [], None
    while True:
        page = store.get_history(arn, limit, token, reverse=reverse)
        pages.append([e["id"] for e in page.items])
        assert len(page.items) == limit or page.next_token is None
        if (token := page.next_token) is None:
            return pages


def test_every_page_size_visits_each_event_once_in_order_both_ways(store: Store) -> None:
    arn = _commit_steps(store)
    total = sum(STEP_SIZES)
    for limit in range(1, total + 2):
        forwards = _all_pages(store, arn, limit, reverse=False)
        backwards = _all_pages(store, arn, limit, reverse=True)
        assert [i for page in forwards for i in page] == list(range(1, total + 1)), limit
        assert [i for page in backwards for i in page] == list(range(total, 0, -1)), limit
        assert len(forwards) == len(backwards) == max(1, -(-total // limit)), limit
