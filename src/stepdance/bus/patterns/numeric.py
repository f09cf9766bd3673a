"""``{"numeric": [...]}``: ``=``, or a lower bound (``>``, ``>=``) optionally followed by an upper one (``<``,
``<=``), or an upper bound alone. Bounds compare as doubles; a bound no double holds exactly is refused."""

from __future__ import annotations

from stepdance.bus.patterns.expect import TOO_MANY, fail, text_of
from stepdance.bus.patterns.jsontokens import Kind, Token, Tokens
from stepdance.bus.patterns.numbers import comparable
from stepdance.bus.patterns.terms import Numeric


def numeric_range(tokens: Tokens) -> Numeric:
    """Reads the operand array after its ``[`` through its ``]``."""
    token = tokens.next()
    if token.kind is not Kind.STRING:
        raise fail(f"Invalid member in numeric match: {text_of(token)}")
    operator = token.text
    value = tokens.next()
    if operator == "=":
        _require_number(value, "Value of equals must be numeric")
        _end_of_array(tokens, TOO_MANY)
        number = _bound(value.text)
        return Numeric(number, False, number, False)
    if operator in (">", ">="):
        _require_number(value, f"Value of {operator} must be numeric")
        following = tokens.next()
        if following.kind is Kind.END_ARRAY:
            return Numeric(_bound(value.text), operator == ">", None, False)
        return _with_upper_bound(tokens, following, value.text, low_open=operator == ">")
    if operator in ("<", "<="):
        _require_number(value, f"Value of {operator} must be numeric")
        _end_of_array(tokens, TOO_MANY)
        return Numeric(None, False, _bound(value.text), operator == "<")
    raise fail(f"Unrecognized numeric range operator: {operator}")


def _with_upper_bound(tokens: Tokens, token: Token, low_text: str, *, low_open: bool) -> Numeric:
    if token.kind is not Kind.STRING:
        raise fail(f"Bad value in numeric range: {text_of(token)}")
    operator = token.text
    if operator not in ("<", "<="):
        raise fail(f"Bad numeric range operator: {operator}")
    value = tokens.next()
    _require_number(value, f"Value of {operator} must be numeric")
    _end_of_array(tokens, "Too many terms in numeric range expression")
    low, high = _bound(low_text), _bound(value.text)
    if low >= high:
        raise fail("Bottom must be less than top")
    return Numeric(low, low_open, high, operator == "<")


def _require_number(token: Token, reason: str) -> None:
    if token.kind is not Kind.NUMBER:
        raise fail(reason)


def _end_of_array(tokens: Tokens, reason: str) -> None:
    if tokens.next().kind is not Kind.END_ARRAY:
        raise fail(reason)


def _bound(text: str) -> float:
    value = comparable(text)
    if value is None:
        raise fail(f"Cannot compare number : {text}")
    return value
