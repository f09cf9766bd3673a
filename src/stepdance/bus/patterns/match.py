"""Compiled patterns: each branch a short list of field tests, each test one closure over a leaf value."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from stepdance.bus.patterns import wildcard
from stepdance.bus.patterns.event import FlatEvent, Membership, PathTrie, flatten
from stepdance.bus.patterns.jsontokens import TextTokens, ValueTokens
from stepdance.bus.patterns.parse import Branch, parse
from stepdance.bus.patterns.terms import Exact, Exists, Term, Test, Wildcard, value_key


def _any_value(value: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class FieldTest:
    """What one branch asks of one path.

    ``test`` accepts a value (``None``: no value will do, only absence); ``absent_ok`` says whether the path
    may have no value at all (``exists: false``); ``exact`` holds the keys when the field asks for nothing
    but literals, which is what an index can be built on."""

    path: str
    test: Test | None
    absent_ok: bool
    exact: frozenset[Hashable] | None

    @property
    def any_value(self) -> bool:
        return self.test is _any_value


def compile_field(path: str, terms: Sequence[Term]) -> FieldTest:
    keys: set[Hashable] = set()
    tests: list[Test] = []
    absent_ok = any_value = False
    for term in terms:
        if isinstance(term, Exact):
            keys |= term.keys
        elif isinstance(term, Exists):
            any_value = any_value or term.present
            absent_ok = absent_ok or not term.present
        else:
            tests.append(term.test())
    if keys:
        tests.insert(0, _exact_test(frozenset(keys)))
    only_literals = bool(keys) and len(tests) == 1 and not any_value and not absent_ok
    test = _any_value if any_value else _either(tests)
    return FieldTest(path, test, absent_ok, frozenset(keys) if only_literals else None)


def _exact_test(keys: frozenset[Hashable]) -> Test:
    strings = frozenset(key for key in keys if type(key) is str)
    others = keys - strings
    return lambda value: value in strings if type(value) is str else value_key(value) in others


def _either(tests: list[Test]) -> Test | None:
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


class CompiledBranch:
    """One alternative of a pattern: every field must be satisfied."""

    __slots__ = ("fields",)

    def __init__(self, fields: Iterable[FieldTest]) -> None:
        # literal fields first: they are the cheapest tests and the likeliest to fail
        self.fields = tuple(sorted(fields, key=lambda f: (f.exact is None, f.any_value, f.path)))

    def matches(self, event: FlatEvent) -> bool:
        if event.memberships is not None:
            return _matches_in_one_element(self.fields, event.values, event.memberships)
        values = event.values
        for field in self.fields:
            found = values.get(field.path)
            if not found:
                if field.absent_ok:
                    continue
                return False
            test = field.test
            if test is None:
                return False
            if test is not _any_value and not any(map(test, found)):
                return False
        return True


def _matches_in_one_element(
    fields: Sequence[FieldTest], values: dict[str, list[Any]], memberships: dict[str, list[Membership]]
) -> bool:
    """Like ``CompiledBranch.matches``, but the values chosen must agree on the element of every array they
    share."""
    choices: list[list[Membership]] = []
    for field in fields:
        found = values.get(field.path)
        if not found:
            if field.absent_ok:
                continue
            return False
        test = field.test
        if test is None:
            return False
        where = memberships[field.path]
        fitting = list(dict.fromkeys(where[i] for i, value in enumerate(found) if test(value)))
        if not fitting:
            return False
        choices.append(fitting)
    return _consistent(choices, {})


def _consistent(choices: list[list[Membership]], chosen: dict[int, int]) -> bool:
    if not choices:
        return True
    for membership in choices[0]:
        if all(chosen.get(array, index) == index for array, index in membership):
            added = {array: index for array, index in membership if array not in chosen}
            chosen.update(added)
            if _consistent(choices[1:], chosen):
                return True
            for array in added:
                del chosen[array]
    return False


_ABSENT = object()


class Pattern:
    """A compiled event pattern. ``matches(event)`` takes the event as a parsed JSON object."""

    __slots__ = ("branches", "literals", "paths", "top_level", "trie")

    def __init__(self, branches: Sequence[Branch]) -> None:
        self.branches = tuple(
            CompiledBranch(compile_field(path, terms) for path, terms in branch.items())
            for branch in branches
        )
        self.paths = frozenset(path for branch in branches for path in branch)
        self.trie = PathTrie.of(self.paths)
        # the usual rule (source, detail-type): its fields are read straight from the event when they hold
        # plain values, without walking the event's keys
        self.top_level = tuple(self.paths) if all("." not in path for path in self.paths) else None
        # ... and when every field of every branch lists strings only, a string value is looked up in them
        self.literals: tuple[tuple[tuple[str, frozenset[Hashable]], ...], ...] | None = None
        if self.top_level is not None and all(
            f.exact is not None and all(type(k) is str for k in f.exact)
            for branch in self.branches
            for f in branch.fields
        ):
            self.literals = tuple(
                tuple((f.path, f.exact) for f in branch.fields if f.exact is not None)
                for branch in self.branches
            )

    def matches(self, event: dict[str, Any]) -> bool:
        if self.literals is not None and type(event) is dict:
            found = self._matches_literals(event, self.literals)
            if found is not None:
                return found
        if self.top_level is not None and type(event) is dict:
            values: dict[str, list[Any]] = {}
            for path in self.top_level:
                value = event.get(path, _ABSENT)
                if value is _ABSENT:
                    continue
                if type(value) is dict or type(value) is list:
                    break  # an object or array: the full walk decides
                values[path] = [value]
            else:
                return self.matches_flat(FlatEvent(values, None))
        return self.matches_flat(flatten(event, self.trie))

    def matches_flat(self, event: FlatEvent) -> bool:
        """Against an event already flattened (over at least this pattern's paths)."""
        return any(branch.matches(event) for branch in self.branches)

    @staticmethod
    def _matches_literals(
        event: dict[str, Any], branches: tuple[tuple[tuple[str, frozenset[Hashable]], ...], ...]
    ) -> bool | None:
        """Whether a branch of string literals matches the event's top-level fields; None when a field
        holds something other than a string (an array, a number...): the general match decides."""
        for branch in branches:
            for path, allowed in branch:
                value = event.get(path, _ABSENT)
                if type(value) is not str:
                    if value is _ABSENT:
                        break  # this branch needs the field
                    return None
                if value not in allowed:
                    break
            else:
                return True
        return False


def compile_pattern(pattern: str | dict[str, Any]) -> Pattern:
    """Compile a pattern given as JSON text or as a parsed object; InvalidEventPattern with AWS's message."""
    tokens = TextTokens(pattern) if isinstance(pattern, str) else ValueTokens(pattern)
    branches = parse(tokens)
    _check_wildcards(branches)
    return Pattern(branches)


def _check_wildcards(branches: Sequence[Branch]) -> None:
    by_path: dict[str, dict[wildcard.WildcardBytes, None]] = {}
    for branch in branches:
        for path, terms in branch.items():
            for term in terms:
                if isinstance(term, Wildcard):
                    by_path.setdefault(path, {})[term.pattern] = None
    for patterns in by_path.values():
        wildcard.check_complexity(list(patterns))
