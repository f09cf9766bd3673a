"""Reading a definition's text: JSON syntax errors reported as AWS does (its parser is Jackson, so the
wording and the ``[Source: ...; line: L, column: C]`` location are Jackson's; AWS also repeats the
location at the end of the message, which is left out here), and duplicate keys kept track of so that a
state defined twice can be reported."""

from __future__ import annotations

import json
import re
from typing import Any

from stepdance.asl.definition import Problem

INVALID_JSON = "INVALID_JSON_DESCRIPTION"
SOURCE_LIMIT = 500
_TOKEN = re.compile(r"[^\s{}\[\],:\"]+")


class JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it saw more than once (JSON keeps the last value)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> JsonObject:
    result = JsonObject()
    result.duplicates = []
    for key, value in pairs:
        if key in result:
            result.duplicates.append(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(
        f"Non-standard token '{name}': enable JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS to allow"
    )


def parse(text: str) -> tuple[Any, Problem | None]:
    """The JSON value of ``text``, or the INVALID_JSON_DESCRIPTION problem that stops reading it."""
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_reject_constant), None
    except json.JSONDecodeError as exc:
        return None, _syntax_problem(text, exc)
    except RecursionError:
        return None, Problem(INVALID_JSON, "Document nesting depth exceeds the maximum allowed", "")
    except ValueError as exc:
        return None, Problem(INVALID_JSON, str(exc), "")


def _syntax_problem(text: str, exc: json.JSONDecodeError) -> Problem:
    position = exc.pos
    char = text[position] if position < len(text) else ""
    reason = _reason(text, exc.msg, position, char)
    if reason.startswith("Unexpected end-of-input"):
        position = len(text)
    elif reason.startswith("Unrecognized token"):
        token = _TOKEN.match(text, position)
        position = token.end() if token else position + 1
    else:
        position += 1
    location = (
        f"[Source: (String){_source(text)}; line: {_line(text, position)}, column: {_column(text, position)}]"
    )
    return Problem(INVALID_JSON, reason, location)


def _reason(text: str, message: str, position: int, char: str) -> str:
    if message.startswith("Unterminated string"):
        return "Unexpected end-of-input: was expecting closing quote for a string value"
    if not char:
        container = _open_container(text, position)
        if container:
            return f"Unexpected end-of-input: expected close marker for {container}"
        return "No content to map due to end-of-input"
    shown = f"'{char}' (code {ord(char)})"
    if message.startswith("Expecting value"):
        token = _TOKEN.match(text, position)
        if char.isalpha() and token:
            return (
                f"Unrecognized token '{token.group()}': was expecting "
                "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
            )
        return f"Unexpected character ({shown}): expected a valid value "
    if message.startswith("Expecting property name"):
        return f"Unexpected character ({shown}): was expecting double-quote to start field name"
    if message.startswith("Expecting ':'"):
        return f"Unexpected character ({shown}): was expecting a colon to separate field name and value"
    if message.startswith("Expecting ','"):
        entries = "Object" if _open_container(text, position) == "OBJECT" else "Array"
        return f"Unexpected character ({shown}): was expecting comma to separate {entries} entries"
    if message.startswith("Invalid control character"):
        return (
            f"Illegal unquoted character ((CTRL-CHAR, code {ord(char)})): "
            "has to be escaped using backslash to be included in string value"
        )
    if message.startswith("Invalid \\"):
        return f"Unrecognized character escape {shown}"
    if message.startswith("Extra data"):
        return f"Unexpected character ({shown}): expected end of input"
    return message


def _open_container(text: str, position: int) -> str:
    """OBJECT or ARRAY: the innermost container still open at ``position`` ("" when none is)."""
    stack: list[str] = []
    in_string = escaped = False
    for char in text[:position]:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("OBJECT" if char == "{" else "ARRAY")
        elif char in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _source(text: str) -> str:
    if len(text) <= SOURCE_LIMIT:
        return f'"{text}"'
    return f'"{text[:SOURCE_LIMIT]}"[truncated {len(text) - SOURCE_LIMIT} chars]'


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _column(text: str, position: int) -> int:
    return position - (text.rfind("\n", 0, position) + 1) + 1
