"""Many rules, one event: only the rules an event could match are tried.

Rules are filed in a small decision tree keyed by literal values. A branch that asks for exact values of a
field (``"source": ["shop"]``) is filed under each of those values, then, inside that bucket, under the
values of another such field, up to ``MAX_DEPTH`` fields. An event walks down only the buckets of its own
values, and the branches found there are checked in full. Branches without literal fields wait at the root
and are always checked. A bucket prefers a field its siblings already use, so rules that share fields share
buckets; ``detail-type`` then ``source`` are preferred first, the envelope fields most rules name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Generic, TypeVar

from stepdance.bus.patterns.event import FlatEvent, PathTrie, flatten
from stepdance.bus.patterns.match import CompiledBranch, FieldTest, Pattern, compile_pattern
from stepdance.bus.patterns.terms import value_key

RuleId = TypeVar("RuleId", bound=Hashable)

MAX_DEPTH = 3
PREFERRED_PATHS = {"detail-type": 0, "source": 1}


@dataclass(eq=False, slots=True)
class _Entry(Generic[RuleId]):
    rule_id: RuleId
    order: int
    branch: CompiledBranch


@dataclass(eq=False, slots=True)
class _Node:
    parent: _Node | None = None
    label: tuple[str, Hashable] | None = None  # (path, value key) under which the parent files this node
    entries: list[_Entry[Any]] = field(default_factory=list)
    keyed: dict[str, dict[Hashable, _Node]] = field(default_factory=dict)

    def child(self, path: str, key: Hashable) -> _Node:
        table = self.keyed.setdefault(path, {})
        found = table.get(key)
        if found is None:
            found = table[key] = _Node(self, (path, key))
        return found

    def prune(self) -> None:
        """Unlink this node, and its ancestors, once nothing is filed under them."""
        node: _Node | None = self
        while node is not None and node.parent is not None and not node.entries and not node.keyed:
            assert node.label is not None
            path, key = node.label
            table = node.parent.keyed[path]
            del table[key]
            if not table:
                del node.parent.keyed[path]
            node = node.parent


@dataclass(slots=True)
class _Rule:
    pattern: Pattern
    placements: list[tuple[_Node, _Entry[Any]]]


class RuleIndex(Generic[RuleId]):
    """Rules by id; ``match(event)`` gives the ids of the rules the event matches, in the order added."""

    def __init__(self) -> None:
        self._root = _Node()
        self._rules: dict[RuleId, _Rule] = {}
        self._orders = count()
        self._paths: Counter[str] = Counter()
        self._trie: PathTrie | None = PathTrie()

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def add(self, rule_id: RuleId, pattern: Pattern | str | dict[str, Any]) -> None:
        """Add (or replace) a rule; a pattern given as text or object is compiled (InvalidEventPattern)."""
        compiled = pattern if isinstance(pattern, Pattern) else compile_pattern(pattern)
        if rule_id in self._rules:
            self.remove(rule_id)
        order = next(self._orders)
        placements: list[tuple[_Node, _Entry[Any]]] = []
        for branch in compiled.branches:
            entry = _Entry(rule_id, order, branch)
            placements.extend((node, entry) for node in _file(self._root, entry, frozenset(), 0))
        self._rules[rule_id] = _Rule(compiled, placements)
        self._paths.update(compiled.paths)
        self._trie = None

    def remove(self, rule_id: RuleId) -> None:
        """Forget a rule; KeyError if there is none with this id."""
        rule = self._rules.pop(rule_id)
        for node, entry in rule.placements:
            node.entries.remove(entry)
            node.prune()
        self._paths.subtract(rule.pattern.paths)
        self._paths = +self._paths  # drop the paths no rule names any more
        self._trie = None

    def match(self, event: dict[str, Any]) -> list[RuleId]:
        if self._trie is None:
            self._trie = PathTrie.of(self._paths)
        flat = flatten(event, self._trie)
        found: dict[int, RuleId] = {}
        _visit(self._root, flat, found)
        return [found[order] for order in sorted(found)]


def _file(node: _Node, entry: _Entry[Any], used: frozenset[str], depth: int) -> list[_Node]:
    """File a branch under this node; the nodes it ends up in."""
    choices = [f for f in entry.branch.fields if f.exact is not None and f.path not in used]
    if not choices or depth >= MAX_DEPTH:
        node.entries.append(entry)
        return [node]
    chosen = min(choices, key=lambda f: _preference(node, f))
    assert chosen.exact is not None
    filed = []
    for key in chosen.exact:
        filed.extend(_file(node.child(chosen.path, key), entry, used | {chosen.path}, depth + 1))
    return filed


def _preference(node: _Node, candidate: FieldTest) -> tuple[bool, int, int, str]:
    assert candidate.exact is not None
    path = candidate.path
    return (
        path not in node.keyed,
        PREFERRED_PATHS.get(path, len(PREFERRED_PATHS)),
        len(candidate.exact),
        path,
    )


def _visit(node: _Node, event: FlatEvent, found: dict[int, Any]) -> None:
    for entry in node.entries:
        if entry.order not in found and entry.branch.matches(event):
            found[entry.order] = entry.rule_id
    for path, table in node.keyed.items():
        values = event.values.get(path)
        if not values:
            continue
        keys = {value_key(values[0])} if len(values) == 1 else {value_key(value) for value in values}
        for key in keys:
            child = table.get(key)
            if child is not None:
                _visit(child, event, found)
