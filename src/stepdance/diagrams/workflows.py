"""A Cloud Workflows definition drawn from its parsed steps, as :mod:`.statemachine` draws ASL.

Each routine (``main``, each subworkflow) is a group with a start and an end; nested lists of steps (a
``for`` body, a parallel branch, a ``try`` body given as ``steps``, an ``except``, a condition's ``steps``)
are groups of their own, named after their owner. A node per step, its id the step's ``path`` (the path
step-entry events carry); an edge per way on: the next step, a ``next`` jump, each switch condition (its
text, shortened), ``except`` dashed (like an ASL Catch), a subworkflow call dashed to that routine's start,
``return`` and ``raise`` to the routine's end. A ``try`` whose body is one step is drawn as one node: its
call and its retry policy are its note. Given an execution's history, :func:`with_entries` marks the steps
it entered (taken, retried, failed) and the edges it followed, from its ``StepEntry...`` events. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from stepdance.diagrams.graph import Edge, Graph, Node
from stepdance.diagrams.statemachine import state_machine, with_path
from stepdance.engine.languages import WORKFLOWS, language_of
from stepdance.gcw.syntax import (
    Assign,
    Call,
    For,
    Next,
    Parallel,
    Raise,
    Retry,
    Return,
    Step,
    Steps,
    Switch,
    Try,
    Workflow,
    Workflows,
    parse,
)

__all__ = ["diagram_of", "end_of", "start_of", "with_entries", "workflow"]

SHORT = 40  # characters of a condition or an expression shown on an edge or in a note


def start_of(routine: str) -> str:
    return f"{routine}.(start)"  # no step path ends so: paths end with a step name or an index


def end_of(routine: str) -> str:
    return f"{routine}.(end)"


def diagram_of(definition: str, title: str = "", history: Iterable[Mapping[str, Any]] | None = None) -> Graph:
    """The graph of a stored definition, ASL or Workflows (whichever the text is), with the path of
    ``history`` marked when given. A definition that is not valid raises ValueError."""
    # the engine's own test of the language, so the dashboard draws what the engine runs
    if language_of(definition) == WORKFLOWS:
        graph = workflow(definition, title or "workflow")
        return graph if history is None else with_entries(graph, history)
    graph = state_machine(definition, title or "state machine")
    return graph if history is None else with_path(graph, history)


def workflow(definition: str | Workflows, title: str = "workflow") -> Graph:
    """The graph of ``definition`` (its text, or parsed)."""
    parsed = parse(definition) if isinstance(definition, str) else definition
    return _Builder(parsed, title).graph


@dataclass(frozen=True)
class _Block:
    """Where a list of steps is drawn and where it leads: ``after`` when it runs off its end, ``loop``
    and ``leave`` for ``continue`` and ``break`` in the innermost ``for``."""

    routine: str
    group: str
    after: str
    loop: str | None = None
    leave: str | None = None


class _Builder:
    def __init__(self, workflows: Workflows, title: str) -> None:
        self.workflows = workflows
        self.graph = Graph(title)
        self.names: dict[str, str] = {}  # step name -> node id, in the routine being drawn
        self.handlers: dict[type, Callable[[Step, _Block, str, str], None]] = {
            Assign: self._assign,
            Call: self._call,
            Next: self._next,
            Return: self._leave,
            Raise: self._leave,
            Switch: self._switch,
            For: self._for,
            Parallel: self._parallel,
            Try: self._try,
            Steps: self._steps_step,
        }
        for routine in workflows.values():
            self._routine(routine)
        targets = {e.target for e in self.graph.edges}
        for name in workflows:
            if end_of(name) in targets:
                self.graph.nodes.append(Node(end_of(name), "end", "circle", name))

    def _routine(self, routine: Workflow) -> None:
        name = routine.name
        self.names = {s.name: s.path for s in _named(routine.steps)}
        if name == "main":
            self.graph.nodes.append(Node(start_of(name), "start", "circle", name))
        else:
            params = ", ".join(p.name if p.required else f"{p.name}={p.default}" for p in routine.params)
            self.graph.nodes.append(Node(start_of(name), name, "stadium", name, note=_short(params)))
        block = _Block(name, name, end_of(name))
        self._edge(start_of(name), _first(routine.steps, block.after))
        self._steps(routine.steps, block)

    def _steps(self, steps: tuple[Step, ...], block: _Block) -> None:
        for i, step in enumerate(steps):
            follow = steps[i + 1].path if i + 1 < len(steps) else block.after
            self._step(step, block, follow)

    def _step(self, step: Step, block: _Block, follow: str, label: str = "") -> None:
        """Draw ``step`` and its ways on; ``follow`` is where it goes without a ``next`` of its own."""
        handler = self.handlers.get(type(step), self._assign)
        handler(step, block, self._then(step, block, follow), label or step.name)

    def _then(self, step: Step, block: _Block, otherwise: str) -> str:
        """Where ``step`` goes on to: its ``next``, else ``otherwise`` (its owner's way on)."""
        return (self._jump(step.next, block) if step.next else None) or otherwise

    def _jump(self, target: str, block: _Block) -> str | None:
        found = {"end": end_of(block.routine), "continue": block.loop, "break": block.leave}
        return found[target] if target in found else self.names.get(target)

    def _node(self, step: Step, block: _Block, label: str, shape: str = "box", note: str = "") -> str:
        self.graph.nodes.append(Node(step.path, label, shape, block.group, note=note))
        return step.path

    def _edge(self, source: str, target: str | None, label: str = "", dashed: bool = False) -> None:
        if target is not None:
            self.graph.edges.append(Edge(source, target, label, dashed))

    def _assign(self, step: Step, block: _Block, after: str, label: str) -> None:
        targets = ", ".join(a.target for a in step.assignments) if isinstance(step, Assign) else ""
        word = "assign " if label == step.name else ""  # an inline assign is labelled "assign" already
        node = self._node(step, block, label, note=_short(word + targets) if targets else "")
        self._edge(node, after)

    def _next(self, step: Step, block: _Block, after: str, label: str) -> None:
        self._edge(self._node(step, block, label, note=f"next: {step.next}"), after)

    def _call(self, step: Step, block: _Block, after: str, label: str) -> None:
        assert isinstance(step, Call)
        node = self._node(step, block, label, "round", self._called(step, step.path))
        self._edge(node, after)

    def _called(self, call: Call, node: str) -> str:
        """The note of a call (the function it calls), its dashed edge to a subworkflow's start."""
        if call.function in self.workflows:
            self._edge(node, start_of(call.function), "call", dashed=True)
            return f"call {call.function}"
        return call.function

    def _leave(self, step: Step, block: _Block, after: str, label: str) -> None:
        kind = "raise" if isinstance(step, Raise) else "return"
        node = self._node(step, block, label, "stadium", note=kind if label == step.name else "")
        self._edge(node, end_of(block.routine), kind)

    def _switch(self, step: Step, block: _Block, after: str, label: str) -> None:
        assert isinstance(step, Switch)
        node = self._node(step, block, label, "diamond")
        for i, branch in enumerate(step.branches):
            condition = _short(_expression(branch.condition))
            inline = branch.step
            if isinstance(inline, Next):
                self._edge(node, self._jump(inline.next or "", block), condition)
            elif isinstance(inline, Steps):
                group = f"{block.group} / {step.name} [{i}]"
                inner = replace(block, group=group, after=self._then(inline, block, after))
                self._edge(node, _first(inline.steps, inner.after), condition)
                self._steps(inline.steps, inner)
            else:
                self._step(inline, block, after, _kind(inline))
                self._edge(node, inline.path, condition)
        if not any(b.condition is True for b in step.branches):
            self._edge(node, after, "otherwise")

    def _for(self, step: Step, block: _Block, after: str, label: str) -> None:
        assert isinstance(step, For)
        node = self._node(step, block, label, note=_loop(step))
        self._body(step, node, block, after)

    def _body(self, loop: For, node: str, block: _Block, after: str) -> None:
        """A loop's body: entered for each item, back to the loop after each, on to ``after`` when done."""
        inner = _Block(block.routine, f"{block.group} / {loop.name} (for)", node, node, after)
        self._edge(node, _first(loop.steps, node), "each")
        self._steps(loop.steps, inner)
        self._edge(node, after, "done")

    def _parallel(self, step: Step, block: _Block, after: str, label: str) -> None:
        assert isinstance(step, Parallel)
        if step.loop is not None:
            note = _short("parallel " + _loop(step.loop))
            self._body(step.loop, self._node(step, block, label, note=note), block, after)
            return
        shared = f"; shared {', '.join(step.shared)}" if step.shared else ""
        node = self._node(
            step, block, label, note=_short(f"parallel: {len(step.branches)} branches{shared}", 60)
        )
        for branch in step.branches:
            group = f"{block.group} / {step.name}: {branch.name}"
            self.graph.nodes.append(Node(branch.path, branch.name, "box", group, note="branch"))
            self._edge(node, branch.path)
            self._edge(branch.path, _first(branch.steps, node))
            self._steps(branch.steps, _Block(block.routine, group, node))  # a branch is closed: no loop
        self._edge(node, after)

    def _try(self, step: Step, block: _Block, after: str, label: str) -> None:
        assert isinstance(step, Try)
        body, node, notes = step.body, step.path, []
        simple = isinstance(body, Call | Assign | Return | Raise | Next)
        if simple:  # one simple step: drawn as the try's own node, its call in the note
            notes.append(self._called(body, node) if isinstance(body, Call) else _kind(body))
        if step.retry is not None:
            notes.append(self._retry(step.retry, node))
        self.graph.nodes.append(
            Node(node, label, "round", block.group, note="; ".join(n for n in notes if n))
        )
        if isinstance(body, Steps):
            then = self._then(body, block, after)
            self._edge(node, _first(body.steps, then), "try")
            self._steps(body.steps, replace(block, group=f"{block.group} / {step.name} (try)", after=then))
        elif not simple:  # a switch, a loop, a parallel step: drawn in full, its own node
            self._step(body, block, after, _kind(body))
            self._edge(node, body.path, "try")
        elif isinstance(body, Return | Raise):
            self._edge(node, end_of(block.routine), _kind(body))
        else:
            self._edge(node, self._then(body, block, after))
        if step.except_ is not None:
            handler = step.except_
            inner = replace(block, group=f"{block.group} / {step.name} (except)", after=after)
            caught = "except" + (f" as {handler.variable}" if handler.variable else "")
            self._edge(node, _first(handler.steps, after), caught, dashed=True)
            self._steps(handler.steps, inner)

    def _retry(self, retry: Retry | str, node: str) -> str:
        if isinstance(retry, str):
            return _short("retry " + _expression(retry))
        predicate = _expression(retry.predicate)
        if predicate in self.workflows:
            self._edge(node, start_of(predicate), "retry if", dashed=True)
        backoff = retry.backoff
        return _short(
            f"retry {predicate} x{retry.max_retries}, "
            f"{backoff.initial_delay}-{backoff.max_delay} s x{backoff.multiplier}",
            60,
        )

    def _steps_step(self, step: Step, block: _Block, after: str, label: str) -> None:
        assert isinstance(step, Steps)
        node = self._node(step, block, label, note="steps")
        self._edge(node, _first(step.steps, after))
        self._steps(step.steps, replace(block, group=f"{block.group} / {step.name}", after=after))


def _named(steps: tuple[Step, ...]) -> Iterable[Step]:
    """The steps a ``next`` can name: every named step, nested ones too (the syntax checks the reach)."""
    for step in steps:
        if not step.inline:
            yield step
        for inline in step.inline_steps():
            yield from _named((inline,))
        for block in step.blocks():
            yield from _named(block.steps)


def _first(steps: tuple[Step, ...], otherwise: str) -> str:
    return steps[0].path if steps else otherwise


def _kind(step: Step) -> str:
    """An inline step's label: what it does (it has its owner's name)."""
    if isinstance(step, Call):
        return step.function
    return {Assign: "assign", Return: "return", Raise: "raise", Steps: "steps", Next: "next"}.get(
        type(step), type(step).__name__.lower()
    )


def _loop(step: For) -> str:
    items = step.range if step.range is not None else step.items
    word = "range" if step.range is not None else "in"
    return _short(f"for {step.value} {word} {_expression(items)}")


def _expression(value: Any) -> str:
    """A value as written, an expression without its ``${...}``."""
    if not isinstance(value, str):
        return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False, default=str)
    if value.startswith("${") and value.endswith("}"):
        return value[2:-1].strip()
    return value


def _short(text: str, limit: int = SHORT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ENDED = ("StepEntrySucceeded", "StepEntryFailed", "StepEntryCancelled")
_FAILURES = ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")
_FORKS = (
    "PARALLEL_BRANCH",
    "PARALLEL_FOR",
)  # entries whose branches or iterations run on threads of their own


def with_entries(graph: Graph, history: Iterable[Mapping[str, Any]]) -> Graph:
    """``graph`` with the path of an execution's ``history``: each step entered marked taken (retried when
    it failed and was tried again, failed when it failed for good or its ``except`` ran), and the edges
    followed, thread by thread, drawn bold. An entry belongs to the node whose id is the longest prefix of
    its ``path`` (a ``try`` drawn as one node takes its body's entries)."""
    walk = _Walk({n.id for n in graph.nodes}, {(e.source, e.target) for e in graph.edges})
    for event in history:
        walk.see(event)
    marks = {node: seen.mark() for node, seen in walk.seen.items()}
    nodes = [replace(n, mark=marks.get(n.id, "")) for n in graph.nodes]
    edges = [replace(e, mark="taken" if (e.source, e.target) in walk.followed else "") for e in graph.edges]
    return Graph(graph.title, nodes, edges, graph.direction)


@dataclass
class _Seen:
    """What the entries of one node tell: tries failed, retries, an ``except`` run, how the last ended."""

    failures: int = 0
    retried: bool = False
    caught: bool = False
    failed_last: bool = False

    def mark(self) -> str:
        if self.caught or self.failed_last:
            return "failed"
        return "retried" if self.retried or self.failures else "taken"


@dataclass
class _Thread:
    prev: str | None = None  # the node last entered
    closed: list[str] = field(default_factory=list)  # nodes whose entries ended since: the way back out
    calls: list[tuple[str, str | None]] = field(default_factory=list)  # (routine, the node that called it)
    fork: int | None = None  # the parallel entry that started this thread


class _Walk:
    def __init__(self, ids: set[str], links: set[tuple[str, str]]) -> None:
        self.ids, self.links = ids, links
        self.seen: dict[str, _Seen] = {}
        self.followed: set[tuple[str, str]] = set()
        self.threads: dict[str, _Thread] = {}
        self.open: dict[Any, tuple[str, str]] = {}  # entry id -> (node, step type)

    def see(self, event: Mapping[str, Any]) -> None:
        kind = str(event.get("type", ""))
        details = event.get("stepEntryDetails")
        if kind == "StepEntryStarted" and isinstance(details, Mapping):
            self._started(details)
        elif kind in _ENDED and isinstance(details, Mapping):
            self._ended(details, kind != "StepEntrySucceeded")
        elif kind == "ExecutionSucceeded" and self.threads:
            main = next(iter(self.threads.values()))  # the thread the execution began on
            if len(main.calls) == 1:
                self._reach(main, end_of(main.calls[0][0]))
        elif kind in _FAILURES:
            for node, _ in self.open.values():
                self.seen.setdefault(node, _Seen()).failed_last = True

    def _node(self, path: Any) -> str | None:
        cut = str(path)
        while cut and cut not in self.ids:
            at = max(cut.rfind("."), cut.rfind("["))
            cut = cut[:at] if at > 0 else ""
        return cut or None

    def _thread(self, name: str) -> _Thread:
        if name not in self.threads:
            forks = [key for key, (_, kind) in self.open.items() if kind in _FORKS]
            fork = forks[-1] if forks else None  # the innermost parallel step still running
            self.threads[name] = _Thread(self.open[fork][0] if fork is not None else None, fork=fork)
        return self.threads[name]

    def _started(self, details: Mapping[str, Any]) -> None:
        node = self._node(details.get("path", ""))
        if node is None:
            return
        thread = self._thread(str(details.get("thread", "")))
        self._routine(thread, str(details.get("routine", "")))
        self._reach(thread, node)
        seen = self.seen.setdefault(node, _Seen())
        kind = str(details.get("stepType", ""))
        seen.retried |= kind == "RETRY"
        seen.caught |= kind == "EXCEPT"
        self.open[details.get("entryId")] = (node, kind)

    def _routine(self, thread: _Thread, routine: str) -> None:
        """Follow a call into a subworkflow (from its caller to its start) and the return (to its end,
        then on from the caller)."""
        calls = thread.calls
        if not calls:
            calls.append((routine, None))
            thread.prev = thread.prev or start_of(routine)  # the first thread begins at the start
        elif routine != calls[-1][0] and any(r == routine for r, _ in calls):
            while calls[-1][0] != routine:
                called, caller = calls.pop()
                self._reach(thread, end_of(called))
                thread.prev, thread.closed = caller, []
        elif routine != calls[-1][0]:
            calls.append((routine, thread.prev))
            self._reach(thread, start_of(routine))

    def _ended(self, details: Mapping[str, Any], failed: bool) -> None:
        found = self.open.pop(details.get("entryId"), None)
        node = found[0] if found else self._node(details.get("path", ""))
        if node is None:
            return
        seen = self.seen.setdefault(node, _Seen())
        kind = str(details.get("stepType", ""))
        if kind not in ("RETRY", "EXCEPT"):
            seen.failures += failed
            # a try that ends well after its except ran is no success of the step's own work
            seen.failed_last = failed or (seen.failed_last and kind == "TRY_RETRY_EXCEPT")
        thread = self._thread(str(details.get("thread", "")))
        if node != thread.prev and node not in thread.closed[-1:]:
            thread.closed.append(node)
        if kind in _FORKS:
            for child in self.threads.values():
                if child.fork == details.get("entryId"):
                    self._reach(child, node)

    def _reach(self, thread: _Thread, node: str) -> None:
        """The thread goes on to ``node``: the edge straight there if there is one, else the way out of
        the lists that ended since (a loop's body back to its ``for``, then on)."""
        at = thread.prev
        if at is not None and at != node:
            if (at, node) not in self.links:
                for step in thread.closed:
                    if (at, step) in self.links:
                        self.followed.add((at, step))
                        at = step
            if (at, node) in self.links:
                self.followed.add((at, node))
        thread.prev, thread.closed = node, []
