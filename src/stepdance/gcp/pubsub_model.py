"""Pub/Sub's message rules, pure: what Publish accepts, message ids, attribute filters and ack ids.

Limits are Google's documented resource limits (https://cloud.google.com/pubsub/quotas#resource_limits); error
texts are Pub/Sub's where they are known (``The value for message_count is too large...``, ``You have passed an
invalid ack ID to the service (ack_id=...).``) and follow the same wording where they are not. Subscription
settings, retries and dead-lettering are in :mod:`stepdance.gcp.pubsub_config`; names and the error type in
:mod:`stepdance.gcp.pubsub_names`. Nothing here does I/O; ack ids take their signing key as an argument.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from stepdance.gcp.pubsub_names import PubSubError, invalid

__all__ = [
    "PROCESS_KEY",
    "Filter",
    "Message",
    "PubSubError",
    "ack_id",
    "check_ack_ids",
    "check_message",
    "check_publish",
    "invalid_ack_id",
    "modify_ack_deadline",
    "parse_ack_id",
    "parse_filter",
    "publish_size",
    "stream_ack_deadline",
]

MAX_MESSAGES = 1000
MAX_REQUEST_BYTES = 10_000_000  # Pub/Sub counts the 10 MB in decimal: "the maximum value is 10000000"
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEY_BYTES = 256
MAX_ATTRIBUTE_VALUE_BYTES = 1024
MAX_ORDERING_KEY_BYTES = 1024


class Message(Protocol):
    """What Publish reads of a message: ``google.pubsub_v1.types.PubsubMessage`` fits, so does a plain object."""

    @property
    def data(self) -> bytes: ...
    @property
    def attributes(self) -> Mapping[str, str]: ...
    @property
    def ordering_key(self) -> str: ...


def check_publish(topic: str, messages: Sequence[Message]) -> None:
    """Raise the error Pub/Sub answers a Publish of ``messages`` to ``topic`` with, if any."""
    if not messages:
        raise _out_of_bounds("message_count", len(messages), "small", 1)
    if len(messages) > MAX_MESSAGES:
        raise _out_of_bounds("message_count", len(messages), "large", MAX_MESSAGES)
    for message in messages:
        check_message(message)
    if len({message.ordering_key for message in messages}) > 1:
        # Documented on PubsubMessage.ordering_key; client libraries batch per key for this reason.
        raise invalid("All messages in a PublishRequest must specify the same ordering_key.")
    size = publish_size(topic, messages)
    if size > MAX_REQUEST_BYTES:
        raise _out_of_bounds("request_size", size, "large", MAX_REQUEST_BYTES)


def check_message(message: Message) -> None:
    # An ordering key alone does not make a message non-empty (Google's emulator agrees).
    if not message.data and not message.attributes:
        raise invalid("Some messages are empty")
    if len(message.attributes) > MAX_ATTRIBUTES:
        raise _out_of_bounds("attributes count", len(message.attributes), "large", MAX_ATTRIBUTES)
    for key, value in message.attributes.items():
        _check_attribute(key, value)
    if len(message.ordering_key.encode()) > MAX_ORDERING_KEY_BYTES:
        raise _out_of_bounds(
            "ordering_key", len(message.ordering_key.encode()), "large", MAX_ORDERING_KEY_BYTES
        )


def _check_attribute(key: str, value: str) -> None:
    if not key:
        raise invalid("Message attribute keys must not be empty.")
    if key.startswith("goog") and not key.startswith("googclient_"):
        # The prefix is Google's; its client libraries send googclient_* (the trace context) themselves.
        raise invalid(f"Message attribute keys must not start with 'goog' (key={key}).")
    if len(key.encode()) > MAX_ATTRIBUTE_KEY_BYTES:
        raise _out_of_bounds("attribute key", len(key.encode()), "large", MAX_ATTRIBUTE_KEY_BYTES)
    if len(value.encode()) > MAX_ATTRIBUTE_VALUE_BYTES:
        raise _out_of_bounds("attribute value", len(value.encode()), "large", MAX_ATTRIBUTE_VALUE_BYTES)


def publish_size(topic: str, messages: Sequence[Message]) -> int:
    """The bytes a Publish carries: data, attribute keys and values, ordering keys and the topic name. Google
    measures the encoded request, a few framing bytes more per field; the limit is far from them either way."""
    total = len(topic.encode())
    for message in messages:
        total += len(message.data) + len(message.ordering_key.encode())
        total += sum(len(key.encode()) + len(value.encode()) for key, value in message.attributes.items())
    return total


def _out_of_bounds(field: str, value: int, side: str, bound: int) -> PubSubError:
    limit = "minimum" if side == "small" else "maximum"
    return invalid(
        f"The value for {field} is too {side}. You passed {value} in the request, but the {limit} value is {bound}."
    )


# Filters ------------------------------------------------------------------------------------------------------

# Pub/Sub's attribute filter language (https://cloud.google.com/pubsub/docs/subscription-message-filter):
#   attributes:key   attributes.key = "v"   attributes.key != "v"   hasPrefix(attributes.key, "v")
# joined by NOT, AND, OR and parentheses; a key with characters other than letters, digits, - and _ is a string.
MAX_FILTER_BYTES = 256
_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|[():=.,])|(?P<word>[A-Za-z0-9_-]+))""",
    re.DOTALL,
)
_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|([0-7]{3})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = dict(zip("abfnrtv\\\"'?`", "\a\b\f\n\r\t\v\\\"'?`", strict=True))


@dataclass(frozen=True, slots=True)
class _Has:
    key: str


@dataclass(frozen=True, slots=True)
class _Equals:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class _Prefix:
    key: str
    prefix: str


@dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _All:
    operands: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Any:
    operands: tuple[_Node, ...]


_Node = _Has | _Equals | _Prefix | _Not | _All | _Any


@dataclass(frozen=True, slots=True)
class Filter:
    """A subscription's parsed filter: only messages whose attributes it matches are delivered."""

    text: str
    root: _Node | None = None  # None: the empty filter, which keeps every message

    def matches(self, attributes: Mapping[str, str]) -> bool:
        return self.root is None or _matches(self.root, attributes)


def _matches(node: _Node, attributes: Mapping[str, str]) -> bool:
    match node:
        case _Has(key):
            return key in attributes
        case _Equals(key, value):
            return attributes.get(key) == value
        case _Prefix(key, prefix):
            found = attributes.get(key)
            return found is not None and found.startswith(prefix)
        case _Not(operand):
            return not _matches(operand, attributes)
        case _All(operands):
            return all(_matches(operand, attributes) for operand in operands)
        case _Any(operands):
            return any(_matches(operand, attributes) for operand in operands)


def parse_filter(text: str) -> Filter:
    """The :class:`Filter` for a subscription's ``filter`` field; INVALID_ARGUMENT if it does not parse."""
    if not text:
        return Filter(text)
    if len(text.encode()) > MAX_FILTER_BYTES:
        raise _bad_filter(text, f"longer than {MAX_FILTER_BYTES} bytes")
    try:
        return Filter(text, _FilterParser(_tokens(text)).parse())
    except ValueError as error:
        raise _bad_filter(text, str(error)) from None


def _bad_filter(text: str, reason: str) -> PubSubError:
    return invalid(f"Invalid filter expression: {reason} (filter={text}).")


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    position = 0
    while text[position:].strip():
        found = _TOKEN.match(text, position)
        if found is None:
            raise ValueError(f"unexpected character {text[position:].lstrip()[0]!r}")
        kind = found.lastgroup or ""
        yield kind, found.group(kind)
        position = found.end()


class _FilterParser:
    """Recursive descent over the token stream; one method per rule of the grammar."""

    def __init__(self, tokens: Iterator[tuple[str, str]]) -> None:
        self._tokens = list(tokens)
        self._position = 0

    def parse(self) -> _Node:
        node = self._expression()
        if self._peek():
            raise ValueError(f"unexpected {self._peek()!r}")
        return node

    def _expression(self) -> _Node:
        operands = [self._unary()]
        joiner = ""
        while self._peek() in ("AND", "OR"):
            word = self._next()
            if joiner and word != joiner:
                # Pub/Sub has no precedence between the two: mixing them needs parentheses.
                raise ValueError("AND and OR must be grouped with parentheses")
            joiner = word
            operands.append(self._unary())
        if not joiner:
            return operands[0]
        return _All(tuple(operands)) if joiner == "AND" else _Any(tuple(operands))

    def _unary(self) -> _Node:
        if self._peek() == "NOT":
            self._next()
            return _Not(self._unary())
        if self._peek() == "(":
            self._next()
            node = self._expression()
            self._expect(")")
            return node
        if self._peek() == "hasPrefix":
            self._next()
            self._expect("(")
            key = self._member()
            self._expect(",")
            prefix = self._string()
            self._expect(")")
            return _Prefix(key, prefix)
        return self._comparison()

    def _comparison(self) -> _Node:
        self._expect("attributes")
        if self._peek() == ":":
            self._next()
            return _Has(self._key())
        self._expect(".")
        key = self._key()
        operator = self._next()
        if operator not in ("=", "!="):
            raise ValueError(f"expected = or != after attributes.{key}")
        equals = _Equals(key, self._string())
        return equals if operator == "=" else _Not(equals)

    def _member(self) -> str:
        self._expect("attributes")
        self._expect(".")
        return self._key()

    def _key(self) -> str:
        kind, value = self._token()
        if kind == "word":
            return value
        if kind == "string":
            return _unquote(value)
        raise ValueError(f"expected an attribute key, got {value!r}")

    def _string(self) -> str:
        kind, value = self._token()
        if kind != "string":
            raise ValueError(f"expected a string literal, got {value!r}")
        return _unquote(value)

    def _expect(self, expected: str) -> None:
        if self._next() != expected:
            raise ValueError(f"expected {expected!r}")

    def _peek(self) -> str:
        return self._tokens[self._position][1] if self._position < len(self._tokens) else ""

    def _next(self) -> str:
        return self._token()[1]

    def _token(self) -> tuple[str, str]:
        if self._position >= len(self._tokens):
            raise ValueError("unexpected end of filter")
        self._position += 1
        return self._tokens[self._position - 1]


def _unquote(literal: str) -> str:
    return _ESCAPE.sub(_unescape, literal[1:-1])


def _unescape(found: re.Match[str]) -> str:
    hex_byte, short, long, octal, simple = found.groups()
    if simple is not None:
        if simple not in _SIMPLE_ESCAPES:
            raise ValueError(f"unknown escape \\{simple}")
        return _SIMPLE_ESCAPES[simple]
    digits = hex_byte or short or long
    return chr(int(digits, 16) if digits else int(octal, 8))


# Ack ids ------------------------------------------------------------------------------------------------------

# Ack ids only have to survive as long as the process that leased the message: a restart expires every lease.
PROCESS_KEY = secrets.token_bytes(32)
_MAC_BYTES = 16
MAX_ACK_EXTENSION_SECONDS = 600
MIN_STREAM_ACK_DEADLINE_SECONDS = 10
_LENGTH_BYTES = 2


def ack_id(subscription: str, delivery_token: str, *, key: bytes = PROCESS_KEY) -> str:
    """An opaque, URL-safe ack id for one delivery of a message on ``subscription``; ``delivery_token`` is the
    server's own handle on that delivery (say, message id and attempt). Signed, so a client cannot forge one."""
    name = subscription.encode()
    body = len(name).to_bytes(_LENGTH_BYTES, "big") + name + delivery_token.encode()
    return _encode(body + _mac(key, body))


def parse_ack_id(text: str, subscription: str, *, key: bytes = PROCESS_KEY) -> str:
    """The delivery token of an ack id that :func:`ack_id` made for ``subscription`` with ``key``."""
    body = _verified_body(text, key)
    length = int.from_bytes(body[:_LENGTH_BYTES], "big")
    meant_for = body[_LENGTH_BYTES : _LENGTH_BYTES + length].decode()
    if meant_for != subscription:
        # Google's emulator names both subscriptions; the id is genuine, just sent to the wrong place.
        raise invalid(
            f"Subscription {subscription} received an invalid ack ID {text}, meant for subscription: {meant_for}"
        )
    return body[_LENGTH_BYTES + length :].decode()


def _verified_body(text: str, key: bytes) -> bytes:
    raw = _decode(text)
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    # The MAC covers the length prefix, so a body that verifies also parses.
    if len(body) < _LENGTH_BYTES or not hmac.compare_digest(mac, _mac(key, body)):
        raise invalid_ack_id(text)
    return body


def check_ack_ids(ack_ids: Sequence[str]) -> None:
    if not ack_ids:
        raise invalid("You have not specified an ack ID in the request.")


def modify_ack_deadline(seconds: int) -> int:
    """ModifyAckDeadline's deadline: 0 (a nack) to 600 seconds."""
    if not 0 <= seconds <= MAX_ACK_EXTENSION_SECONDS:
        raise invalid(
            f"Invalid ack deadline given (ack_deadline={seconds}). "
            f"The ack deadline must be between 0 and {MAX_ACK_EXTENSION_SECONDS} seconds."
        )
    return seconds


def stream_ack_deadline(seconds: int) -> int:
    """StreamingPull's ``stream_ack_deadline_seconds``: a lease length, so no nack value, 10 to 600 seconds."""
    if not MIN_STREAM_ACK_DEADLINE_SECONDS <= seconds <= MAX_ACK_EXTENSION_SECONDS:
        raise invalid(
            f"stream_ack_deadline_seconds must be between {MIN_STREAM_ACK_DEADLINE_SECONDS} and "
            f"{MAX_ACK_EXTENSION_SECONDS} seconds (stream_ack_deadline_seconds={seconds})."
        )
    return seconds


def invalid_ack_id(text: str) -> PubSubError:
    return invalid(f"You have passed an invalid ack ID to the service (ack_id={text}).")


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise invalid_ack_id(text) from None
    # Only the canonical spelling is accepted: another one would be a second id for the same delivery.
    if _encode(raw) != text:
        raise invalid_ack_id(text)
    return raw
