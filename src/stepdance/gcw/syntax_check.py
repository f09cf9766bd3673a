"""Checks across steps, once every workflow is read: unique step names, where each ``next`` may jump,
``break``/``continue`` only in loops, what each ``call`` names and with which arguments, loop variables, and
how deeply parallel steps nest.

Where a jump may land: a step of the same list of steps, or of a list that encloses it, never into nested
steps; and not out of a ``for`` body or a parallel branch (``break``/``continue`` leave a loop, and a branch
ends by running out of steps). The steps of a switch condition, a try and an except are open: they may jump
to the steps around them. An inline step (a switch condition's body, a try's) jumps from where its owner is.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from stepdance.gcw.syntax_calls import REQUIRED_ARGS, is_library, library_problem
from stepdance.gcw.syntax_report import Report
from stepdance.gcw.syntax_steps import Call, For, Parallel, Step, Workflow
from stepdance.gcw.syntax_yaml import join

CLOSED = {"for": "a for loop", "branch": "a parallel branch"}
MAX_PARALLEL_DEPTH = 2  # Workflows' limit on parallel steps nested in parallel steps
SHOWN_NAMES = 12


@dataclass(frozen=True)
class Scope:
    """One list of steps, in the lists that enclose it."""

    names: frozenset[str]
    kind: str  # "workflow", or the kind of Block the steps are in
    parent: Scope | None = None

    def reachable(self) -> frozenset[str]:
        """The steps a ``next`` here may name: up to the first closed list (for body, branch)."""
        found: frozenset[str] = frozenset()
        scope: Scope | None = self
        while scope is not None:
            found |= scope.names
            if scope.kind in CLOSED:
                break
            scope = scope.parent
        return found

    def enclosing(self) -> frozenset[str]:
        found, scope = self.names, self.parent
        while scope is not None:
            found |= scope.names
            scope = scope.parent
        return found

    def closure(self) -> str | None:
        """What closes this list in: ``a for loop`` or ``a parallel branch`` (the innermost), if any."""
        scope: Scope | None = self
        while scope is not None:
            if scope.kind in CLOSED:
                return CLOSED[scope.kind]
            scope = scope.parent
        return None

    def in_loop(self) -> bool:
        return self.closure() == CLOSED["for"]


@dataclass(frozen=True)
class Context:
    loop_variables: frozenset[str] = frozenset()
    parallel_depth: int = 0


def check(workflows: Mapping[str, Workflow], report: Report) -> None:
    for workflow in workflows.values():
        Checker(report, workflows, workflow).run()


class Checker:
    def __init__(self, report: Report, workflows: Mapping[str, Workflow], workflow: Workflow) -> None:
        self.report = report
        self.workflows = workflows
        self.workflow = workflow
        # step name -> the line of the (first) step of that name, and the step it is nested in
        self.named: dict[str, tuple[int, str | None]] = {}

    def run(self) -> None:
        self.unique_names()
        self.block(self.workflow.steps, "workflow", None, Context())

    def unique_names(self) -> None:
        found: list[tuple[str, int, str, str | None]] = []
        _named(self.workflow.steps, None, found)
        for name, line, path, owner in sorted(found, key=lambda named: named[1]):
            if name in self.named:
                first = self.named[name][0]
                self.report.add(
                    "DUPLICATE_STEP",
                    f"step name {name!r} is already used at line {first}: names are unique in a workflow",
                    line,
                    path,
                )
            else:
                self.named[name] = (line, owner)

    def block(self, steps: tuple[Step, ...], kind: str, parent: Scope | None, context: Context) -> None:
        scope = Scope(frozenset(step.name for step in steps if not step.inline), kind, parent)
        for step in steps:
            self.step(step, scope, context)

    def step(self, step: Step, scope: Scope, context: Context) -> None:
        self.next(step, scope)
        if isinstance(step, Call):
            self.call(step)
        elif isinstance(step, For):
            context = self.loop(step, context)
        elif isinstance(step, Parallel):
            context = self.parallel(step, context)
        for inline in step.inline_steps():
            self.step(inline, scope, context)
        for block in step.blocks():
            self.block(block.steps, block.kind, scope, context)

    def next(self, step: Step, scope: Scope) -> None:
        target = step.next
        if target is None or target == "end" or target in scope.reachable():
            return
        line, path = step.line_of("next"), join(step.path, "next")
        if target in ("break", "continue"):
            if not scope.in_loop():
                where = " (a parallel branch is not a loop)" if scope.closure() else ""
                self.report.add(
                    "BREAK_OUTSIDE_LOOP",
                    f"next: {target} is only allowed in the steps of a for loop{where}",
                    line,
                    path,
                )
            return
        if target not in self.named:
            self.report.add("UNKNOWN_NEXT", _unknown(target, scope.reachable()), line, path)
            return
        there, owner = self.named[target]
        if target in scope.enclosing():
            reason = f"it is outside {scope.closure()}, which only break or continue (or running out) leave"
        else:
            reason = f"it is nested in step {owner!r}, and next cannot jump into nested steps"
        self.report.add(
            "NEXT_OUT_OF_SCOPE",
            f"next cannot jump to {target!r} (line {there}): {reason}",
            line,
            path,
        )

    def call(self, step: Call) -> None:
        function = step.function
        if not function:
            return  # not a string: already reported
        line, path = step.line_of("call"), join(step.path, "call")
        if function in self.workflows:
            self.arguments(step, self.workflows[function])
            return
        if is_library(function) and not function.startswith("${"):
            problem = library_problem(function)
            if problem is not None:
                self.report.add("UNKNOWN_CALL", problem, line, path)
                return
            missing = [arg for arg in REQUIRED_ARGS.get(function, ()) if arg not in (step.args or {})]
            if missing:
                self.report.add(
                    "MISSING_ARG", f"{function} needs args: {', '.join(missing)}", step.line, step.path
                )
            return
        self.report.add("UNKNOWN_CALL", _no_subworkflow(function, self.workflows), line, path)

    def arguments(self, step: Call, workflow: Workflow) -> None:
        args = step.args or {}
        missing = [param.name for param in workflow.params if param.required and param.name not in args]
        if missing:
            self.report.add(
                "MISSING_ARG",
                f"call to {workflow.name!r} lacks args {', '.join(missing)}, which it requires "
                "(they have no default)",
                step.line_of("args"),
                join(step.path, "args") if step.args is not None else step.path,
            )
        names = [param.name for param in workflow.params]
        for arg in args:
            if arg not in names:
                self.report.add(
                    "UNKNOWN_ARG",
                    f"{workflow.name!r} has no parameter {arg!r} (it takes {', '.join(names) or 'none'})",
                    step.line_of(f"args.{arg}"),
                    join(join(step.path, "args"), arg),
                )

    def loop(self, step: For, context: Context) -> Context:
        names = [name for name in (step.value, step.index) if name]
        if step.index is not None and step.index == step.value:
            self.report.add(
                "LOOP_VARIABLE",
                f"value and index are both {step.value!r}: they need two names",
                step.line,
                step.path,
            )
        for name in names:
            if name in context.loop_variables:
                self.report.add(
                    "LOOP_VARIABLE",
                    f"{name!r} is already the variable of an enclosing loop: nested loops need their own",
                    step.line,
                    step.path,
                )
        return replace(context, loop_variables=context.loop_variables | set(names))

    def parallel(self, step: Parallel, context: Context) -> Context:
        depth = context.parallel_depth + 1
        if depth == MAX_PARALLEL_DEPTH + 1:
            self.report.add(
                "LIMIT",
                f"parallel steps nest {depth} deep here; Workflows allows {MAX_PARALLEL_DEPTH}",
                step.line,
                step.path,
            )
        return replace(context, parallel_depth=depth)


def _named(steps: tuple[Step, ...], owner: str | None, found: list[tuple[str, int, str, str | None]]) -> None:
    """Every named step and parallel branch, with the step it is nested in (None at the top)."""
    for step in steps:
        if not step.inline:
            found.append((step.name, step.line, step.path, owner))
        if isinstance(step, Parallel):
            found.extend((branch.name, branch.line, branch.path, step.name) for branch in step.branches)
        _named(step.inline_steps(), owner, found)
        for block in step.blocks():
            _named(block.steps, step.name, found)


def _unknown(target: str, reachable: frozenset[str]) -> str:
    close = difflib.get_close_matches(target, sorted(reachable), n=1)
    guess = f"; did you mean {close[0]!r}?" if close else ""
    names = sorted(reachable)
    shown = ", ".join(names[:SHOWN_NAMES]) + (", ..." if len(names) > SHOWN_NAMES else "")
    return f"next names {target!r}, which is no step of this workflow{guess} (steps here: {shown})"


def _no_subworkflow(function: str, workflows: Mapping[str, Workflow]) -> str:
    if function.startswith("${"):
        return "call takes the name of a subworkflow or a library function, not an expression"
    names = sorted(name for name in workflows if name != "main")
    close = difflib.get_close_matches(function, names, n=1)
    guess = f"; did you mean {close[0]!r}?" if close else ""
    listed = f"subworkflows: {', '.join(names)}" if names else "there are no subworkflows"
    return f"no subworkflow named {function!r} ({listed}; library functions have a module: http.get){guess}"
