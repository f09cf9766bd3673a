"""Syntax checks for JSONPath paths and intrinsic function calls, as written in a definition.

This only decides whether a string is well formed (what AWS refuses when a state machine is created);
evaluating paths and intrinsics is the interpreter's business. The grammar is the Jayway subset AWS
accepts: a root (``$``, ``$$`` for the context object, ``$name`` for a variable) followed by ``.name``,
``..name``, ``.*``, ``[n]``, ``['name']``, ``[*]``, ``[a:b]``, ``[1,2]`` and ``[?(...)]`` steps. A
*reference path* (ResultPath, ItemsPath, the ``...Path`` fields that read one value) addresses a single
node, so it allows only ``.name``, ``['name']`` and ``[n]``.
"""

from __future__ import annotations

import re

INTRINSICS = frozenset(
    {
        "Format",
        "StringToJson",
        "JsonToString",
        "Array",
        "ArrayPartition",
        "ArrayContains",
        "ArrayRange",
        "ArrayGetItem",
        "ArrayLength",
        "ArrayUnique",
        "Base64Encode",
        "Base64Decode",
        "Hash",
        "JsonMerge",
        "MathRandom",
        "MathAdd",
        "StringSplit",
        "UUID",
    }
)

_ROOT = re.compile(r"\$\$|\$[^\W\d]\w*|\$")
# A dot-notation name ends where a new step starts; whitespace and parentheses are never part of it.
_NAME = re.compile(r"[^.\[\]\s()'\",]+")
_INDEXES = re.compile(r"-?\d+(\s*,\s*-?\d+)*")
_SLICE = re.compile(r"-?\d*:-?\d*(:-?\d*)?")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


def path_problem(text: str, *, reference: bool = False) -> str | None:
    """Why ``text`` is not a valid path (or reference path), or None when it is."""
    root = _ROOT.match(text)
    if root is None:
        kind = "Reference path" if reference else "Path"
        return f"{kind} didn't start with '$'"
    position = root.end()
    while position < len(text):
        step_end = _step_end(text, position, reference)
        if step_end is None:
            return f"Invalid path component at position {position}: {text[position:]!r}"
        position = step_end
    return None


def _step_end(text: str, start: int, reference: bool) -> int | None:
    """Where the step beginning at ``start`` ends, or None when it is not a valid step."""
    if text.startswith("..", start):
        if reference:
            return None
        return _after_name_or_wildcard(text, start + 2, reference) or _bracket_end(text, start + 2, reference)
    if text.startswith(".", start):
        return _after_name_or_wildcard(text, start + 1, reference)
    if text.startswith("[", start):
        return _bracket_end(text, start, reference)
    return None


def _after_name_or_wildcard(text: str, start: int, reference: bool) -> int | None:
    if text.startswith("*", start):
        return None if reference else start + 1
    name = _NAME.match(text, start)
    return name.end() if name else None


def _bracket_end(text: str, start: int, reference: bool) -> int | None:
    if not text.startswith("[", start):
        return None
    close = _matching_bracket(text, start)
    if close is None:
        return None
    body = text[start + 1 : close].strip()
    return close + 1 if _bracket_body_ok(body, reference) else None


def _bracket_body_ok(body: str, reference: bool) -> bool:
    if reference:
        return bool(re.fullmatch(r"-?\d+", body) or _QUOTED.fullmatch(body))
    if body == "*" or _INDEXES.fullmatch(body) or _SLICE.fullmatch(body):
        return True
    if body.startswith("?(") and body.endswith(")"):
        return True
    names = [part.strip() for part in _split_top_level(body)]
    return bool(names) and all(_QUOTED.fullmatch(name) for name in names)


def _matching_bracket(text: str, start: int) -> int | None:
    """The index of the ``]`` closing the ``[`` at ``start``, skipping quoted text and nested brackets."""
    depth, position, quote = 0, start, ""
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return None


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes, brackets and parentheses."""
    parts, depth, quote, current = [], 0, "", []
    position = 0
    while position < len(text):
        char = text[position]
        current.append(char)
        if quote:
            if char == "\\" and position + 1 < len(text):
                position += 1
                current.append(text[position])
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            current.pop()
            parts.append("".join(current))
            current = []
        position += 1
    parts.append("".join(current))
    return parts


def is_intrinsic(text: str) -> bool:
    return text.startswith("States.")


def intrinsic_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed intrinsic function call, or None when it is."""
    match = re.match(r"States\.(\w+)\(", text)
    if match is None:
        return "Intrinsic function calls look like States.Name(arguments)"
    if match.group(1) not in INTRINSICS:
        return f"Unknown intrinsic function: States.{match.group(1)}"
    if not text.endswith(")") or _closing_paren(text, match.end() - 1) != len(text) - 1:
        return "Unbalanced parentheses in intrinsic function call"
    inner = text[match.end() : -1]
    if not inner.strip():
        return None
    for argument in _split_top_level(inner):
        problem = _argument_problem(argument.strip())
        if problem:
            return problem
    return None


def _closing_paren(text: str, start: int) -> int | None:
    depth, quote, position = 0, "", start
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\":
                position += 1
            elif char == quote:
                quote = ""
        elif char == "'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return None


def _argument_problem(argument: str) -> str | None:
    if not argument:
        return "Empty argument in intrinsic function call"
    if argument.startswith("'"):
        return None if re.fullmatch(r"'(?:[^'\\]|\\.)*'", argument) else f"Invalid string literal: {argument}"
    if argument in ("true", "false", "null") or _NUMBER.fullmatch(argument):
        return None
    if is_intrinsic(argument):
        return intrinsic_problem(argument)
    if argument.startswith("$"):
        return path_problem(argument)
    return f"Invalid argument in intrinsic function call: {argument}"


def path_or_intrinsic_problem(text: str) -> str | None:
    return intrinsic_problem(text) if is_intrinsic(text) else path_problem(text)
