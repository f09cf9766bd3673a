"""LocalStack's re-ordering of Parallel branch events, side effects included.

Branch events run concurrently, so their order is not reproducible; LocalStack gives every event between
``ParallelStateStarted`` and the closing Parallel event the id ``[0]`` and previous id ``0`` and sorts them by
their JSON text. Its walk keeps the collected block after the first closing event, so the
``ParallelStateExited`` that follows ``ParallelStateSucceeded`` replaces a slice one event longer than the
block: ``ParallelStateSucceeded`` disappears and the event after ``ParallelStateExited`` is skipped by the
walk. The recorded histories show exactly this, so an engine's history must go through the same steps.
"""

from __future__ import annotations

import json
from typing import Any

BRANCH_EVENT_ID = [0]
_CLOSING = frozenset(
    {"ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted", "ParallelStateExited"}
)


def reorder_branch_events(events: list[Any]) -> None:
    """Rewrite ``events`` in place."""
    block: list[dict[str, Any]] = []
    block_start = 0
    inside = False
    position = 0
    while position < len(events):
        event = events[position]
        kind = event.get("type")
        if kind in _CLOSING:
            events[block_start:position] = sorted(block, key=_text)
            inside = False
        elif kind == "ParallelStateStarted":
            block, block_start, inside = [], position + 1, True
        elif kind is None:
            inside = False
        elif inside:
            event["id"] = list(BRANCH_EVENT_ID)
            event["previousEventId"] = 0
            block.append(event)
        position += 1


def _text(event: dict[str, Any]) -> str:
    return json.dumps(event, default=repr)
