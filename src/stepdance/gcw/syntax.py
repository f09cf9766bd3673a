"""Google Cloud Workflows definitions: parsed into typed steps, and validated.

``parse(text)`` gives :class:`Workflows` (``main`` and its subworkflows, each a tuple of steps) or raises
:class:`SyntaxProblems` listing every problem; ``validate(text)`` returns that list and never raises, whatever
the text. Each :class:`Problem` has a code, a message, the source line and a path through the definition::

    line 12: main.steps[2].charge.next: next names 'refnd', which is no step of this workflow; did you
    mean 'refund'? (steps here: charge, done, refund) [UNKNOWN_NEXT]

Pure: text in, steps or problems out. The work is done in small modules: ``syntax_yaml`` (text to YAML
nodes with lines), ``syntax_read`` with ``syntax_read_steps`` and ``syntax_read_blocks`` (nodes to steps,
one handler per step kind, reporting problems of shape), ``syntax_check`` (names, jumps, calls, loops
across steps), ``syntax_calls`` (the standard library) and ``syntax_names`` (variable names, ``${...}``).
Expressions are checked only for their ``${`` and ``}``; :mod:`stepdance.gcw.expr` reads them.
"""

from __future__ import annotations

from stepdance.gcw.syntax_check import check
from stepdance.gcw.syntax_read import STEP_KEYS, Reader
from stepdance.gcw.syntax_read_steps import HANDLERS
from stepdance.gcw.syntax_report import Problem, Report, SyntaxProblems
from stepdance.gcw.syntax_steps import (
    Assign,
    Assignment,
    Backoff,
    Block,
    Branch,
    Call,
    Except,
    For,
    Next,
    Parallel,
    Param,
    Raise,
    Retry,
    Return,
    Step,
    Steps,
    Switch,
    SwitchBranch,
    Try,
    Workflow,
    Workflows,
    walk,
)
from stepdance.gcw.syntax_yaml import Node, load

__all__ = [
    "Assign",
    "Assignment",
    "Backoff",
    "Block",
    "Branch",
    "Call",
    "Except",
    "For",
    "Next",
    "Parallel",
    "Param",
    "Problem",
    "Raise",
    "Retry",
    "Return",
    "Step",
    "Steps",
    "Switch",
    "SwitchBranch",
    "SyntaxProblems",
    "Try",
    "Workflow",
    "Workflows",
    "looks_like_workflows",
    "parse",
    "validate",
    "walk",
]


def parse(text: str, source: str = "<workflow>") -> Workflows:
    """The workflows ``text`` defines; SyntaxProblems (a ValueError) with every problem if it is not valid."""
    workflows, problems = _analyse(text)
    if problems or workflows is None:
        raise SyntaxProblems(problems, source)
    return Workflows(workflows, source)


def validate(text: str, source: str = "<workflow>") -> list[Problem]:
    """Every problem in ``text``, in line order; empty when it is a valid definition."""
    return _analyse(text)[1]


def _analyse(text: str) -> tuple[dict[str, Workflow] | None, list[Problem]]:
    report = Report()
    try:
        root = load(text, report)
        if root is None:
            return None, report.sorted()
        workflows = Reader(report, HANDLERS).workflows(root)
        check(workflows, report)
    except RecursionError:
        report.add("TOO_DEEP", "the definition nests too deeply to read", None, "")
        return None, report.sorted()
    return workflows, report.sorted()


def looks_like_workflows(text: str) -> bool:
    """Whether ``text`` is meant as a Workflows definition (valid or not) rather than, say, ASL JSON: a list
    of single-key step maps, or a map of workflows (some value is a map with steps)."""
    report = Report()
    try:
        root = load(text, report)
        if root is None:
            return False
        if root.is_list:
            return _looks_like_steps(root)
        if root.is_map:
            return any(
                entry.value.is_map and any(e.key == "steps" for e in entry.value.entries())
                for entry in root.entries()
            )
    except RecursionError:
        return False
    return False


def _looks_like_steps(root: Node) -> bool:
    items = root.elements()
    if not items or not all(item.is_map and len(item.entries()) == 1 for item in items):
        return False
    bodies = [item.entries()[0].value for item in items]
    return any(body.is_map and any(e.key in STEP_KEYS for e in body.entries()) for body in bodies)
