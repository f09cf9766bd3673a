"""InputTemplate rendering: ``<name>`` placeholders filled as EventBridge fills them.

What a placeholder becomes depends on where it stands and what its path found:

=====================  =============================  ================================================
value                  outside a string               inside a string (``"... <name> ..."``)
=====================  =============================  ================================================
text                   a JSON string: ``"i-12"``      the text, unescaped: ``i-12``
number, true, null     as JSON: ``7``, ``true``       as JSON: ``7``, ``true``
object or array        as JSON: ``{"a":1}``           as JSON without its quotes: ``{a:1}``
nothing (no match)     ``""``                         nothing
=====================  =============================  ================================================

A template that starts with ``{`` is JSON: its own whitespace outside strings is dropped (the target gets
minified JSON); any other template is text and keeps its spelling, quotes included. Values are inserted as
found: EventBridge does not escape them, so a text with a quote inside a string breaks the JSON, on AWS too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"<([^<>]*)>")
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def is_json_template(template: str) -> bool:
    return template.strip().startswith("{")


def render(template: str, values: Mapping[str, Any]) -> str:
    """The template with every placeholder replaced (a name without a value reads as :data:`MISSING`)."""
    minify = is_json_template(template)
    out: list[str] = []
    in_string = False
    i, end = 0, len(template)
    while i < end:
        char = template[i]
        if in_string and char == "\\":
            out.append(template[i : i + 2])
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<" and (found := PLACEHOLDER.match(template, i)):
            out.append(_fill(values.get(found.group(1), MISSING), in_string))
            i = found.end()
            continue
        elif minify and not in_string and char.isspace():
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _fill(value: Any, in_string: bool) -> str:
    if value is MISSING:
        return "" if in_string else '""'
    if isinstance(value, str):
        return value if in_string else json.dumps(value, ensure_ascii=False)
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if in_string and isinstance(value, dict | list):
        return text.replace('"', "")
    return text
