"""Whether a string is a well-formed path or intrinsic function call, in validation's terms.

The grammar is the interpreter's own (``jsonpath_parse.compile_path`` and ``intrinsics.parse_intrinsic``),
so a definition validates exactly when its paths can be evaluated. A *reference path* (ResultPath,
ItemsPath, the ``...Path`` fields that read one value) must address a single node: only ``.name``,
``['name']`` and ``[n]`` steps.
"""

from __future__ import annotations

from stepdance.asl.intrinsics.parser import parse_intrinsic
from stepdance.asl.jsonpath_parse import compile_path


def path_problem(text: str, *, reference: bool = False) -> str | None:
    """Why ``text`` is not a valid path (or reference path), or None when it is."""
    if not text.startswith("$"):
        return f"{'Reference path' if reference else 'Path'} didn't start with '$'"
    try:
        compiled = compile_path(text)
    except ValueError as exc:
        return str(exc)
    if reference and compiled.simple is None:
        return "Reference path can only contain names and single indexes"
    return None


def is_intrinsic(text: str) -> bool:
    return text.startswith("States.")


def intrinsic_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed call of a known intrinsic function, or None when it is."""
    try:
        parse_intrinsic(text)
    except ValueError as exc:
        return str(exc)
    return None


def path_or_intrinsic_problem(text: str) -> str | None:
    return intrinsic_problem(text) if is_intrinsic(text) else path_problem(text)
