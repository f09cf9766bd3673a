"""The functions Step Functions adds to JSONata, and the library functions replaced to match AWS.

Added by AWS: ``$partition``, ``$range``, ``$hash``, ``$random`` (with an optional seed), ``$uuid`` and
``$parse``. Replaced here so that evaluation stays pure and matches JSONata 2.0 (the version AWS runs):
``$random`` without a seed and ``$uuid`` read the random source the current evaluation was given, ``$now`` and
``$millis`` the time the state was entered (``$states.context.State.EnteredTime``, else the execution's start),
never the process clock or the global random module; ``$number`` accepts exactly the strings JSONata's
reference implementation accepts (the library also takes ``' 1'``, ``'nan'``).

The functions are built once; what changes per evaluation (random source, ``$states``) is reached through a
context variable set by :func:`evaluation`.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import math
import random as _random
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jsonata import Functions, JException, Jsonata, Utils

from stepdance.asl.choice_compare import parse_timestamp

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?")
_PREFIXED = re.compile(r"0[xX][0-9A-Fa-f]+|0[oO][0-7]+|0[bB][01]+")
_MAX_RANGE = 1_000_000  # JSONata's own limit for [a..b]


class FunctionError(Exception):
    """A Step Functions JSONata function was called with values it cannot work with."""


@dataclass(frozen=True, slots=True)
class _Evaluation:
    random: _random.Random
    states: Mapping[str, Any]


_CURRENT: contextvars.ContextVar[_Evaluation] = contextvars.ContextVar("stepdance_jsonata_evaluation")


@contextmanager
def evaluation(random: _random.Random, states: Mapping[str, Any]) -> Iterator[None]:
    """Make ``random`` and ``states`` (for the clock) what the functions below see while the block runs."""
    token = _CURRENT.set(_Evaluation(random, states))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def entered_millis(states: Mapping[str, Any]) -> int:
    """When the state was entered, in epoch milliseconds: deterministic, so a replay computes the same."""
    context = states.get("context")
    for section, key in (("State", "EnteredTime"), ("Execution", "StartTime")):
        value = _lookup(_lookup(context, section), key)
        parsed = parse_timestamp(value) if isinstance(value, str) else None
        if parsed is not None:
            return parsed[0] * 1000 + parsed[1] // 1_000_000
    return 0


def _lookup(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


class _Native(Jsonata.JFunctionCallable):  # type: ignore[misc]
    def __init__(self, implementation: Callable[..., Any]) -> None:
        self._implementation = implementation

    def call(self, input: Any, args: Sequence[Any] | None) -> Any:
        return self._implementation(*(args or ()))


def _function(implementation: Callable[..., Any], signature: str) -> Any:
    return Jsonata.JFunction(_Native(implementation), signature)


def _integer(value: Any, name: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise FunctionError(f"The {name} argument must be an integer, but was: {json.dumps(value)}")


def _partition(array: Any, size: Any) -> Any:
    items = list(array) if isinstance(array, list) else [array]
    chunk = _integer(size, "chunk size")
    if chunk <= 0:
        raise FunctionError(f"The chunk size argument must be a positive integer, but was: {chunk}")
    return [items[start : start + chunk] for start in range(0, len(items), chunk)]


def _range(first: Any, last: Any, step: Any) -> Any:
    start, stop, increment = _integer(first, "start"), _integer(last, "end"), _integer(step, "step")
    if increment == 0:
        raise FunctionError("The step argument must not be zero")
    stop_exclusive = stop + (1 if increment > 0 else -1)
    values = range(start, stop_exclusive, increment)
    if len(values) > _MAX_RANGE:
        raise FunctionError(f"The range must not have more than {_MAX_RANGE} elements")
    # A JSONata sequence, as AWS returns it: one element is the element itself, none is undefined.
    sequence = Utils.create_sequence()
    sequence.extend(values)
    return sequence


def _hash(value: Any, algorithm: Any) -> str:
    digest = _HASHES.get(algorithm)
    if digest is None:
        supported = ", ".join(_HASHES)
        raise FunctionError(f"The hash algorithm '{algorithm}' is not supported; use one of {supported}")
    return str(digest(value.encode("utf-8")).hexdigest())


def _random_number(seed: Any = None) -> float:
    if seed is None:
        return _CURRENT.get().random.random()
    return _random.Random(_seed(seed)).random()


def _seed(seed: Any) -> int | str:
    if isinstance(seed, float) and seed.is_integer():
        return int(seed)
    return seed if isinstance(seed, int) else repr(seed)


def _uuid() -> str:
    return str(uuid.UUID(int=_CURRENT.get().random.getrandbits(128), version=4))


def _parse(text: Any) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise FunctionError(
            f"The string cannot be parsed as JSON: {error.msg} at position {error.pos}"
        ) from None
    return Utils.NULL_VALUE if value is None else value


def _number(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value) and math.isfinite(float(value)):
        return Utils.convert_number(float(value))
    if isinstance(value, str) and _PREFIXED.fullmatch(value):
        return int(value, 0)
    raise JException("D3030", -1, value)


def _now(picture: Any = None, timezone: Any = None) -> Any:
    return Functions.datetime_from_millis(_millis(), picture, timezone)


def _millis() -> int:
    return entered_millis(_CURRENT.get().states)


# Bound in every evaluation; a variable of the same name shadows them, as a JSONata binding would.
FUNCTIONS: dict[str, Any] = {
    "partition": _function(_partition, "<an:a>"),
    "range": _function(_range, "<nnn:a>"),
    "hash": _function(_hash, "<ss:s>"),
    "random": _function(_random_number, "<n?:n>"),
    "uuid": _function(_uuid, "<:s>"),
    "parse": _function(_parse, "<s:x>"),
    "number": _function(_number, "<(nsb)-:n>"),
    "now": _function(_now, "<s?s?:s>"),
    "millis": _function(_millis, "<:n>"),
}
