"""The match expressions of a field's value array (``{"prefix": ...}``, ``{"numeric": [...]}``, ...), each
read to its closing brace with AWS's checks in AWS's order."""

from __future__ import annotations

from collections.abc import Callable

from stepdance.bus.patterns import cidr, wildcard
from stepdance.bus.patterns.anything_but import anything_but
from stepdance.bus.patterns.expect import TOO_MANY, end_of_object, fail, string_operand
from stepdance.bus.patterns.jsontokens import Kind, Tokens
from stepdance.bus.patterns.numeric import numeric_range
from stepdance.bus.patterns.terms import (
    EqualsIgnoreCase,
    Exact,
    Exists,
    InRange,
    Prefix,
    Suffix,
    Term,
    Wildcard,
)


def expression(tokens: Tokens) -> Term:
    token = tokens.next()
    if token.kind is not Kind.FIELD_NAME:
        raise fail("Match expression name not found")
    operator = OPERATORS.get(token.text)
    if operator is None:
        raise fail(f"Unrecognized match type {token.text}")
    return operator(tokens)


def _exactly(tokens: Tokens) -> Term:
    operand = string_operand(tokens, "exact match pattern must be a string")
    end_of_object(tokens)
    return Exact(frozenset({operand}))


def _affix(name: str, make: Callable[[str, bool], Term]) -> Callable[[Tokens], Term]:
    def parse_affix(tokens: Tokens) -> Term:
        token = tokens.next()
        if token.kind is Kind.START_OBJECT:
            return make(_affix_ignoring_case(tokens, name), True)
        if token.kind is not Kind.STRING:
            raise fail(f"{name} match pattern must be a string")
        end_of_object(tokens)
        return make(token.text, False)

    return parse_affix


def _affix_ignoring_case(tokens: Tokens, name: str) -> str:
    token = tokens.next()
    if token.kind is not Kind.FIELD_NAME:
        raise fail(f"{name.capitalize()} expression name not found")
    if token.text != "equals-ignore-case":
        raise fail(f"Unsupported {name} pattern: {token.text}")
    operand = string_operand(tokens, "equals-ignore-case match pattern must be a string")
    end_of_object(tokens)
    end_of_object(tokens)
    return operand


def _equals_ignore_case(tokens: Tokens) -> Term:
    operand = string_operand(tokens, "equals-ignore-case match pattern must be a string")
    end_of_object(tokens)
    return EqualsIgnoreCase(operand)


def _wildcard(tokens: Tokens) -> Term:
    operand = string_operand(tokens, "wildcard match pattern must be a string")
    pattern = wildcard.parse(operand)
    end_of_object(tokens)
    return Wildcard(pattern)


def _cidr(tokens: Tokens) -> Term:
    # event-ruler's own word for this operand's type error is "prefix"
    operand = string_operand(tokens, "prefix match pattern must be a string")
    try:
        addresses = cidr.cidr(operand)
    except ValueError as exc:
        raise fail(str(exc)) from None
    end_of_object(tokens)
    return InRange(addresses)


def _exists(tokens: Tokens) -> Term:
    token = tokens.next()
    if token.kind not in (Kind.TRUE, Kind.FALSE):
        raise fail("exists match pattern must be either true or false.")
    end_of_object(tokens)
    return Exists(token.kind is Kind.TRUE)


def _numeric(tokens: Tokens) -> Term:
    if tokens.next().kind is not Kind.START_ARRAY:
        raise fail("Value of numeric must be an array.")
    term = numeric_range(tokens)
    end_of_object(tokens, TOO_MANY)
    return term


OPERATORS: dict[str, Callable[[Tokens], Term]] = {
    "exactly": _exactly,
    "prefix": _affix("prefix", lambda operand, ignore_case: Prefix(operand, ignore_case)),
    "suffix": _affix("suffix", lambda operand, ignore_case: Suffix(operand, ignore_case)),
    "numeric": _numeric,
    "anything-but": anything_but,
    "exists": _exists,
    "cidr": _cidr,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
}
