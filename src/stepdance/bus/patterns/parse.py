"""Pattern JSON -> branches: the fields (dotted paths) each alternative requires, with their terms.

The walk follows the token stream in document order, as AWS's compiler does, so the first problem found is
the one AWS reports, in its words. ``$or`` multiplies the branches: the fields already read are copied into
every alternative, and fields read later join all of them. A path given twice in one branch keeps its last
value (AWS: "the last one wins"), also when an ``$or`` alternative repeats a path from outside it.
"""

from __future__ import annotations

from stepdance.bus.patterns import cidr
from stepdance.bus.patterns.expect import fail
from stepdance.bus.patterns.expressions import expression
from stepdance.bus.patterns.jsontokens import Kind, Token, Tokens
from stepdance.bus.patterns.numbers import number_keys
from stepdance.bus.patterns.terms import FALSE_KEY, NULL_KEY, TRUE_KEY, Exact, InRange, Term

Branch = dict[str, list[Term]]

OR = "$or"
# Operator names (and names event-ruler keeps for later) that may not be field names inside $or
RESERVED_IN_OR = frozenset((
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard", "numeric", "cidr",
    "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case", "date-after",
    "date-on-or-after", "date-before", "date-on-or-before", "in-date-range", "ip-address-in-range",
    "ip-address-not-in-range",
))  # fmt: skip


def parse(tokens: Tokens) -> list[Branch]:
    if tokens.next().kind is not Kind.START_OBJECT:
        raise fail("Filter is not an object")
    branches: list[Branch] = []
    _object(tokens, branches, (), in_or=False)
    return branches


def _object(tokens: Tokens, branches: list[Branch], path: tuple[str, ...], *, in_or: bool) -> None:
    empty = True
    while (token := tokens.next()).kind is not Kind.END_OBJECT:
        empty = False
        name = token.text
        if name == OR:
            _or(tokens, branches, path)
            continue
        if in_or and name in RESERVED_IN_OR:
            raise fail(f"{name} is Ruler reserved fieldName which cannot be used inside {OR}.")
        value = tokens.next()
        if value.kind is Kind.START_OBJECT:
            _object(tokens, branches, (*path, name), in_or=in_or)
        elif value.kind is Kind.START_ARRAY:
            _field(tokens, branches, ".".join((*path, name)))
        else:
            raise fail(f'"{name}" must be an object or an array')
    if empty:
        raise fail("Empty objects are not allowed")


def _or(tokens: Tokens, branches: list[Branch], path: tuple[str, ...]) -> None:
    before = [dict(branch) for branch in branches]
    branches.clear()
    if tokens.next().kind is not Kind.START_ARRAY:
        raise fail(f"It must be an Array followed with {OR}.")
    alternatives = 0
    while (token := tokens.next()).kind is not Kind.END_ARRAY:
        alternatives += 1
        if token.kind is not Kind.START_OBJECT:
            raise fail(f"Only JSON object is allowed in array of {OR} relationship.")
        forked = [dict(branch) for branch in before] or [{}]
        _object(tokens, forked, path, in_or=True)
        branches.extend(forked)
    if alternatives < 2:
        raise fail(f"There must have at least 2 Objects in {OR} relationship.")


def _field(tokens: Tokens, branches: list[Branch], path: str) -> None:
    terms: list[Term] = []
    while (token := tokens.next()).kind is not Kind.END_ARRAY:
        if token.kind is Kind.START_OBJECT:
            terms.append(expression(tokens))
        elif token.kind is Kind.START_ARRAY:
            raise fail("Match value must be String, number, true, false, or null")
        else:
            terms.append(_literal(token))
    if not terms:
        raise fail("Empty arrays are not allowed")
    if not branches:
        branches.append({})
    for branch in branches:
        branch[path] = terms


def _literal(token: Token) -> Term:
    if token.kind is Kind.STRING:
        address = cidr.exact_address(token.text)
        return Exact(frozenset({token.text})) if address is None else InRange(address)
    if token.kind is Kind.NUMBER:
        return Exact(number_keys(token.text))
    return Exact(frozenset({{Kind.TRUE: TRUE_KEY, Kind.FALSE: FALSE_KEY}.get(token.kind, NULL_KEY)}))
