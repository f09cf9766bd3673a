"""Variables: what a step sees, and where an assignment lands.

A routine's variables live in its frame's scopes, innermost last: the routine's own (its parameters and
what it assigns), then one per ``for`` loop and per ``except`` it is inside. Assigning a name that some
scope of the routine holds changes it there; a new name goes to the innermost scope, so a variable created
in a loop or an except block is gone when it ends (Workflows' "Variable scope").

A parallel branch (or iteration) reads the variables of the routine running the parallel step. The
``shared`` ones it reads and writes in place, each assignment whole, as Workflows does. The others are
read-only copies in Workflows (assigning one fails to deploy); here the first write to one makes the
branch a copy of its own, so nothing outside the branch changes. A subworkflow sees only its parameters.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from stepdance.gcw.expr import evaluate, parse
from stepdance.gcw.expr.errors import (
    ExprSyntaxError,
    WorkflowsError,
    index_error,
    key_error,
    resource_limit_error,
    type_error,
)
from stepdance.gcw.expr.nodes import Attribute, Expr, Index, Literal, Name
from stepdance.gcw.expr.values import is_int, type_name
from stepdance.gcw.machine_state import Frame, Thread, copy_value

if TYPE_CHECKING:
    from stepdance.gcw.machine import Run

MAX_VARIABLES_BYTES = 512 * 1024  # "Variable memory", Workflows' quotas page
Accessor = tuple[str, Any]  # ("key", name) or ("expr", the index's expression)


def view(run: Run, thread: Thread) -> dict[str, Any]:
    """Every variable the thread's current step can read, by name (values are not copied)."""
    frame = thread.frames[-1]
    seen: dict[str, Any] = {}
    if _branch_root(thread):
        seen.update(view(run, run.st.threads[str(thread.parent)]))
    for scope in frame.scopes:
        seen.update(scope)
    return seen


def assign(run: Run, thread: Thread, target: str, value: Any, seen: dict[str, Any]) -> None:
    """Set ``target`` (a name, or a path into one: ``order.items[0].qty``, ``totals[key]``) to ``value``,
    which the caller has copied. Index expressions in the path are evaluated against ``seen``."""
    root, path = target_parts(target)
    if not path:
        _set(run, thread, root, value)
        return
    keys = [key if kind == "key" else evaluate(key, seen, run.context()) for kind, key in path]
    holder = _home(run, thread, root)
    if holder is None:
        raise key_error(f"cannot assign to {target}: variable '{root}' is not defined")
    container = holder[root]
    for key in keys[:-1]:
        container = _into(container, key, target)
    _put(container, keys[-1], value, target)


def check_memory(frame: Frame) -> None:
    """ResourceLimitError once the routine's variables, as JSON, pass Workflows' 512 KB."""
    try:
        size = len(orjson.dumps(frame.scopes))
    except TypeError:  # bytes and functions: measure them by their text
        size = len(repr(frame.scopes))
    if size > MAX_VARIABLES_BYTES:
        raise resource_limit_error(
            f"memory limit exceeded: the variables of {frame.routine} take {size} bytes "
            f"(the limit is {MAX_VARIABLES_BYTES})"
        )


@lru_cache(maxsize=1024)
def target_parts(target: str) -> tuple[str, tuple[Accessor, ...]]:
    """``a.b[i]`` as ("a", (("key", "b"), ("expr", <i>))); TypeError when it is no assignable path."""
    try:
        node: Expr = parse(target)
    except ExprSyntaxError as exc:
        raise WorkflowsError.tagged("TypeError", f"cannot assign to {target!r}: {exc.message}") from None
    parts: list[Accessor] = []
    while isinstance(node, Attribute | Index):
        if isinstance(node, Attribute):
            parts.append(("key", node.name))
        elif isinstance(node.index, Literal):
            parts.append(("key", node.index.value))
        else:
            parts.append(("expr", node.index))
        node = node.target
    if not isinstance(node, Name):
        raise type_error(f"cannot assign to {target!r}: expected a variable or a path into one")
    return node.name, tuple(reversed(parts))


def _branch_root(thread: Thread) -> bool:
    return thread.parent is not None and len(thread.frames) == 1


def _set(run: Run, thread: Thread, name: str, value: Any) -> None:
    if _branch_root(thread) and name in thread.shared:
        _set(run, run.st.threads[str(thread.parent)], name, value)
        return
    frame = thread.frames[-1]
    for scope in reversed(frame.scopes):
        if name in scope:
            scope[name] = value
            return
    if _branch_root(thread) and name in view(run, run.st.threads[str(thread.parent)]):
        frame.scopes[0][name] = value  # the branch's own copy, for the rest of the branch
        return
    frame.scopes[-1][name] = value


def _home(run: Run, thread: Thread, name: str) -> dict[str, Any] | None:
    """The scope holding ``name``, to change its value in place (a branch's copy made first if needed)."""
    if _branch_root(thread) and name in thread.shared:
        return _home(run, run.st.threads[str(thread.parent)], name)
    frame = thread.frames[-1]
    for scope in reversed(frame.scopes):
        if name in scope:
            return scope
    if _branch_root(thread):
        outer = view(run, run.st.threads[str(thread.parent)])
        if name in outer:
            frame.scopes[0][name] = copy_value(outer[name])
            return frame.scopes[0]
    return None


def _into(container: Any, key: Any, target: str) -> Any:
    if isinstance(container, dict):
        if not isinstance(key, str):
            raise type_error(f"cannot assign to {target}: map keys are strings, not {type_name(key)}")
        # A missing key on the way is created, so nested maps can be built one assignment at a time.
        return container.setdefault(key, {})
    if isinstance(container, list):
        return container[_index(container, key, target)]
    raise type_error(f"cannot assign to {target}: {type_name(container)} has no keys or indices")


def _put(container: Any, key: Any, value: Any, target: str) -> None:
    if isinstance(container, dict):
        if not isinstance(key, str):
            raise type_error(f"cannot assign to {target}: map keys are strings, not {type_name(key)}")
        container[key] = value
    elif isinstance(container, list):
        container[_index(container, key, target)] = value
    else:
        raise type_error(f"cannot assign to {target}: {type_name(container)} has no keys or indices")


def _index(items: list[Any], key: Any, target: str) -> int:
    if not is_int(key):
        raise type_error(f"cannot assign to {target}: list indices must be integers, not {type_name(key)}")
    if not 0 <= key < len(items):
        raise index_error(f"cannot assign to {target}: list index {key} out of range (length {len(items)})")
    return int(key)
