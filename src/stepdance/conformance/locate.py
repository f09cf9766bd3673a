"""The small JSONPath subset the corpus's transformers use: ``$``, ``.name``, ``..name``, ``[*]``, ``[n]``,
``['name']``.

Paths here address *slots* (a container and a key), not values, because a transformer either rewrites the
value in place or reads it to register a text replacement. ``..`` visits the node itself and every container
below it, as LocalStack's snapshot library (jsonpath-ng) does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Key = str | int
Slot = tuple[Any, Key]  # (dict or list, key or index)

_TOKEN = re.compile(
    r"(?P<dots>\.\.|\.)?"
    r"(?:\[\s*(?:(?P<index>-?\d+)|(?P<quoted>'[^']*'|\"[^\"]*\")|(?P<star>\*))\s*\]|(?P<name>[^.\[]+))"
)


@dataclass(frozen=True, slots=True)
class Step:
    deep: bool
    selector: Key | None  # None selects every child


def parse(path: str) -> list[Step]:
    """``"$..a.b[*]"`` -> ``[Step(True, "a"), Step(False, "b"), Step(False, None)]``."""
    rest = path[1:] if path.startswith("$") else path
    steps: list[Step] = []
    position = 0
    while position < len(rest):
        token = _TOKEN.match(rest, position)
        if token is None or token.end() == position:
            raise ValueError(f"unsupported JSONPath {path!r} at {rest[position:]!r}")
        steps.append(Step(token["dots"] == "..", _selector(token)))
        position = token.end()
    return steps


def _selector(token: re.Match[str]) -> Key | None:
    if token["index"] is not None:
        return int(token["index"])
    if token["quoted"] is not None:
        return token["quoted"][1:-1]
    name = token["name"]
    return None if token["star"] is not None or name == "*" else name


def locate(document: Any, path: str) -> list[Slot]:
    """Every slot the path addresses, in document order."""
    nodes = [document]
    slots: list[Slot] = []
    for step in parse(path):
        candidates = [c for node in nodes for c in _descendants(node)] if step.deep else nodes
        slots = [slot for c in candidates for slot in _select(c, step.selector)]
        nodes = [container[key] for container, key in slots]
    return slots


def _select(container: Any, selector: Key | None) -> list[Slot]:
    if selector is None:
        return [(container, key) for key, _ in _children(container)]
    if isinstance(container, dict):
        return [(container, selector)] if isinstance(selector, str) and selector in container else []
    if isinstance(container, list) and isinstance(selector, int) and 0 <= selector < len(container):
        return [(container, selector)]
    return []


def _children(node: Any) -> Iterator[tuple[Key, Any]]:
    if isinstance(node, dict):
        yield from node.items()
    elif isinstance(node, list):
        yield from enumerate(node)


def _descendants(node: Any) -> list[Any]:
    """The node and every dict or list below it, pre-order."""
    found: list[Any] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict | list):
            found.append(current)
            children = current.values() if isinstance(current, dict) else current
            stack.extend(reversed(list(children)))
    return found
