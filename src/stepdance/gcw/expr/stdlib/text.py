"""The ``text`` module: strings, their encodings, searching and replacing (regular expressions use RE2 syntax).

Indexes count code points, as Python strings do. Behaviours taken from the reference pages:
``text.split("baaab", "aa")`` is ``["b", "ab"]`` (leftmost match), empty pieces are kept, an empty separator
is a ValueError; ``text.substring`` counts a negative index from the end and clamps out-of-range indexes
(``text.substring("hello", -10, 10)`` is ``"hello"``); ``text.replace_all_regex`` does not expand
backreferences in the replacement, and an empty pattern matches before and after every code point.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from stepdance.gcw.expr import limits
from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import resource_limit_error, value_error
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args, regex
from stepdance.gcw.expr.stdlib.regex import compile_re2
from stepdance.gcw.expr.values import checked_string

# Charset names are matched case-insensitively; only real text encodings (no codecs such as rot13 or zlib).
_CHARSETS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-16": "utf-16",
    "utf-16be": "utf-16-be",
    "utf-16le": "utf-16-le",
    "utf-32": "utf-32",
    "utf-32be": "utf-32-be",
    "utf-32le": "utf-32-le",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "iso-8859-1": "latin-1",
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "windows-1252": "cp1252",
}
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _codec(function: str, charset: Any) -> str:
    name = args.string(function, "charset", charset)
    try:
        return _CHARSETS[name.lower()]
    except KeyError:
        raise value_error(f"{function}: unsupported charset {name!r}") from None


@builtin("text.decode", "data", "charset", required=1)
def decode(context: Context, data: Any, charset: Any = "UTF-8") -> str:
    raw = args.bytes_value("text.decode", "data", data)
    codec = _codec("text.decode", charset)
    try:
        return checked_string(raw.decode(codec))
    except UnicodeDecodeError as error:
        raise value_error(f"text.decode: data is not valid {charset}: {error.reason}") from None


@builtin("text.encode", "text", "charset", required=1)
def encode(context: Context, text: Any, charset: Any = "UTF-8") -> bytes:
    source = args.string("text.encode", "text", text)
    codec = _codec("text.encode", charset)
    try:
        return source.encode(codec)
    except UnicodeEncodeError as error:
        raise value_error(f"text.encode: text cannot be encoded as {charset}: {error.reason}") from None


def _match(index: int, match: str) -> dict[str, Any]:
    return {"index": index, "match": match}


@builtin("text.find_all", "source", "substr")
def find_all(context: Context, source: Any, substr: Any) -> list[dict[str, Any]]:
    text = args.string("text.find_all", "source", source)
    needle = args.string("text.find_all", "substr", substr)
    if not needle:
        return [_match(index, "") for index in range(len(text) + 1)]
    found: list[dict[str, Any]] = []
    index = text.find(needle)
    while index >= 0:
        found.append(_match(index, needle))
        index = text.find(needle, index + len(needle))
    return found


@builtin("text.find_all_regex", "source", "regexp")
def find_all_regex(context: Context, source: Any, regexp: Any) -> list[dict[str, Any]]:
    text = args.string("text.find_all_regex", "source", source)
    pattern = compile_re2(args.string("text.find_all_regex", "regexp", regexp), "text.find_all_regex")
    return [_match(match.start(), match.group()) for match in regex.find_all(pattern, text)]


@builtin("text.match_regex", "source", "regexp")
def match_regex(context: Context, source: Any, regexp: Any) -> bool:
    text = args.string("text.match_regex", "source", source)
    pattern = compile_re2(args.string("text.match_regex", "regexp", regexp), "text.match_regex")
    return pattern.search(text) is not None


@builtin("text.replace_all", "source", "substr", "repl")
def replace_all(context: Context, source: Any, substr: Any, repl: Any) -> str:
    text = args.string("text.replace_all", "source", source)
    old = args.string("text.replace_all", "substr", substr)
    new = args.string("text.replace_all", "repl", repl)
    count = text.count(old)
    if len(text) + count * (len(new) - len(old)) > limits.MAX_STRING_BYTES:  # refuse before building it
        raise resource_limit_error(f"string exceeds the maximum length of {limits.MAX_STRING_BYTES} bytes")
    return checked_string(text.replace(old, new))


@builtin("text.replace_all_regex", "source", "regexp", "repl")
def replace_all_regex(context: Context, source: Any, regexp: Any, repl: Any) -> str:
    text = args.string("text.replace_all_regex", "source", source)
    pattern = compile_re2(args.string("text.replace_all_regex", "regexp", regexp), "text.replace_all_regex")
    new = args.string("text.replace_all_regex", "repl", repl)
    return checked_string(regex.replace_all(pattern, text, new))


@builtin("text.split", "source", "separator")
def split(context: Context, source: Any, separator: Any) -> list[str]:
    text = args.string("text.split", "source", source)
    sep = args.string("text.split", "separator", separator)
    if not sep:
        raise value_error("text.split: separator must not be empty")
    return text.split(sep)


@builtin("text.substring", "source", "start", "end")
def substring(context: Context, source: Any, start: Any, end: Any) -> str:
    text = args.string("text.substring", "source", source)
    first = args.integer("text.substring", "start", start)
    last = args.integer("text.substring", "end", end)
    # Documented: a negative index counts from the end, and out-of-range indexes are clamped: a Python slice.
    return text[first:last]


@builtin("text.to_lower", "source")
def to_lower(context: Context, source: Any) -> str:
    return checked_string(args.string("text.to_lower", "source", source).lower())


@builtin("text.to_upper", "source")
def to_upper(context: Context, source: Any) -> str:
    return checked_string(args.string("text.to_upper", "source", source).upper())


@builtin("text.url_decode", "source")
def url_decode(context: Context, source: Any) -> str:
    text = args.string("text.url_decode", "source", source)
    bad = _BAD_PERCENT.search(text)
    if bad is not None:
        raise value_error(f"text.url_decode: invalid percent-encoding at index {bad.start()}")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise value_error("text.url_decode: percent-encoded bytes are not valid UTF-8") from None


@builtin("text.url_encode", "source")
def url_encode(context: Context, source: Any) -> str:
    text = args.string("text.url_encode", "source", source)
    return checked_string(quote(text, safe="", errors="surrogatepass"))


@builtin("text.url_encode_plus", "source")
def url_encode_plus(context: Context, source: Any) -> str:
    text = args.string("text.url_encode_plus", "source", source)
    return checked_string(quote_plus(text, safe="", errors="surrogatepass"))


FUNCTIONS = [
    decode,
    encode,
    find_all,
    find_all_regex,
    match_regex,
    replace_all,
    replace_all_regex,
    split,
    substring,
    to_lower,
    to_upper,
    url_decode,
    url_encode,
    url_encode_plus,
]
