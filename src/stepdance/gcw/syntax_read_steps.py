"""One small handler per step kind: each reads its field(s) of a step's body into its Step, reporting
what is wrong with them. Loops, parallel steps and try/retry/except live in :mod:`.syntax_read_blocks`."""

from __future__ import annotations

from stepdance.gcw.syntax_names import is_expression, is_target, unbalanced_at
from stepdance.gcw.syntax_read import STEP_KINDS, Body, Handler, Reader
from stepdance.gcw.syntax_read_blocks import read_for, read_parallel, read_try
from stepdance.gcw.syntax_steps import (
    Assign,
    Assignment,
    Call,
    Raise,
    Return,
    Step,
    Steps,
    Switch,
    SwitchBranch,
)
from stepdance.gcw.syntax_yaml import Node

MAX_ASSIGNMENTS = 50  # Workflows' limit per assign step
MAX_CONDITIONS = 50  # and per switch
BRANCH_KINDS = ("steps", "assign", "call", "raise", "return")
BRANCH_KEYS = ("condition", *BRANCH_KINDS, "args", "result", "next")


def read_assign(reader: Reader, body: Body) -> Step:
    entry = body.fields["assign"]
    items = reader.sequence(entry.value, "assign", hint=" of single-key maps: - total: 0")
    assignments: list[Assignment] = []
    if items is not None and not items:
        reader.add("EMPTY_LIST", "assign has no assignments", entry.line, entry.value.path)
    if items is not None and len(items) > MAX_ASSIGNMENTS:
        reader.add(
            "LIMIT",
            f"assign has {len(items)} assignments; Workflows allows {MAX_ASSIGNMENTS} per step",
            entry.line,
            entry.value.path,
        )
    for item in items or []:
        pairs = item.entries() if item.is_map else []
        if len(pairs) != 1:
            reader.add(
                "ASSIGN_SHAPE",
                f"an assignment is a map with one key, the variable (- total: 0); not {item.kind()}"
                + (f" with {len(pairs)} keys" if item.is_map else ""),
                item.line,
                item.path,
            )
            continue
        pair = pairs[0]
        if not is_target(pair.key):
            reader.add(
                "ASSIGN_TARGET",
                f"cannot assign to {pair.key!r}: expected a variable, or a path into one (a.b[0])",
                pair.line,
                pair.value.path,
            )
        assignments.append(Assignment(pair.key, reader.value(pair.value), pair.line))
    return Assign(**body.common(), assignments=tuple(assignments))


def read_call(reader: Reader, body: Body) -> Step:
    fields = body.fields
    function = fields["call"].value.text
    if function is None:
        node = fields["call"].value
        reader.add("TYPE", f"call takes a function's name, not {node.kind()}", node.line, node.path)
    args: dict[str, object] | None = None
    lines = dict(body.lines)
    if "args" in fields:
        found = reader.mapping(fields["args"].value, "args", hint=" of argument names to values")
        if found is not None:
            args = {name: reader.value(arg.value) for name, arg in found.items()}
            lines.update({f"args.{name}": arg.line for name, arg in found.items()})
    result = None
    if "result" in fields:
        node = fields["result"].value
        result = node.text
        if result is None or not is_target(result):
            shown = repr(result) if result is not None else node.kind()
            reader.add("INVALID_NAME", f"result takes a variable name, not {shown}", node.line, node.path)
            result = None
    return Call(**body.common(lines=lines), function=function or "", args=args, result=result)


def read_switch(reader: Reader, body: Body) -> Step:
    entry = body.fields["switch"]
    items = reader.sequence(entry.value, "switch", hint=" of conditions: - condition: ${...}")
    if items is not None and not items:
        reader.add("EMPTY_LIST", "switch has no conditions", entry.line, entry.value.path)
    if items is not None and len(items) > MAX_CONDITIONS:
        reader.add(
            "LIMIT",
            f"switch has {len(items)} conditions; Workflows allows {MAX_CONDITIONS}",
            entry.line,
            entry.value.path,
        )
    branches = (_branch(reader, body, item) for item in items or [])
    return Switch(**body.common(), branches=tuple(b for b in branches if b is not None))


def _branch(reader: Reader, body: Body, item: Node) -> SwitchBranch | None:
    fields = reader.mapping(item, "a switch condition", hint=" (- condition: ${...} with next or steps)")
    if fields is None:
        return None
    condition = None
    if "condition" not in fields:
        reader.add("MISSING_KEY", "a switch entry needs a condition", item.line, item.path)
    else:
        node = fields["condition"].value
        condition = reader.value(node)
        closed = not isinstance(condition, str) or unbalanced_at(condition) is None
        if closed and not isinstance(condition, bool) and not is_expression(condition):
            shown = f"the string {condition!r}" if isinstance(condition, str) else node.kind()
            reader.add(
                "CONDITION",
                f"a condition is an expression ${{...}} or true, not {shown}",
                node.line,
                node.path,
            )
    rest = {key: entry for key, entry in fields.items() if key != "condition"}
    allowed = [key for key in BRANCH_KEYS if key != "condition"]
    step = reader.step_from(rest, body.name, item.line, item.path, allowed, "a switch condition", inline=True)
    return SwitchBranch(condition, item.line, item.path, step)


def read_raise(reader: Reader, body: Body) -> Step:
    node = body.fields["raise"].value
    value = reader.value(node)
    if not isinstance(value, str | dict):
        reader.add(
            "TYPE",
            f"raise takes a string, a map (code, message, tags...) or an expression; not {node.kind()}",
            node.line,
            node.path,
        )
    return Raise(**body.common(), value=value)


def read_return(reader: Reader, body: Body) -> Step:
    return Return(**body.common(), value=reader.value(body.fields["return"].value))


def read_steps(reader: Reader, body: Body) -> Step:
    steps = reader.block(body.fields["steps"].value, f"step {body.name!r}")
    return Steps(**body.common(), steps=steps)


HANDLERS: dict[str, Handler] = {
    "assign": read_assign,
    "call": read_call,
    "switch": read_switch,
    "for": read_for,
    "parallel": read_parallel,
    "try": read_try,
    "raise": read_raise,
    "return": read_return,
    "steps": read_steps,
}
assert set(HANDLERS) == set(STEP_KINDS)
