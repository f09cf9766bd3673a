"""Group commit of calls made one at a time: callers at once share a write, each returns after its own item
was written, and one bad item fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from stepdance.order.designs.batching import Batcher


class Recorder:
    def __init__(self) -> None:
        self.writes: list[list[int]] = []

    def write(self, items: Sequence[int]) -> None:
        if -1 in items:
            raise ValueError("-1 is not an item")
        self.writes.append(list(items))


async def test_callers_at_once_share_a_write() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.write)
    # every call is queued before the write the first one started runs
    await asyncio.gather(*(batcher.submit(i) for i in range(50)))
    assert recorder.writes == [list(range(50))]


async def test_a_bad_item_fails_alone() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.write)
    outcomes = await asyncio.gather(*(batcher.submit(i) for i in (1, -1, 2)), return_exceptions=True)
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], ValueError)
    assert sorted(i for write in recorder.writes for i in write) == [1, 2]


async def test_a_batch_holds_at_most_the_limit_and_flush_waits_for_all() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.write, limit=3)
    calls = [asyncio.create_task(batcher.submit(i)) for i in range(7)]
    await asyncio.sleep(0)
    await batcher.flush()
    assert all(call.done() for call in calls)
    assert max(len(write) for write in recorder.writes) <= 3
