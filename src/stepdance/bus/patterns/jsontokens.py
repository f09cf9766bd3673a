"""JSON as a stream of tokens, the way AWS's pattern compiler reads it.

EventBridge compiles a pattern while it streams through the JSON text (Jackson under event-ruler), so the
first problem in document order wins, be it a syntax error or a rule violation, and a duplicate key is simply
read twice. ``TextTokens`` reproduces Jackson's tokens and its error wording for malformed text;
``ValueTokens`` streams an already parsed Python value the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from stepdance.bus.patterns.errors import InvalidEventPattern


class Kind(enum.Enum):
    START_OBJECT = "{"
    END_OBJECT = "}"
    START_ARRAY = "["
    END_ARRAY = "]"
    FIELD_NAME = "name"
    STRING = "string"
    NUMBER = "number"
    TRUE = "true"
    FALSE = "false"
    NULL = "null"
    END = "end of input"


SCALARS = frozenset({Kind.STRING, Kind.NUMBER, Kind.TRUE, Kind.FALSE, Kind.NULL})


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str = ""  # a name, a string's content, a number as written, or true/false/null


class Tokens(Protocol):
    def next(self) -> Token: ...


# --------------------------------------------------------------------------- Python values


class ValueTokens:
    """Tokens of a parsed JSON value (dicts, lists, str, int, float, bool, None)."""

    def __init__(self, value: Any) -> None:
        self._tokens = _walk(value)

    def next(self) -> Token:
        return next(self._tokens, Token(Kind.END))


def _walk(value: Any) -> Iterator[Token]:
    if isinstance(value, dict):
        yield Token(Kind.START_OBJECT)
        for key, item in value.items():
            yield Token(Kind.FIELD_NAME, str(key))
            yield from _walk(item)
        yield Token(Kind.END_OBJECT)
    elif isinstance(value, list | tuple):
        yield Token(Kind.START_ARRAY)
        for item in value:
            yield from _walk(item)
        yield Token(Kind.END_ARRAY)
    else:
        yield _scalar(value)


def _scalar(value: Any) -> Token:
    if value is None:
        return Token(Kind.NULL, "null")
    if value is True or value is False:
        return Token(Kind.TRUE, "true") if value else Token(Kind.FALSE, "false")
    if isinstance(value, str):
        return Token(Kind.STRING, value)
    if isinstance(value, int | float):
        return Token(Kind.NUMBER, repr(value))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


# --------------------------------------------------------------------------- text

VALID_TOKENS = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
MAX_ERROR_TOKEN = 256
MAX_SOURCE_SNIPPET = 500


@dataclass(slots=True)
class _Scope:
    kind: str  # "root", "Object" or "Array" (Jackson's own words, they appear in messages)
    line: int = 0
    column: int = 0
    entries: int = 0


class TextTokens:
    """Tokens of JSON text; raises InvalidEventPattern with Jackson's message where Jackson would stop.

    Like the compiler AWS runs, it reads only as far as it is asked: text after the pattern's closing brace
    is never looked at."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._scopes = [_Scope("root")]
        self._pending: tuple[Token, int] | None = None  # a field's value, read together with its name

    def next(self) -> Token:
        if self._pending is not None:
            token, start = self._pending
            self._pending = None
            return self._opened(token, start)
        char = self._skip_space()
        scope = self._scopes[-1]
        if char is None:
            if scope.kind != "root":
                self._fail(f"Unexpected end-of-input: expected close marker for {scope.kind.upper()} "
                           f"(start marker at {self._source(scope.line, scope.column)})")  # fmt: skip
            return Token(Kind.END)
        if char in "]}":
            return self._close(char)
        if scope.entries and scope.kind != "root":
            self._comma(char, scope)
            char = self._require_space(f" within/between {scope.kind} entries")
        scope.entries += 1
        if scope.kind == "Object":
            return self._field()
        start = self._pos
        return self._opened(self._value(char), start)

    # ----------------------------------------------------------------------- structure

    def _opened(self, token: Token, start: int) -> Token:
        if token.kind in (Kind.START_OBJECT, Kind.START_ARRAY):
            line, column = self._location(start)
            kind = "Object" if token.kind is Kind.START_OBJECT else "Array"
            self._scopes.append(_Scope(kind, line, column))
        return token

    def _close(self, char: str) -> Token:
        scope = self._scopes[-1]
        wanted = "Array" if char == "]" else "Object"
        if scope.kind != wanted:
            expected = "]" if scope.kind == "Array" else "}"
            where = "ROOT" if scope.kind == "root" else scope.kind
            self._fail(f"Unexpected close marker '{char}': expected '{expected}' (for {where} starting at "
                       f"{self._source(scope.line, scope.column)})")  # fmt: skip
        self._pos += 1
        self._scopes.pop()
        return Token(Kind.END_ARRAY if char == "]" else Kind.END_OBJECT)

    def _comma(self, char: str, scope: _Scope) -> None:
        if char != ",":
            self._unexpected(char, f"was expecting comma to separate {scope.kind} entries")
        self._pos += 1

    def _field(self) -> Token:
        char = self._text[self._pos]
        if char != '"':
            self._unexpected(char, "was expecting double-quote to start field name")
        name = self._string("name")
        char = self._require_space(" within/between Object entries")
        if char != ":":
            self._unexpected(char, "was expecting a colon to separate field name and value")
        self._pos += 1
        char = self._require_space(" within/between Object entries")
        # Jackson reads the value's first token with the name: its errors come before the name is used
        start = self._pos
        self._pending = (self._value(char), start)
        return Token(Kind.FIELD_NAME, name)

    # ----------------------------------------------------------------------- values

    def _value(self, char: str) -> Token:
        if char == '"':
            return Token(Kind.STRING, self._string("string value"))
        if char == "{" or char == "[":
            self._pos += 1
            return Token(Kind.START_OBJECT if char == "{" else Kind.START_ARRAY)
        if char == "-" or "0" <= char <= "9":
            return self._number()
        for word, kind in (("true", Kind.TRUE), ("false", Kind.FALSE), ("null", Kind.NULL)):
            if char == word[0]:
                self._keyword(word)
                return Token(kind, word)
        return self._odd_value(char)

    def _keyword(self, word: str) -> None:
        text, start = self._text, self._pos
        for offset in range(1, len(word)):
            if start + offset >= len(text) or text[start + offset] != word[offset]:
                self._pos = start + offset
                self._invalid_token(word[:offset])
        self._pos = start + len(word)
        if self._pos < len(text) and _identifier_part(text[self._pos]):
            self._invalid_token(word)

    def _odd_value(self, char: str) -> Token:
        for word in ("NaN", "Infinity"):
            if self._text.startswith(word, self._pos):
                self._fail(f"Non-standard token '{word}': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS "
                           "to allow")  # fmt: skip
        if _identifier_start(char):
            self._pos += 1
            self._invalid_token(char)
        self._unexpected(char, f"expected a valid value {VALID_TOKENS}")

    def _number(self) -> Token:
        text, start = self._text, self._pos
        if text[self._pos] == "-":
            self._pos += 1
            if not self._digit_here():
                self._number_char("expected digit (0-9) to follow minus sign, for valid numeric value")
        if text[self._pos] == "0" and self._pos + 1 < len(text) and text[self._pos + 1].isdigit():
            self._fail("Invalid numeric value: Leading zeroes not allowed")
        self._digits()
        if self._here() == ".":
            self._pos += 1
            if not self._digit_here():
                self._number_char("Decimal point not followed by a digit")
            self._digits()
        if self._here() in ("e", "E"):
            self._pos += 1
            if self._here() in ("+", "-"):
                self._pos += 1
            if not self._digit_here():
                self._number_char("Exponent indicator not followed by a digit")
            self._digits()
        after = self._here()
        if len(self._scopes) == 1 and after and after not in " \t\r\n":
            self._unexpected(after, "Expected space separating root-level values")
        return Token(Kind.NUMBER, text[start : self._pos])

    def _digits(self) -> None:
        while self._digit_here():
            self._pos += 1

    def _digit_here(self) -> bool:
        return "0" <= self._here() <= "9"

    def _here(self) -> str:
        return self._text[self._pos] if self._pos < len(self._text) else ""

    def _number_char(self, comment: str) -> NoReturn:
        char = self._here()
        if not char:
            self._fail("Unexpected end-of-input in a Number value")
        self._fail(f"Unexpected character ({_describe(char)}) in numeric value: {comment}")

    def _string(self, what: str) -> str:
        text = self._text
        self._pos += 1  # the opening quote
        parts: list[str] = []
        while True:
            if self._pos >= len(text):
                if what == "name":
                    self._fail("Unexpected end-of-input in field name")
                self._fail("Unexpected end-of-input: was expecting closing quote for a string value")
            char = text[self._pos]
            self._pos += 1
            if char == '"':
                return _join_surrogates("".join(parts))
            if char == "\\":
                parts.append(self._escape())
            elif char < " ":
                self._fail(f"Illegal unquoted character ({_describe(char)}): has to be escaped using backslash "
                           f"to be included in {what}")  # fmt: skip
            else:
                parts.append(char)

    def _escape(self) -> str:
        if self._pos >= len(self._text):
            self._fail("Unexpected end-of-input in character escape sequence")
        char = self._text[self._pos]
        self._pos += 1
        if char in ESCAPES:
            return ESCAPES[char]
        if char != "u":
            self._fail(f"Unrecognized character escape {_describe(char)}")
        digits = self._text[self._pos : self._pos + 4]
        for digit in digits:
            if digit not in "0123456789abcdefABCDEF":
                self._unexpected(digit, "expected a hex-digit for character escape sequence")
        if len(digits) < 4:
            self._fail("Unexpected end-of-input in character escape sequence")
        self._pos += 4
        return chr(int(digits, 16))

    # ----------------------------------------------------------------------- space, errors, locations

    def _skip_space(self) -> str | None:
        text = self._text
        while self._pos < len(text):
            char = text[self._pos]
            if char in " \t\r\n":
                self._pos += 1
            elif char == "/":
                self._unexpected(char, "maybe a (non-standard) comment? (not recognized as one since Feature "
                                       "'ALLOW_COMMENTS' not enabled for parser)")  # fmt: skip
            elif char < " ":
                self._fail(f"Illegal character ({_describe(char)}): only regular white space "
                           "(\\r, \\n, \\t) is allowed between tokens")  # fmt: skip
            else:
                return char
        return None

    def _require_space(self, where: str) -> str:
        char = self._skip_space()
        if char is None:
            self._fail(f"Unexpected end-of-input{where}")
        return char

    def _invalid_token(self, matched: str) -> NoReturn:
        text, token = self._text, matched
        while self._pos < len(text) and _identifier_part(text[self._pos]):
            token += text[self._pos]
            self._pos += 1
            if len(token) >= MAX_ERROR_TOKEN:
                token += "..."
                break
        self._fail(f"Unrecognized token '{token}': was expecting {VALID_TOKENS}")

    def _unexpected(self, char: str, comment: str) -> NoReturn:
        self._fail(f"Unexpected character ({_describe(char)}): {comment}")

    def _fail(self, reason: str) -> NoReturn:
        raise InvalidEventPattern(reason)

    def _location(self, offset: int) -> tuple[int, int]:
        line = self._text.count("\n", 0, offset) + 1
        column = offset - (self._text.rfind("\n", 0, offset) + 1) + 1
        return line, column

    def _source(self, line: int, column: int) -> str:
        text = self._text
        snippet = text[:MAX_SOURCE_SNIPPET]
        cut = f"[truncated {len(text) - MAX_SOURCE_SNIPPET} chars]" if len(text) > MAX_SOURCE_SNIPPET else ""
        return f'[Source: (String)"{snippet}"{cut}; line: {line}, column: {column}]'


def _describe(char: str) -> str:
    """Jackson's ``_getCharDesc``: ``'x' (code 120)``, ``(CTRL-CHAR, code 10)``."""
    code = ord(char)
    if code < 32 or 127 <= code <= 159:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{char}' (code {code} / 0x{code:x})"
    return f"'{char}' (code {code})"


def _identifier_start(char: str) -> bool:
    """Close to Java's ``Character.isJavaIdentifierStart`` (letters, ``$``, ``_`` and currency signs)."""
    return char.isalpha() or char in "$_" or char in "¢£¤¥"


def _identifier_part(char: str) -> bool:
    return _identifier_start(char) or char.isdigit()


def _join_surrogates(text: str) -> str:
    """``\\ud83d\\ude80`` escapes give two surrogates; JSON means the one character they encode."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
