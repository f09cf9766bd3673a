"""An event seen as a pattern sees it: leaf values by dotted path.

Keys join with ``.`` at every level, so ``{"a": {"b": 1}}`` and ``{"a.b": 1}`` both give ``a.b = 1``; the
elements of an array all sit at the array's path. Only paths some pattern asks about are visited, which keeps
a large event cheap. Each value remembers which element of which array it came from: when a pattern names
several fields inside one array of objects, they must come from the same element, as in AWS.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from itertools import count
from typing import Any

Membership = tuple[tuple[int, int], ...]  # (array number, element index) for each enclosing array

NOT_IN_ARRAY: Membership = ()


@dataclass(slots=True)
class FlatEvent:
    values: dict[str, list[Any]] = field(default_factory=dict)
    memberships: dict[str, list[Membership]] = field(default_factory=dict)
    # True once an array holding objects or arrays was entered: only then can two fields disagree about
    # which element they came from
    nested_arrays: bool = False


def prefixes(paths: set[str] | frozenset[str]) -> frozenset[str]:
    """Every path a walk towards ``paths`` goes through: ``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``."""
    found: set[str] = set()
    for path in paths:
        parts = path.split(".")
        found.update(".".join(parts[: end + 1]) for end in range(len(parts)))
    return frozenset(found)


def flatten(event: Any, wanted: Container[str]) -> FlatEvent:
    """The leaf values of ``event`` at the paths in ``wanted`` (which holds every prefix of every path)."""
    flat = FlatEvent()
    if type(event) is dict:
        _walk_object(event, "", NOT_IN_ARRAY, wanted, flat, count())
    return flat


def _walk_object(
    node: dict[str, Any],
    path: str,
    where: Membership,
    wanted: Container[str],
    flat: FlatEvent,
    arrays: count[int],
) -> None:
    for key, child in node.items():
        child_path = f"{path}.{key}" if path else key
        if child_path in wanted:
            _walk(child, child_path, where, wanted, flat, arrays)


def _walk(
    node: Any, path: str, where: Membership, wanted: Container[str], flat: FlatEvent, arrays: count[int]
) -> None:
    kind = type(node)
    if kind is dict:
        _walk_object(node, path, where, wanted, flat, arrays)
    elif kind is list:
        array = next(arrays)
        for index, child in enumerate(node):
            if type(child) is dict or type(child) is list:
                flat.nested_arrays = True
            _walk(child, path, (*where, (array, index)), wanted, flat, arrays)
    else:
        values = flat.values.get(path)
        if values is None:
            flat.values[path] = [node]
            flat.memberships[path] = [where]
        else:
            values.append(node)
            flat.memberships[path].append(where)
