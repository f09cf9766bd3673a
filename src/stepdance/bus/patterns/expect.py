"""Small token readers shared by the pattern parser: each expects one token and fails with AWS's reason."""

from __future__ import annotations

from stepdance.bus.patterns.errors import InvalidEventPattern
from stepdance.bus.patterns.jsontokens import Kind, Token, Tokens

ONE_KEY = "Only one key allowed in match expression"
TOO_MANY = "Too many elements in numeric expression"


def fail(reason: str) -> InvalidEventPattern:
    return InvalidEventPattern(reason)


def end_of_object(tokens: Tokens, reason: str = ONE_KEY) -> None:
    if tokens.next().kind is not Kind.END_OBJECT:
        raise fail(reason)


def string_operand(tokens: Tokens, reason: str) -> str:
    token = tokens.next()
    if token.kind is not Kind.STRING:
        raise fail(reason)
    return token.text


def text_of(token: Token) -> str:
    """What Jackson's ``getText()`` gives for a token, as quoted in some messages."""
    if token.kind is Kind.END:
        return "null"
    if token.kind in (Kind.START_OBJECT, Kind.END_OBJECT, Kind.START_ARRAY, Kind.END_ARRAY):
        return str(token.kind.value)
    return token.text
