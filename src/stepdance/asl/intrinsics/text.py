"""States.Format, StringSplit, Base64Encode, Base64Decode and Hash."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from typing import Any

from stepdance.asl.intrinsics.invocation import InvalidArguments, Invocation, limited, string
from stepdance.asl.intrinsics.parser import Literal
from stepdance.asl.jsontext import java_string, to_json

_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
_UNMATCHED_OPEN = "Invalid template in States.Format: matching '}' not found for '{'."
_UNMATCHED_CLOSE = "Invalid template in States.Format: matching '{' not found for '}'."


def format_string(inv: Invocation) -> str:
    first = inv.call.args[0]
    if isinstance(first, Literal) and first.raw is not None:
        parts = template_parts(first.raw, True)
    else:
        parts = template_parts(string(inv.args[0]), False)
    values = inv.args[1:]
    if parts.count(None) != len(values):
        raise InvalidArguments(
            "Invalid arguments in States.Format: number of arguments do not match the occurrences of {}."
        )
    rendered = iter(values)
    return "".join(java_string(next(rendered)) if part is None else part for part in parts)


@lru_cache(maxsize=1024)
def template_parts(template: str, escaped: bool) -> tuple[str | None, ...]:
    """Literal text and placeholders (``None``); in a literal written in the call, ``\\{`` is a brace."""
    parts: list[str | None] = []
    text: list[str] = []
    position = 0
    while position < len(template):
        char = template[position]
        if escaped and char == "\\":
            text.append(template[position + 1 : position + 2])
            position += 2
            continue
        if char == "{":
            if not template.startswith("{}", position):
                raise InvalidArguments(_UNMATCHED_OPEN)
            parts.extend(("".join(text), None))
            text.clear()
            position += 2
            continue
        if char == "}":
            raise InvalidArguments(_UNMATCHED_CLOSE)
        text.append(char)
        position += 1
    parts.append("".join(text))
    return tuple(part for part in parts if part != "")


def string_split(inv: Invocation) -> list[str]:
    """Java's ``StringTokenizer``: every character of the second argument delimits; no empty tokens."""
    text, delimiters = string(inv.args[0]), string(inv.args[1])
    if not delimiters:
        return [text] if text else []
    if len(delimiters) == 1:
        tokens = text.split(delimiters)
    else:
        tokens = re.split("[" + "".join(re.escape(char) for char in set(delimiters)) + "]", text)
    return [token for token in tokens if token]


def base64_encode(inv: Invocation) -> str:
    data = limited(string(inv.args[0])).encode("utf-8", errors="replace")
    return base64.b64encode(data).decode("ascii")


def base64_decode(inv: Invocation) -> str:
    """Lenient like AWS: characters outside the alphabet are skipped and decoding stops at ``=``."""
    text = limited(string(inv.args[0])).translate({ord("-"): "+", ord("_"): "/"})
    digits = _NOT_BASE64.sub("", text.split("=", 1)[0])
    digits = digits[: len(digits) - 1] if len(digits) % 4 == 1 else digits
    padded = digits + "=" * (-len(digits) % 4)
    return base64.b64decode(padded).decode("utf-8", errors="replace")


def hash_of(inv: Invocation) -> str:
    data: Any = inv.args[0]
    text = limited(data if isinstance(data, str) else to_json(data))
    algorithm = inv.args[1]
    if not isinstance(algorithm, str) or algorithm not in _HASHES:
        raise InvalidArguments
    return hashlib.new(_HASHES[algorithm], text.encode("utf-8", errors="replace")).hexdigest()
