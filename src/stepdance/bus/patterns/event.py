"""An event seen as a pattern sees it: leaf values by dotted path.

Keys join with ``.`` at every level, so ``{"a": {"b": 1}}`` and ``{"a.b": 1}`` both give ``a.b = 1``; the
elements of an array all sit at the array's path. Only paths some pattern asks about are visited (a trie of
them guides the walk), which keeps a large event cheap.

When an array holds objects, two fields a pattern names inside it must come from the same element, as in
AWS. Only then is each value's place recorded (which element of which array), in a second walk: most events
never need it.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import count
from typing import Any

Membership = tuple[tuple[int, int], ...]  # (array number, element index) for each enclosing array


class PathTrie:
    """The paths patterns ask about, split at dots. ``wanted`` marks a node where some path ends."""

    __slots__ = ("children", "path", "wanted")

    def __init__(self, path: str = "") -> None:
        self.children: dict[str, PathTrie] = {}
        self.path = path
        self.wanted = False

    @classmethod
    def of(cls, paths: Iterable[str]) -> PathTrie:
        root = cls()
        for path in paths:
            node = root
            for part in path.split("."):
                child = node.children.get(part)
                if child is None:
                    child = node.children[part] = PathTrie(f"{node.path}.{part}" if node.path else part)
                node = child
            node.wanted = True
        return root

    def step(self, key: str) -> PathTrie | None:
        """The node for an event key below this one; a key holding dots counts as that many levels."""
        found = self.children.get(key)
        if found is not None or "." not in key:
            return found
        node: PathTrie | None = self
        for part in key.split("."):
            node = node.children.get(part) if node is not None else None
        return node


class FlatEvent:
    """``values[path]``: the leaf values at each wanted path. ``memberships[path]`` (aligned with the values)
    is there only when the event has arrays of objects or of arrays."""

    __slots__ = ("memberships", "values")

    def __init__(self, values: dict[str, list[Any]], memberships: dict[str, list[Membership]] | None) -> None:
        self.values = values
        self.memberships = memberships


def flatten(event: Any, trie: PathTrie) -> FlatEvent:
    values: dict[str, list[Any]] = {}
    if type(event) is not dict:
        return FlatEvent(values, None)
    if not _collect_object(event, trie, values):
        return FlatEvent(values, None)
    values = {}
    memberships: dict[str, list[Membership]] = {}
    _place_object(event, trie, (), values, memberships, count())
    return FlatEvent(values, memberships)


def _collect_object(node: dict[str, Any], trie: PathTrie, values: dict[str, list[Any]]) -> bool:
    """Gather the wanted leaves below ``node``; True if an array of objects or arrays was entered."""
    nested = False
    children = trie.children
    for key, child in node.items():
        below = children.get(key)
        if below is None and ("." not in key or (below := trie.step(key)) is None):
            continue
        kind = type(child)
        if kind is dict or kind is list:
            nested = _collect(child, below, values) or nested
        elif below.wanted:
            found = values.get(below.path)
            if found is None:
                values[below.path] = [child]
            else:
                found.append(child)
    return nested


def _collect(value: Any, trie: PathTrie, values: dict[str, list[Any]]) -> bool:
    kind = type(value)
    if kind is dict:
        return _collect_object(value, trie, values)
    if kind is list:
        nested = False
        for item in value:
            if type(item) is dict or type(item) is list:
                nested = True
            _collect(item, trie, values)
        return nested
    if trie.wanted:
        found = values.get(trie.path)
        if found is None:
            values[trie.path] = [value]
        else:
            found.append(value)
    return False


def _place_object(
    node: dict[str, Any],
    trie: PathTrie,
    where: Membership,
    values: dict[str, list[Any]],
    memberships: dict[str, list[Membership]],
    arrays: count[int],
) -> None:
    for key, child in node.items():
        below = trie.step(key)
        if below is not None:
            _place(child, below, where, values, memberships, arrays)


def _place(
    value: Any,
    trie: PathTrie,
    where: Membership,
    values: dict[str, list[Any]],
    memberships: dict[str, list[Membership]],
    arrays: count[int],
) -> None:
    """Like ``_collect``, also recording each value's membership."""
    kind = type(value)
    if kind is dict:
        _place_object(value, trie, where, values, memberships, arrays)
    elif kind is list:
        array = next(arrays)
        for index, item in enumerate(value):
            _place(item, trie, (*where, (array, index)), values, memberships, arrays)
    elif trie.wanted:
        values.setdefault(trie.path, []).append(value)
        memberships.setdefault(trie.path, []).append(where)
