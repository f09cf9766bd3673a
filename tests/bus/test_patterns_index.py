"""RuleIndex gives exactly what matching every rule one by one gives, however rules are added and removed."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stepdance.bus.patterns import InvalidEventPattern, RuleIndex, compile_pattern
from stepdance.bus.patterns.event import flatten
from tests.bus.patterns_helpers import event

PATHS = ["source", "detail-type", "detail.a", "detail.b", "detail.items.k", "detail.items.n", "resources"]
WORDS = ["x", "y", "xy", "Y", ""]
NUMBERS = [0, 1, 2.5, -3]

scalars = st.one_of(st.sampled_from(WORDS), st.sampled_from(NUMBERS), st.sampled_from([True, None]))
expressions = st.one_of(
    scalars,
    st.builds(lambda w: {"prefix": w}, st.sampled_from(WORDS)),
    st.builds(lambda w: {"suffix": {"equals-ignore-case": w}}, st.sampled_from(WORDS)),
    st.builds(lambda w: {"anything-but": w}, st.sampled_from(["x", "y"])),
    st.builds(lambda n: {"numeric": [">=", n]}, st.sampled_from(NUMBERS)),
    st.builds(lambda b: {"exists": b}, st.booleans()),
    st.builds(lambda w: {"wildcard": w}, st.sampled_from(["x*", "*y", "*"])),
)
fields = st.dictionaries(
    st.sampled_from(PATHS), st.lists(expressions, min_size=1, max_size=3), min_size=1, max_size=3
)


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"detail.a": v}`` -> ``{"detail": {"a": v}}``, merging shared parents."""
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, last = path.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = value
    return nested


patterns = st.one_of(
    fields.map(nest),
    st.tuples(fields, fields, fields).map(lambda f: {**nest(f[0]), "$or": [nest(f[1]), nest(f[2])]}),
)
leaves = st.one_of(scalars, st.lists(scalars, max_size=3))
items = st.lists(st.dictionaries(st.sampled_from(["k", "n"]), leaves, max_size=2), max_size=3)
events = st.builds(
    lambda source, kind, a, b, rows, resources: event(
        source=source, **{"detail-type": kind}, detail={"a": a, "b": b, "items": rows}, resources=resources
    ),
    st.sampled_from(WORDS),
    st.sampled_from(WORDS),
    leaves,
    leaves,
    items,
    st.lists(st.sampled_from(WORDS), max_size=2),
)


def one_by_one(rules: dict[int, Any], evt: dict[str, Any]) -> list[int]:
    return [rule_id for rule_id, pattern in rules.items() if pattern.matches(evt)]


@settings(max_examples=300, deadline=None)
@given(st.lists(patterns, min_size=1, max_size=25), st.lists(events, min_size=1, max_size=5), st.data())
def test_the_index_agrees_with_matching_each_rule(
    raw_patterns: list[dict[str, Any]], evts: list[dict[str, Any]], data: st.DataObject
) -> None:
    index: RuleIndex[int] = RuleIndex()
    rules = {}
    for rule_id, raw in enumerate(raw_patterns):
        try:
            rules[rule_id] = compile_pattern(raw)
        except InvalidEventPattern:
            continue
        index.add(rule_id, rules[rule_id])
    for evt in evts:
        assert index.match(evt) == one_by_one(rules, evt)
    for rule_id in data.draw(st.lists(st.sampled_from(sorted(rules)), unique=True)) if rules else []:
        index.remove(rule_id)
        del rules[rule_id]
    for evt in evts:
        assert index.match(evt) == one_by_one(rules, evt)


def test_rules_are_found_by_their_literal_fields_and_in_the_order_added() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("orders", {"source": ["shop"], "detail-type": ["OrderPlaced", "OrderPaid"]})
    index.add("anything-from-shop", {"source": [{"prefix": "sh"}]})
    index.add("paid", '{"detail-type": ["OrderPaid"], "detail": {"total": [{"numeric": [">", 10]}]}}')
    paid = event(source="shop", **{"detail-type": "OrderPaid"}, detail={"total": 12})
    assert index.match(paid) == ["orders", "anything-from-shop", "paid"]
    index.remove("orders")
    index.add("orders", {"source": ["shop"]})  # re-added: now last
    assert index.match(paid) == ["anything-from-shop", "paid", "orders"]
    assert len(index) == 3 and "paid" in index


def test_adding_an_id_again_replaces_its_pattern() -> None:
    index: RuleIndex[str] = RuleIndex()
    index.add("r", {"source": ["a"]})
    index.add("r", {"source": ["b"]})
    assert index.match(event(source="a")) == []
    assert index.match(event(source="b")) == ["r"]


def test_removing_every_rule_leaves_an_empty_index() -> None:
    index: RuleIndex[int] = RuleIndex()
    for n in range(50):
        index.add(n, {"source": [f"s{n}"], "detail-type": ["t"], "detail": {"n": [n]}})
    for n in range(50):
        index.remove(n)
    assert len(index) == 0
    assert index.match(event(source="s1", **{"detail-type": "t"}, detail={"n": 1})) == []
    assert index._root.keyed == {} and index._root.entries == []


top_level = st.dictionaries(
    st.sampled_from(["source", "detail-type", "resources", "detail", "missing"]),
    st.lists(expressions, min_size=1, max_size=3),
    min_size=1,
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(top_level, events, st.one_of(leaves, st.dictionaries(st.sampled_from(["a"]), leaves)))
def test_patterns_on_top_level_fields_match_as_the_full_walk_does(
    raw: dict[str, Any], evt: dict[str, Any], source: Any
) -> None:
    try:
        pattern = compile_pattern(raw)
    except InvalidEventPattern:
        return
    for candidate in (evt, {**evt, "source": source}):
        assert pattern.top_level is not None
        assert pattern.matches(candidate) == pattern.matches_flat(flatten(candidate, pattern.trie))


string_literals = st.dictionaries(
    st.sampled_from(["source", "detail-type", "resources", "missing"]),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    min_size=1,
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(string_literals, min_size=1, max_size=3),
    events,
    st.one_of(st.sampled_from(WORDS), leaves, st.just({"a": "x"})),
)
def test_patterns_of_string_literals_match_as_the_full_walk_does(
    branches: list[dict[str, Any]], evt: dict[str, Any], source: Any
) -> None:
    pattern = compile_pattern(branches[0] if len(branches) == 1 else {"$or": branches})
    for candidate in (evt, {**evt, "source": source}):
        assert pattern.literals is not None
        assert pattern.matches(candidate) == pattern.matches_flat(flatten(candidate, pattern.trie))
