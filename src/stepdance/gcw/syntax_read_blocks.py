"""The handlers of the step kinds that hold other steps in a structure of their own: ``for`` loops,
``parallel`` steps (branches or a parallel ``for``) and ``try`` with its ``retry`` and ``except``."""

from __future__ import annotations

from typing import Any

from stepdance.gcw.syntax_names import is_expression, unbalanced_at
from stepdance.gcw.syntax_read import STEP_KEYS, Body, Reader
from stepdance.gcw.syntax_steps import (
    Backoff,
    Branch,
    Except,
    For,
    Next,
    Parallel,
    Retry,
    Step,
    Try,
)
from stepdance.gcw.syntax_yaml import Entry, Node, join

FOR_KEYS = ("value", "index", "in", "range", "steps")
PARALLEL_KEYS = ("exception_policy", "shared", "concurrency_limit", "branches", "for")
EXCEPTION_POLICIES = ("continueAll",)  # "the only policy currently supported"
MAX_BRANCHES = 10  # Workflows' limit per parallel step
RETRY_KEYS = ("predicate", "max_retries", "backoff")
BACKOFF_KEYS = ("initial_delay", "max_delay", "multiplier")
EXCEPT_KEYS = ("as", "steps")
TRY_BODY_KEYS = tuple(key for key in STEP_KEYS if key not in ("retry", "except"))


def read_for(reader: Reader, body: Body) -> Step:
    return read_loop(reader, body.fields["for"], body.common())


def read_loop(reader: Reader, entry: Entry, common: dict[str, Any]) -> For:
    """A ``for`` (a step of its own, or the loop of a parallel step: ``common`` says which)."""
    node = entry.value
    fields = reader.mapping(node, "for", hint=" with value, in or range, and steps") or {}
    reader.known(fields, FOR_KEYS, "for")
    value = reader.name(fields["value"].value, "value") if "value" in fields else None
    if "value" not in fields and node.is_map:
        reader.add("MISSING_KEY", "for needs value: the variable that takes each item", entry.line, node.path)
    index = reader.name(fields["index"].value, "index") if "index" in fields else None
    sources = [key for key in ("in", "range") if key in fields]
    if len(sources) != 1 and node.is_map:
        reader.add(
            "FOR_SOURCE",
            "for takes either in (a list) or range ([first, last]), not both"
            if sources
            else "for needs in (a list to go through) or range ([first, last])",
            entry.line,
            node.path,
        )
    items = _items(reader, fields["in"].value) if "in" in fields else None
    bounds = _range(reader, fields["range"].value) if "range" in fields else None
    if "steps" in fields:
        steps = reader.block(fields["steps"].value, "the for loop")
    else:
        steps = ()
        if node.is_map:
            reader.add("MISSING_KEY", "for needs steps: what to do for each item", entry.line, node.path)
    return For(**common, value=value or "", index=index, items=items, range=bounds, steps=steps)


def _items(reader: Reader, node: Node) -> object:
    items = reader.value(node)
    if not isinstance(items, list) and not is_expression(items) and _closed(items):
        reader.add(
            "TYPE", f"in takes a list or an expression giving one, not {node.kind()}", node.line, node.path
        )
    return items


def _range(reader: Reader, node: Node) -> tuple[object, object] | str | None:
    bounds = reader.value(node)
    if is_expression(bounds):
        return str(bounds)
    if isinstance(bounds, list) and len(bounds) == 2:
        if all(_numeric(bound) for bound in bounds):
            return bounds[0], bounds[1]
        shown = "its bounds should be numbers or expressions"
    elif isinstance(bounds, list):
        shown = f"it has {len(bounds)} element{'' if len(bounds) == 1 else 's'}"
    else:
        shown = f"it is {node.kind()}"
    if _closed(bounds):
        reader.add(
            "FOR_RANGE", f"range is a list of two numbers, [first, last]; {shown}", node.line, node.path
        )
    return None


def _numeric(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) or is_expression(value)


def _closed(value: object) -> bool:
    """False for a string with an unclosed ``${`` (already reported: one problem is enough)."""
    return not isinstance(value, str) or unbalanced_at(value) is None


def read_parallel(reader: Reader, body: Body) -> Step:
    entry = body.fields["parallel"]
    node = entry.value
    fields = reader.mapping(node, "parallel", hint=" with branches or for") or {}
    reader.known(fields, PARALLEL_KEYS, "parallel")
    sources = [key for key in ("branches", "for") if key in fields]
    if len(sources) != 1 and node.is_map:
        reader.add(
            "PARALLEL_SOURCE",
            "parallel takes either branches or for, not both"
            if sources
            else "parallel needs branches (steps run side by side) or for (iterations run side by side)",
            entry.line,
            node.path,
        )
    branches = _branches(reader, fields["branches"].value) if "branches" in fields else ()
    loop = None
    if "for" in fields:
        loop = read_loop(
            reader, fields["for"], body.common(path=join(node.path, "for"), next=None, inline=True)
        )
    return Parallel(
        **body.common(),
        branches=branches,
        loop=loop,
        shared=_shared(reader, fields["shared"].value) if "shared" in fields else (),
        concurrency_limit=_limit(reader, fields["concurrency_limit"].value)
        if "concurrency_limit" in fields
        else None,
        exception_policy=_policy(reader, fields["exception_policy"].value)
        if "exception_policy" in fields
        else EXCEPTION_POLICIES[0],
    )


def _branches(reader: Reader, node: Node) -> tuple[Branch, ...]:
    items = reader.sequence(node, "branches", hint=" of named branches: - name: {steps: [...]}")
    if items is not None and not items:
        reader.add("EMPTY_LIST", "parallel has no branches", node.line, node.path)
    if items is not None and len(items) > MAX_BRANCHES:
        reader.add(
            "LIMIT",
            f"parallel has {len(items)} branches; Workflows allows {MAX_BRANCHES}",
            node.line,
            node.path,
        )
    branches = []
    for item in items or []:
        entries = item.entries() if item.is_map else []
        if len(entries) != 1:
            reader.add(
                "STEP_SHAPE",
                "a branch is a map with one key, its name, over its steps (- payment: {steps: [...]})",
                item.line,
                item.path,
            )
            continue
        name, value = entries[0].key, entries[0].value
        reader.step_name(name, entries[0].line, value.path)
        fields = reader.mapping(value, f"branch {name!r}", hint=" with steps") or {}
        reader.known(fields, ("steps",), f"branch {name!r}")
        if "steps" in fields:
            steps = reader.block(fields["steps"].value, f"branch {name!r}")
        else:
            steps = ()
            if value.is_map:
                reader.add("MISSING_KEY", f"branch {name!r} has no steps", entries[0].line, value.path)
        branches.append(Branch(name, entries[0].line, value.path, steps))
    return tuple(branches)


def _shared(reader: Reader, node: Node) -> tuple[str, ...]:
    items = reader.sequence(node, "shared", hint=" of variable names: shared: [total, errors]")
    names = []
    for item in items or []:
        if item.text is None:
            reader.add(
                "SHARED",
                f"shared lists variable names (strings), not {item.kind()}",
                item.line,
                item.path,
            )
        else:
            names.append(item.text)
    return tuple(names)


def _limit(reader: Reader, node: Node) -> int | str | None:
    limit = reader.value(node)
    if is_expression(limit):
        return str(limit)
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return limit
    if _closed(limit):
        shown = str(limit) if isinstance(limit, int | float) else node.kind()
        reader.add(
            "CONCURRENCY_LIMIT",
            f"concurrency_limit is a positive whole number or an expression, not {shown}",
            node.line,
            node.path,
        )
    return None


def _policy(reader: Reader, node: Node) -> str:
    policy = node.text
    if policy not in EXCEPTION_POLICIES:
        shown = repr(policy) if policy is not None else node.kind()
        reader.add(
            "EXCEPTION_POLICY",
            f"exception_policy {shown} is not one Workflows supports ({', '.join(EXCEPTION_POLICIES)})",
            node.line,
            node.path,
        )
    return EXCEPTION_POLICIES[0]


def read_try(reader: Reader, body: Body) -> Step:
    entry = body.fields["try"]
    fields = reader.mapping(entry.value, "try", hint=" holding a step's body (call... or steps)")
    if fields is None:
        inner: Step = Next(name=body.name, line=entry.line, path=entry.value.path, inline=True)
    else:
        inner = reader.step_from(
            fields, body.name, entry.line, entry.value.path, TRY_BODY_KEYS, "try", inline=True
        )
    if fields is not None and "for" in fields:
        reader.add(
            "FOR_IN_TRY",
            "a for directly under try fails to deploy (a known Workflows issue): "
            "put it in steps under try, as a named step",
            fields["for"].line,
            fields["for"].value.path,
        )
    retry = _retry(reader, body.fields["retry"].value) if "retry" in body.fields else None
    handler = _except(reader, body.fields["except"]) if "except" in body.fields else None
    return Try(**body.common(), body=inner, retry=retry, except_=handler)


def _retry(reader: Reader, node: Node) -> Retry | str | None:
    if not node.is_map:
        return reader.expression(node, "retry (a policy such as ${http.default_retry}, or a map)", "RETRY")
    fields = reader.mapping(node, "retry") or {}
    reader.known(fields, RETRY_KEYS, "retry")
    missing = [key for key in RETRY_KEYS if key not in fields]
    if missing:
        reader.add(
            "MISSING_KEY",
            f"retry has no {', '.join(missing)}: a policy of one's own needs predicate, max_retries and "
            "backoff (or name one: retry: ${http.default_retry})",
            node.line,
            node.path,
        )
    predicate = (
        reader.expression(fields["predicate"].value, "predicate", "RETRY") if "predicate" in fields else None
    )
    retries = _whole(reader, fields["max_retries"].value, "max_retries") if "max_retries" in fields else None
    backoff = _backoff(reader, fields["backoff"].value) if "backoff" in fields else None
    if predicate is None or retries is None or backoff is None:
        return None
    return Retry(predicate, retries, backoff, node.line)


def _backoff(reader: Reader, node: Node) -> Backoff | None:
    fields = reader.mapping(node, "backoff", hint=" with initial_delay, max_delay and multiplier")
    if fields is None:
        return None
    reader.known(fields, BACKOFF_KEYS, "backoff")
    missing = [key for key in BACKOFF_KEYS if key not in fields]
    if missing:
        reader.add("MISSING_KEY", f"backoff has no {', '.join(missing)}", node.line, node.path)
        return None
    values = [_number(reader, fields[key].value, key) for key in BACKOFF_KEYS]
    if any(value is None for value in values):
        return None
    initial, most, multiplier = values
    assert initial is not None and most is not None and multiplier is not None
    return Backoff(initial, most, multiplier)


def _number(reader: Reader, node: Node, what: str, *, whole: bool = False) -> float | str | None:
    value = reader.value(node)
    if is_expression(value):
        return str(value)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and value >= 0 and (not whole or isinstance(value, int)):
        return int(value) if isinstance(value, int) else float(value)
    if _closed(value):
        kind = "whole number" if whole else "number"
        shown = str(value) if number else node.kind()
        reader.add("RETRY", f"{what} is a {kind} of zero or more, not {shown}", node.line, node.path)
    return None


def _whole(reader: Reader, node: Node, what: str) -> int | str | None:
    value = _number(reader, node, what, whole=True)
    return int(value) if isinstance(value, float) else value


def _except(reader: Reader, entry: Entry) -> Except | None:
    fields = reader.mapping(entry.value, "except", hint=" with as and steps")
    if fields is None:
        return None
    reader.known(fields, EXCEPT_KEYS, "except")
    variable = reader.name(fields["as"].value, "as") if "as" in fields else None
    steps = reader.block(fields["steps"].value, "except") if "steps" in fields else ()
    return Except(variable, steps, entry.line)
