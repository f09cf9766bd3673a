"""RE2 patterns (what Workflows' text functions accept) run on Python's ``re``.

RE2 and ``re`` agree on the common syntax. Where they differ we translate (``\\z``, ``\\Q...\\E``,
``(?<name>...)``) or refuse with a ValueError what RE2 itself rejects (backreferences, lookaround, atomic
groups, possessive quantifiers) or what ``re`` cannot do (``\\p{...}`` classes, ``(?U)``), so a pattern
either means the same in both or fails as an invalid regular expression.

``re`` backtracks where RE2 does not, so a pathological pattern can be slow on a long subject; strings are
capped at Workflows' maximum length, which bounds the input but not the worst case.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stepdance.gcw.expr import limits
from stepdance.gcw.expr.errors import resource_limit_error, value_error

_REFUSED_GROUPS = {
    "(?=": "lookahead",
    "(?!": "negative lookahead",
    "(?<=": "lookbehind",
    "(?<!": "negative lookbehind",
    "(?>": "atomic groups",
    "(?(": "conditionals",
    "(?P=": "backreferences",
    "(?#": "comments",
}


_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


def compile_re2(pattern: str, function: str) -> re.Pattern[str]:
    try:
        return _compile(pattern)
    except re.error as error:
        raise value_error(f"{function}: invalid regular expression {pattern!r}: {error}") from None
    except _Unsupported as error:
        raise value_error(f"{function}: invalid regular expression {pattern!r}: {error}") from None


def find_all(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Successive matches as RE2 and Go report them: an empty match right after a match is skipped.

    ``re.finditer`` differs after Python 3.7 (it also reports the empty match at the end of a previous
    match, so ``a*?`` over ``aaa`` gives seven matches instead of four).
    """
    matches: list[re.Match[str]] = []
    pos, previous_end = 0, -1
    while pos <= len(text):
        match = pattern.search(text, pos)
        if match is None:
            break
        accept = True
        if match.end() == pos:
            accept = match.start() != previous_end
            pos += 1
        else:
            pos = match.end()
        previous_end = match.end()
        if accept:
            matches.append(match)
    return matches


def replace_all(pattern: re.Pattern[str], text: str, replacement: str) -> str:
    """Every match replaced by ``replacement`` taken literally (Workflows expands no backreferences)."""
    pieces: list[str] = []
    last = size = 0
    for match in find_all(pattern, text):
        pieces += [text[last : match.start()], replacement]
        size += match.start() - last + len(replacement)
        if size > limits.MAX_STRING_BYTES:  # each character is at least one byte: stop before building it
            raise resource_limit_error(
                f"string exceeds the maximum length of {limits.MAX_STRING_BYTES} bytes"
            )
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


class _Unsupported(Exception):
    pass


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    # RE2's \d, \w, \s and \b are ASCII-only; so is re with re.ASCII.
    return re.compile(_translate(pattern), re.ASCII)


def _translate(pattern: str) -> str:
    out: list[str] = []
    pos = 0
    in_class = False
    while pos < len(pattern):
        char = pattern[pos]
        if char == "\\":
            text, pos = _escape(pattern, pos, in_class)
            out.append(text)
            continue
        if in_class:
            text, pos, in_class = _class_char(pattern, pos)
            out.append(text)
            continue
        if char == "[":
            # A "]" right after "[" or "[^" is a literal member in both dialects.
            opening = "[^" if pattern.startswith("[^", pos) else "["
            out.append(opening)
            pos += len(opening)
            if pattern.startswith("]", pos):
                out.append("\\]")
                pos += 1
            in_class = True
            continue
        if char == "(":
            _check_group(pattern, pos)
            if pattern.startswith("(?<", pos) and not pattern.startswith(("(?<=", "(?<!"), pos):
                out.append("(?P<")
                pos += 3
                continue
        elif char in "*+?}" and pattern[pos + 1 : pos + 2] == "+":
            raise _Unsupported("possessive quantifiers are not supported")
        out.append(char)
        pos += 1
    return "".join(out)


def _class_char(pattern: str, pos: int) -> tuple[str, int, bool]:
    """One member of a character class: POSIX ``[:name:]`` classes expand; ``re``'s set operators escape."""
    char = pattern[pos]
    if char == "]":
        return char, pos + 1, False
    if pattern.startswith("[:", pos):
        end = pattern.find(":]", pos + 2)
        name = pattern[pos + 2 : end] if end > 0 else ""
        if name not in _POSIX_CLASSES:
            raise _Unsupported(f"unknown POSIX class [:{name}:]")
        return _POSIX_CLASSES[name], end + 2, True
    if char in "[&~|":
        return "\\" + char, pos + 1, True
    return char, pos + 1, True


def _check_group(pattern: str, pos: int) -> None:
    for prefix, what in _REFUSED_GROUPS.items():
        if pattern.startswith(prefix, pos):
            raise _Unsupported(f"{what} are not supported")
    flags = re.match(r"\(\?([a-zA-Z]*)[:)]", pattern[pos:])
    if flags is not None and "U" in flags.group(1):
        raise _Unsupported("the U (ungreedy) flag is not supported")


def _escape(pattern: str, pos: int, in_class: bool) -> tuple[str, int]:
    escaped = pattern[pos + 1 : pos + 2]
    if escaped == "":
        raise _Unsupported("trailing backslash")
    if escaped == "z" and not in_class:
        return r"\Z", pos + 2
    if escaped == "Q":
        end = pattern.find("\\E", pos + 2)
        literal = pattern[pos + 2 :] if end < 0 else pattern[pos + 2 : end]
        return re.escape(literal), len(pattern) if end < 0 else end + 2
    if escaped.isdigit() and escaped != "0":
        raise _Unsupported("backreferences are not supported")
    if escaped in ("Z", "p", "P", "C", "X", "R"):
        raise _Unsupported(f"'\\{escaped}' is not supported")
    return pattern[pos : pos + 2], pos + 2
