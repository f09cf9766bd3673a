"""From YAML nodes to workflows and steps, reporting every problem of shape on the way.

The reader never stops at a problem: a malformed part is reported and replaced by what it can still tell
(a step whose body is broken is kept, under its name, as a bare ``Next`` step), so that the checks that
follow (:mod:`.syntax_check`) see every step name and do not report jumps to it as unknown. The step kinds
are read by one small handler each, in :mod:`.syntax_read_steps`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stepdance.gcw.syntax_names import is_expression, is_identifier, unbalanced_at
from stepdance.gcw.syntax_report import Report
from stepdance.gcw.syntax_steps import JSON, JUMPS, Next, Param, Step, Workflow
from stepdance.gcw.syntax_yaml import Entry, Node

STEP_KINDS = ("assign", "call", "switch", "for", "parallel", "try", "raise", "return", "steps")
# Keys that only mean something next to their step kind.
COMPANIONS = {"args": "call", "result": "call", "retry": "try", "except": "try"}
STEP_KEYS = (*STEP_KINDS, "args", "result", "retry", "except", "next")
WORKFLOW_KEYS = ("params", "steps")
MAIN_PARAMS = 1  # main receives the execution's argument, as one map


@dataclass(frozen=True)
class Body:
    """A step's body being read: its fields, and what every step kind carries."""

    fields: dict[str, Entry]
    name: str
    line: int
    path: str
    next: str | None
    inline: bool
    lines: dict[str, int] = field(default_factory=dict)

    def common(self, **overrides: Any) -> dict[str, Any]:
        """The keyword arguments every Step takes."""
        return {
            "name": self.name,
            "line": self.line,
            "path": self.path,
            "next": self.next,
            "inline": self.inline,
            "lines": self.lines,
            **overrides,
        }


Handler = Callable[["Reader", Body], Step]


class Reader:
    """``handlers`` read each step kind (:data:`.syntax_read_steps.HANDLERS`); they read nested steps
    back through the reader."""

    def __init__(self, report: Report, handlers: Mapping[str, Handler]) -> None:
        self.report = report
        self.handlers = handlers

    def add(self, code: str, message: str, line: int | None, path: str) -> None:
        self.report.add(code, message, line, path)

    # -- the definition and its workflows --------------------------------------------------------------

    def workflows(self, root: Node) -> dict[str, Workflow]:
        if root.is_list:
            steps = self.block(Node(root.node, "main.steps"), "main")
            return {"main": Workflow("main", (), steps, root.line)}
        if not root.is_map:
            self.add(
                "TOP_LEVEL",
                f"expected a list of steps or a map of workflows (main: {{steps: [...]}}), not {root.kind()}",
                root.line,
                "",
            )
            return {}
        fields = self.mapping(root, "the definition") or {}
        found = {name: self.workflow(name, entry) for name, entry in fields.items()}
        if "main" not in fields:
            self.add(
                "MISSING_MAIN",
                "no main workflow: a definition that is a map names its main workflow main "
                f"(found {', '.join(fields) or 'nothing'})",
                root.line,
                "",
            )
        return found

    def workflow(self, name: str, entry: Entry) -> Workflow:
        node = entry.value
        fields = self.mapping(node, f"workflow {name!r}", hint=" with params and steps") or {}
        self.known(fields, WORKFLOW_KEYS, f"workflow {name!r}")
        params = self.params(fields["params"].value, name) if "params" in fields else ()
        if "steps" in fields:
            steps = self.block(fields["steps"].value, f"workflow {name!r}")
        else:
            steps = ()
            if node.is_map:
                self.add("MISSING_KEY", f"workflow {name!r} has no steps", entry.line, node.path)
        return Workflow(name, params, steps, entry.line)

    def params(self, node: Node, workflow: str) -> tuple[Param, ...]:
        items = self.sequence(node, "params", hint=" of names: params: [order, currency: EUR]")
        params: list[Param] = []
        for item in items or []:
            param = self.param(item)
            if param is None:
                continue
            if any(p.name == param.name for p in params):
                self.add("PARAMS", f"parameter {param.name!r} is declared twice", item.line, item.path)
            params.append(param)
        if workflow == "main" and len(params) > MAIN_PARAMS:
            self.add(
                "PARAMS",
                f"main takes one parameter, the execution's argument (a map), not {len(params)}",
                node.line,
                node.path,
            )
        return tuple(params)

    def param(self, item: Node) -> Param | None:
        if item.text is not None:
            param = Param(item.text)
        elif item.is_map and len(item.entries()) == 1:
            entry = item.entries()[0]
            param = Param(entry.key, self.value(entry.value), required=False)
        else:
            self.add(
                "PARAMS", f"a parameter is a name, or name: default; not {item.kind()}", item.line, item.path
            )
            return None
        if not is_identifier(param.name):
            self.add("PARAMS", f"{param.name!r} is not a valid parameter name", item.line, item.path)
        return param

    # -- steps ------------------------------------------------------------------------------------------

    def block(self, node: Node, owner: str) -> tuple[Step, ...]:
        """A list of steps; at least one, as Workflows requires."""
        items = self.sequence(node, f"the steps of {owner}", hint=" of steps: - name: {...}")
        if items is None:
            return ()
        if not items:
            self.add("EMPTY_LIST", f"{owner} has no steps: it needs at least one", node.line, node.path)
        steps = (self.step(item) for item in items)
        return tuple(step for step in steps if step is not None)

    def step(self, item: Node) -> Step | None:
        entries = item.entries() if item.is_map else []
        if len(entries) != 1:
            self.add("STEP_SHAPE", _step_shape(item, entries), item.line, item.path)
            return None
        entry = entries[0]
        name, node = entry.key, entry.value
        self.step_name(name, entry.line, node.path)
        if not node.is_map:
            what = "no body" if node.value() is None else f"{node.kind()} for a body"
            self.add(
                "STEP_SHAPE",
                f"step {name!r} has {what}: a step's body is a map (call, assign, next...)",
                entry.line,
                node.path,
            )
            return Next(name=name, line=entry.line, path=node.path)
        fields = self.mapping(node, f"step {name!r}") or {}
        return self.step_from(fields, name, entry.line, node.path, STEP_KEYS, f"step {name!r}")

    def step_name(self, name: str, line: int, path: str) -> None:
        if not name.strip():
            self.add("STEP_NAME", "a step needs a name", line, path)
        elif name in JUMPS:
            self.add(
                "RESERVED_NAME",
                f"{name!r} cannot name a step: next: {name} means {_JUMP_MEANING[name]}",
                line,
                path,
            )

    def step_from(
        self,
        fields: dict[str, Entry],
        name: str,
        line: int,
        path: str,
        allowed: Sequence[str],
        what: str,
        *,
        inline: bool = False,
    ) -> Step:
        """A step from the fields of its body; ``allowed`` are the keys it may have where it is."""
        unknown = self.known(fields, allowed, what)
        for key, owner in COMPANIONS.items():
            if key in fields and key in allowed and owner not in fields:
                self.add(
                    "ORPHAN_KEY",
                    f"{what} has {key} but no {owner}: {key} only goes with {owner}",
                    fields[key].line,
                    fields[key].value.path,
                )
        body = Body(
            fields,
            name,
            line,
            path,
            self.next(fields["next"]) if "next" in fields else None,
            inline,
            {key: entry.line for key, entry in fields.items()},
        )
        kinds = [key for key in STEP_KINDS if key in fields and key in allowed]
        if not kinds:
            if "next" not in fields and not unknown:
                choices = ", ".join(k for k in STEP_KINDS if k in allowed)
                self.add("NO_KIND", f"{what} does nothing: give it one of {choices} or next", line, path)
            return Next(**body.common())
        if len(kinds) > 1:
            second = fields[kinds[1]]
            self.add(
                "CONFLICTING_KINDS",
                f"{what} has both {kinds[0]} and {kinds[1]}: a step does one thing; split it in two",
                second.line,
                second.value.path,
            )
        return self.handlers[kinds[0]](self, body)

    def next(self, entry: Entry) -> str | None:
        target = entry.value.text
        if target is None or not target.strip() or target.startswith("${"):
            found = entry.value.kind() if target is None else "an expression" if target else "an empty name"
            self.add(
                "TYPE",
                f"next takes a step name, or end, break or continue; not {found}",
                entry.line,
                entry.value.path,
            )
            return None
        return target

    # -- shapes, names and values -----------------------------------------------------------------------

    def mapping(self, node: Node, what: str, hint: str = "") -> dict[str, Entry] | None:
        if not node.is_map:
            self.add("TYPE", f"{what} should be a map{hint}, not {node.kind()}", node.line, node.path)
            return None
        fields: dict[str, Entry] = {}
        for entry in node.entries():
            if entry.key in fields:
                self.add(
                    "DUPLICATE_KEY",
                    f"{entry.key!r} is given twice in {what} (first at line {fields[entry.key].line})",
                    entry.line,
                    entry.value.path,
                )
                continue
            fields[entry.key] = entry
        return fields

    def sequence(self, node: Node, what: str, hint: str = "") -> list[Node] | None:
        if not node.is_list:
            self.add("TYPE", f"{what} should be a list{hint}, not {node.kind()}", node.line, node.path)
            return None
        return node.elements()

    def known(self, fields: dict[str, Entry], allowed: Sequence[str], what: str) -> list[str]:
        """The keys not ``allowed``, each reported."""
        unknown = [key for key in fields if key not in allowed]
        for key in unknown:
            entry = fields[key]
            close = difflib.get_close_matches(key, allowed, n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            self.add(
                "UNKNOWN_KEY",
                f"unknown key {key!r} in {what}: {guess}(valid: {', '.join(allowed)})",
                entry.line,
                entry.value.path,
            )
        return unknown

    def name(self, node: Node, what: str) -> str | None:
        """A variable name (loop value and index, except's as...)."""
        text = node.text
        if text is None or not is_identifier(text):
            shown = repr(text) if text is not None else node.kind()
            self.add(
                "INVALID_NAME",
                f"{what} takes a variable name (letters, digits, _), not {shown}",
                node.line,
                node.path,
            )
            return None
        return text

    def value(self, node: Node) -> JSON:
        """A value the language evaluates, after checking that its expressions are closed."""
        self.expressions(node)
        return node.value()

    def expressions(self, node: Node) -> None:
        pending = [node]
        while pending:
            current = pending.pop()
            if current.is_map:
                pending.extend(reversed([entry.value for entry in current.entries()]))
            elif current.is_list:
                pending.extend(reversed(current.elements()))
            elif current.text is not None:
                self.closed(current.text, current)

    def closed(self, text: str, node: Node) -> None:
        offset = unbalanced_at(text)
        if offset is not None:
            shown = text[offset : offset + 30] + ("..." if len(text) > offset + 30 else "")
            self.add(
                "UNBALANCED_EXPRESSION",
                f"expression {shown!r} is never closed: every ${{ needs its }}",
                node.line,
                node.path,
            )

    def expression(self, node: Node, what: str, code: str) -> str | None:
        """A value that must be one whole expression, ``${...}``."""
        text = node.text
        if text is not None and unbalanced_at(text) is not None:
            self.closed(text, node)
            return None
        if text is None or not is_expression(text):
            shown = repr(text) if text is not None else node.kind()
            self.add(code, f"{what} should be an expression ${{...}}, not {shown}", node.line, node.path)
            return None
        return text


_JUMP_MEANING = {
    "end": "end the workflow",
    "break": "leave the loop",
    "continue": "go on with the loop's next iteration",
}


def _step_shape(item: Node, entries: list[Entry]) -> str:
    if not item.is_map:
        return f"a step is a map with one key, its name (- charge: {{call: ...}}), not {item.kind()}"
    if not entries:
        return "a step is a map with one key, its name; this one is empty"
    keys = ", ".join(entry.key for entry in entries)
    return (
        f"a step is a map with one key, its name; this one has {len(entries)} ({keys}): "
        "indent the body under the name"
    )
