"""Request bodies checked against the operation's input shape before anything is stored.

The shapes are botocore's service models for Step Functions and EventBridge: AWS's own definitions of these
APIs, the ones boto3 builds its requests from, so stepdance accepts what AWS accepts without keeping a copy of
every operation's fields. :func:`check_input` walks a parsed JSON body through the shape and answers the way
AWS's servers do:

- a value of the wrong JSON type is a :class:`SerializationException` (the first one found);
- every broken constraint (a required member null or missing, ``min``/``max`` length or value, ``enum``,
  ``pattern``) goes into one :class:`ValidationException` in AWS's wording, ``"2 validation errors detected:
  Value 'x' at 'entries.1.member.source' failed to satisfy constraint: ...; ..."``;
- members the shape does not know are dropped, as AWS ignores them.

What differs from AWS's servers: type errors are worded here (AWS's messages name Java classes); the values of
sensitive members are left out of messages (``"Value at 'input' ..."``, as some AWS services do); patterns
are Java regexes run with Python's ``re`` (ASCII ``\\d``/``\\w``, whole-value matching as Java's
``Pattern.matches``), and the few Python cannot compile, such as ``\\p{ASCII}``, are not checked.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.model
import orjson

from stepdance.api.errors import SerializationException, ValidationException

# No shape of these models nests this deep; the limit only stops a self-referencing shape from recursing
# without end.
_MAX_DEPTH = 64
_PREVIEW = 60
_NUMBERS = frozenset({"integer", "long", "float", "double"})
_MEASURED = _NUMBERS | {"string", "blob", "list", "map"}


def check_input(operation: botocore.model.OperationModel, body: Any) -> dict[str, Any]:
    """The request's parameters, checked against the operation's input shape, as Python values the way
    boto3 users pass them: timestamps (epoch seconds numbers, or ISO-8601 strings) become timezone-aware
    datetimes, blobs (base64 strings) become bytes, members the shape does not know are dropped."""
    if not isinstance(body, dict):
        raise SerializationException(
            f"The request body could not be read: expected a JSON object, not {_show(body)}"
        )
    shape = operation.input_shape
    if shape is None:
        return {}
    found: list[str] = []
    params: dict[str, Any] = _structure(shape, body, _At(""), found)
    if found:
        plural = "s" if len(found) > 1 else ""
        raise ValidationException(f"{len(found)} validation error{plural} detected: " + "; ".join(found))
    return params


@dataclass(frozen=True)
class _At:
    """Where a value sits in the request: its path as AWS writes it, and whether it is under a sensitive shape."""

    path: str
    depth: int = 0
    secret: bool = False

    def child(self, segment: str, shape: botocore.model.Shape) -> _At:
        if self.depth >= _MAX_DEPTH:
            raise SerializationException(f"The value at '{self.path}' is nested too deeply")
        path = f"{self.path}.{segment}" if self.path else segment
        return _At(path, self.depth + 1, self.secret or _sensitive(shape))


def _read(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> Any:
    if shape.metadata.get("document"):
        return value
    reader = _READERS.get(shape.type_name)
    result = value if reader is None else reader(shape, value, at, found)
    for constraint in _broken(shape, result):
        found.append(_violation(value, at.path, at.secret, constraint))
    return result


def _structure(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong(value, at, "an object")
    result: dict[str, Any] = {}
    for name, member in shape.members.items():
        # AWS writes member names in these messages with a lower-case first letter: `Entries` is 'entries'.
        child = at.child(name[:1].lower() + name[1:], member)
        item = value.get(member.serialization.get("name", name))
        if item is not None:
            result[name] = _read(member, item, child, found)
        elif name in shape.required_members:
            found.append(_violation(None, child.path, child.secret, "Member must not be null"))
    return result


def _list(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> list[Any]:
    if not isinstance(value, list):
        raise _wrong(value, at, "a list")
    items: list[Any] = []
    for index, item in enumerate(value, 1):
        child = at.child(f"{index}.member", shape.member)
        items.append(_item(shape.member, item, child, found))
    return items


def _map(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong(value, at, "an object")
    result: dict[str, Any] = {}
    for key, item in value.items():
        if broken := _broken(shape.key, key):
            constraint = f"Map keys must satisfy constraint: [{', '.join(broken)}]"
            found.append(_violation(key, at.path, at.secret or _sensitive(shape.key), constraint))
        result[key] = _item(shape.value, item, at.child(key, shape.value), found)
    return result


def _item(shape: botocore.model.Shape, item: Any, at: _At, found: list[str]) -> Any:
    """An element of a list or a value of a map, which may not be null."""
    if item is None:
        found.append(_violation(None, at.path, at.secret, "Member must not be null"))
        return None
    return _read(shape, item, at, found)


def _string(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> str:
    if not isinstance(value, str):
        raise _wrong(value, at, "a string")
    return value


def _boolean(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> bool:
    if not isinstance(value, bool):
        raise _wrong(value, at, "true or false")
    return value


def _integer(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> int:
    # AWS reads `integer` into a Java int and `long` into a Java long: a value that does not fit is
    # unreadable, not out of range.
    bits = 32 if shape.type_name == "integer" else 64
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
    ):
        raise _wrong(value, at, f"a {bits}-bit integer")
    return int(value)


def _float(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            pass
    raise _wrong(value, at, "a number")


def _timestamp(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise _wrong(value, at, "epoch seconds or an ISO-8601 timestamp")


def _blob(shape: botocore.model.Shape, value: Any, at: _At, found: list[str]) -> bytes:
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:  # binascii.Error, or a character outside ASCII
            pass
    raise _wrong(value, at, "a base64 string")


_READERS: dict[str, Callable[[botocore.model.Shape, Any, _At, list[str]], Any]] = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "string": _string,
    "boolean": _boolean,
    "integer": _integer,
    "long": _integer,
    "float": _float,
    "double": _float,
    "timestamp": _timestamp,
    "blob": _blob,
}


def _broken(shape: botocore.model.Shape, value: Any) -> list[str]:
    """The constraints of ``shape`` that ``value``, already read, does not satisfy, in AWS's words."""
    if shape.type_name not in _MEASURED:
        return []
    meta = shape.metadata
    numeric = shape.type_name in _NUMBERS
    noun, size = ("value", value) if numeric else ("length", len(value))
    broken = []
    if "min" in meta and size < meta["min"]:
        broken.append(f"Member must have {noun} greater than or equal to {meta['min']}")
    if "max" in meta and size > meta["max"]:
        broken.append(f"Member must have {noun} less than or equal to {meta['max']}")
    if shape.type_name == "string":
        pattern = meta.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            broken.append(f"Member must satisfy regular expression pattern: {pattern}")
        if "enum" in meta and value not in meta["enum"]:
            broken.append(f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
    return broken


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    # Java's \d, \w and \s are ASCII unless asked otherwise; Python's would match any Unicode digit or letter.
    try:
        return re.compile(pattern, re.ASCII)
    except re.error:
        return None


def _sensitive(shape: botocore.model.Shape) -> bool:
    return bool(shape.metadata.get("sensitive"))


def _violation(value: Any, path: str, secret: bool, constraint: str) -> str:
    return f"Value{_shown(value, secret)} at '{path}' failed to satisfy constraint: {constraint}"


def _wrong(value: Any, at: _At, expected: str) -> SerializationException:
    return SerializationException(
        f"Value{_shown(value, at.secret)} at '{at.path}' could not be read: expected {expected}"
    )


def _shown(value: Any, secret: bool) -> str:
    # A missing value gives nothing away, and "Value null" says what is wrong.
    return "" if secret and value is not None else f" {_show(value)}"


def _show(value: Any) -> str:
    """``value`` as AWS shows it in a message: strings and containers quoted and cut short, null, numbers."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value).decode()
        except orjson.JSONEncodeError:  # nested past orjson's depth limit: the brackets say enough
            text = "[...]" if isinstance(value, list) else "{...}"
    return "'" + (text if len(text) <= _PREVIEW else text[:_PREVIEW] + "...") + "'"
