"""Reading a definition's text (YAML or JSON) into YAML nodes that keep their line, and their values.

``yaml.compose`` rather than ``yaml.safe_load``: the nodes keep the marks that give every step and every
field its line. Values are built from the nodes here, JSON-shaped: YAML timestamps and other tags stay the
text they were written as, since Workflows sees strings there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from stepdance.gcw.syntax_report import Report

# A value as JSON has it: None, bool, int, float, str, list or dict (str keys).
JSON = Any

MAX_SOURCE_BYTES = 128 * 1024  # Workflows' limit on a definition's source
MAX_EXPANDED_NODES = 200_000  # aliases can make a small text a huge tree ("billion laughs")
STR = "tag:yaml.org,2002:str"
_CONSTRUCTOR = SafeConstructor()
_SCALARS: dict[str, Callable[[yaml.ScalarNode], JSON]] = {
    "tag:yaml.org,2002:null": _CONSTRUCTOR.construct_yaml_null,
    "tag:yaml.org,2002:bool": _CONSTRUCTOR.construct_yaml_bool,
    "tag:yaml.org,2002:int": _CONSTRUCTOR.construct_yaml_int,
    "tag:yaml.org,2002:float": _CONSTRUCTOR.construct_yaml_float,
}
# YAML 1.1 reads 1e5 as a string; JSON (and YAML 1.2) as a number.
_EXPONENT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?[eE][-+]?[0-9]+")


class Node:
    """A YAML node with the path that names it in problems.

    ``line`` (1-based) is where a reader looks for it: the line of its key when it is a map's value (a
    block map or list given as a value starts on the line after its key), else where it starts."""

    __slots__ = ("key_line", "node", "path")

    def __init__(self, node: yaml.Node, path: str, key_line: int | None = None) -> None:
        self.node = node
        self.path = path
        self.key_line = key_line

    @property
    def line(self) -> int:
        return self.key_line if self.key_line is not None else int(self.node.start_mark.line) + 1

    @property
    def is_map(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    @property
    def is_list(self) -> bool:
        return isinstance(self.node, yaml.SequenceNode)

    @property
    def text(self) -> str | None:
        """The string, when the node is one (a quoted "1" is; a plain 1 or true is not)."""
        if isinstance(self.node, yaml.ScalarNode) and self.node.tag == STR:
            value = scalar(self.node)
            return value if isinstance(value, str) else None
        return None

    def entries(self) -> list[Entry]:
        """The key/value pairs of a mapping, in order, duplicates included."""
        assert isinstance(self.node, yaml.MappingNode)
        found = []
        for key, value in self.node.value:
            name, line = key_text(key), int(key.start_mark.line) + 1
            found.append(Entry(name, line, Node(value, join(self.path, name), line)))
        return found

    def elements(self) -> list[Node]:
        assert isinstance(self.node, yaml.SequenceNode)
        return [Node(value, f"{self.path}[{i}]") for i, value in enumerate(self.node.value)]

    def value(self) -> JSON:
        return to_python(self.node)

    def kind(self) -> str:
        """What the node is, in the words of a problem message."""
        if self.is_map:
            return "a map"
        if self.is_list:
            return "a list"
        found = self.value()
        if found is None:
            return "nothing (null)"
        return {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
            type(found), "a value"
        )


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    line: int  # the key's line
    value: Node


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def key_text(key: yaml.Node) -> str:
    """A key as Workflows reads it: JSON keys are strings, so a YAML ``1:`` or ``true:`` is its text."""
    if isinstance(key, yaml.ScalarNode):
        return str(key.value)
    return "<" + ("map" if isinstance(key, yaml.MappingNode) else "list") + " key>"


def scalar(node: yaml.ScalarNode) -> JSON:
    construct = _SCALARS.get(str(node.tag))
    if construct is not None:
        try:
            return construct(node)
        except (ValueError, yaml.YAMLError):
            return node.value
    if node.style is None and _EXPONENT.fullmatch(node.value):
        return float(node.value)
    return node.value


def to_python(node: yaml.Node) -> JSON:
    if isinstance(node, yaml.MappingNode):
        return {key_text(key): to_python(value) for key, value in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [to_python(item) for item in node.value]
    assert isinstance(node, yaml.ScalarNode)
    return scalar(node)


def load(text: str, report: Report) -> Node | None:
    """The root node of ``text``, or None after reporting why there is none."""
    if len(text.encode("utf-8", "replace")) > MAX_SOURCE_BYTES:
        report.add(
            "TOO_LARGE", f"the source is over Workflows' limit of {MAX_SOURCE_BYTES // 1024} KB", None, ""
        )
    if text.lstrip().startswith(("{", "[")):
        # A raw tab is valid JSON whitespace but not YAML indentation, and JSON strings cannot hold one.
        text = text.replace("\t", " ")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        line = _yaml_line(error, text)
        report.add("YAML_SYNTAX", _yaml_message(error) + _yaml_hint(text, line), line, "")
        return None
    if root is None:
        report.add("EMPTY", "the definition is empty: expected a list of steps or a map of workflows", 1, "")
        return None
    size = expanded_size(root)
    if size is None:
        report.add("YAML_ALIAS", "an alias refers to a node that contains it (a recursive structure)", 1, "")
        return None
    if size > MAX_EXPANDED_NODES:
        report.add("YAML_ALIAS", f"aliases expand the definition to over {MAX_EXPANDED_NODES} nodes", 1, "")
        return None
    return Node(root, "")


def _yaml_message(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.reader.ReaderError):
        return f"not valid YAML or JSON: {error.reason} (character {error.character!r})"
    parts = [getattr(error, "context", None), getattr(error, "problem", None)]
    said = ", ".join(str(part) for part in parts if part) or str(error)
    return f"not valid YAML or JSON: {said}"


def _yaml_hint(text: str, line: int | None) -> str:
    """The usual cause in a workflow: an unquoted expression holding ``: `` or starting a flow map."""
    lines = text.splitlines()
    if line is None or not 0 < line <= len(lines) or "${" not in lines[line - 1]:
        return ""
    return " (an expression holding ': ' or in {...} must be quoted: '${...}')"


def _yaml_line(error: yaml.YAMLError, text: str) -> int | None:
    if isinstance(error, yaml.reader.ReaderError):
        return text.count("\n", 0, error.position) + 1
    problem, context = getattr(error, "problem_mark", None), getattr(error, "context_mark", None)
    said = str(getattr(error, "problem", ""))
    # Running out of text means something opened earlier is not closed: point at what opened it.
    if context is not None and ("stream end" in said or "end of stream" in said):
        problem = context
    mark = problem or context
    return int(mark.line) + 1 if mark is not None else None


def expanded_size(root: yaml.Node) -> int | None:
    """How many nodes the tree has once aliases are expanded; None if an alias makes it a cycle.

    Iterative, so that a deeply nested text is measured rather than overflowing the stack."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        ident = id(node)
        children = node.value if isinstance(node, yaml.SequenceNode) else []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        if children_done:
            in_progress.discard(ident)
            total = 1 + sum(sizes[id(child)] for child in children)
            sizes[ident] = min(total, MAX_EXPANDED_NODES + 1)
            continue
        if ident in sizes:
            continue
        if ident in in_progress:
            return None
        in_progress.add(ident)
        stack.append((node, True))
        for child in children:
            if id(child) in in_progress:
                return None
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]
