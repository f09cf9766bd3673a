"""``{"anything-but": ...}``: a value or a list of values (all strings or all numbers), or one of the nested
forms ``equals-ignore-case``, ``prefix``, ``suffix`` and ``wildcard`` with a string or a list of strings."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from stepdance.bus.patterns import wildcard
from stepdance.bus.patterns.expect import TOO_MANY, end_of_object, fail
from stepdance.bus.patterns.jsontokens import Kind, Token, Tokens
from stepdance.bus.patterns.numbers import comparable
from stepdance.bus.patterns.terms import (
    AnythingBut,
    AnythingButIgnoreCase,
    AnythingButPrefix,
    AnythingButSuffix,
    AnythingButWildcard,
    Term,
)

OPERAND_KINDS = (Kind.START_ARRAY, Kind.STRING, Kind.NUMBER)
NOT_STRING = {
    "equals-ignore-case": "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    "wildcard": "wildcard match pattern must be a string",
    "prefix": "prefix/suffix match pattern must be a string",
    "suffix": "prefix/suffix match pattern must be a string",
}
NESTED: dict[str, Callable[[tuple[str, ...]], Term]] = {
    "equals-ignore-case": AnythingButIgnoreCase,
    "prefix": AnythingButPrefix,
    "suffix": AnythingButSuffix,
    "wildcard": lambda operands: AnythingButWildcard(tuple(wildcard.parse(operand) for operand in operands)),
}


def anything_but(tokens: Tokens) -> Term:
    """Reads from the operand through the expression's closing brace."""
    nested: str | None = None
    operand = tokens.next()
    if operand.kind is Kind.START_OBJECT:
        name = tokens.next()
        if name.kind is not Kind.FIELD_NAME:
            raise fail("Anything-But expression name not found")
        if name.text not in NESTED:
            raise fail(f"Unsupported anything-but pattern: {name.text}")
        nested = name.text
        operand = tokens.next()
    if operand.kind not in OPERAND_KINDS:
        raise fail("Value of anything-but must be an array or single string/number value.")
    if nested is None:
        term = _values(tokens) if operand.kind is Kind.START_ARRAY else _single_value(operand)
    else:
        found = _strings(tokens, nested) if operand.kind is Kind.START_ARRAY else [_string(operand, nested)]
        term = NESTED[nested](tuple(dict.fromkeys(found)))
    end_of_object(tokens, TOO_MANY)
    if nested is not None:
        end_of_object(tokens, TOO_MANY)
    return term


def _values(tokens: Tokens) -> Term:
    keys: set[Hashable] = set()
    kinds: set[Kind] = set()
    while (token := tokens.next()).kind is not Kind.END_ARRAY:
        if token.kind not in (Kind.STRING, Kind.NUMBER):
            raise fail("Inside anything but list, start|null|boolean is not supported.")
        kinds.add(token.kind)
        keys.add(_key(token))
    if len(kinds) != 1:
        raise fail(
            "Inside anything but list, either all values are number or string, mixed type is not supported"
        )
    return AnythingBut(frozenset(keys))


def _single_value(token: Token) -> Term:
    return AnythingBut(frozenset({_key(token)}))


def _key(token: Token) -> Hashable:
    if token.kind is Kind.STRING:
        return token.text
    value = comparable(token.text)
    if value is None:
        raise fail(f"Cannot compare number : {token.text}")
    return value


def _strings(tokens: Tokens, nested: str) -> list[str]:
    found = []
    while (token := tokens.next()).kind is not Kind.END_ARRAY:
        found.append(_string(token, nested))
    return found


def _string(token: Token, nested: str) -> str:
    if token.kind is not Kind.STRING:
        raise fail(NOT_STRING[nested])
    if nested in ("prefix", "suffix") and not token.text:
        raise fail("Null prefix/suffix not allowed")
    return token.text
