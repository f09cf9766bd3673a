"""A Workflows definition as typed, immutable steps.

A definition is a map of workflows (``main`` and its subworkflows), each a list of steps. A step is one of
the kinds below; every kind carries its ``name``, its source ``line``, its ``path`` (as problems name it)
and its ``next`` (a step name, ``end``, ``break``, ``continue``, or None to go on with the following step).

Some steps are *inline*: the body of a switch condition, of a ``try``, or the loop of a parallel ``for``
are written without a name of their own, so they carry their owner's name and ``inline=True``.

Values the language evaluates (assigned values, call arguments, conditions, returned and raised values)
are kept as written, JSON-shaped; expressions among them are the strings ``"${...}"``, left to
:mod:`stepdance.gcw.expr`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# A value as JSON has it: None, bool, int, float, str, list or dict (str keys).
JSON = Any
# What a nested list of steps is, which decides where a ``next`` in it may jump (see ``Block``).
BlockKind = Literal["steps", "for", "branch", "except"]
JUMPS = ("end", "break", "continue")  # the values of ``next`` that are not step names


@dataclass(frozen=True, slots=True)
class Block:
    """A list of steps nested in a step. A ``for`` body and a parallel ``branch`` are closed: a step in
    them cannot jump out (but ``break``/``continue`` leave a loop). ``steps`` and ``except`` are open."""

    kind: BlockKind
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Step:
    """Any step. Steps compare and hash by identity: a step is a place in one definition (an interpreter
    can key its state by it), and the JSON values some steps hold are not hashable."""

    name: str
    line: int
    path: str
    next: str | None = None
    inline: bool = False
    # The line of each key of the step (``next``, ``call``, ``args.amount``...), to point at it.
    lines: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

    def inline_steps(self) -> tuple[Step, ...]:
        """The unnamed steps that are part of this one (they jump from where this step is)."""
        return ()

    def blocks(self) -> tuple[Block, ...]:
        return ()

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Next(Step):
    """A step that only jumps: ``- done: {next: end}``."""


@dataclass(frozen=True, slots=True)
class Assignment:
    target: str  # a variable, or a path into one: ``order.items[0].qty``
    value: JSON
    line: int


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Assign(Step):
    assignments: tuple[Assignment, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Call(Step):
    function: str  # a subworkflow, a library function (``http.get``) or a connector (``googleapis....``)
    args: Mapping[str, JSON] | None = None
    result: str | None = None


@dataclass(frozen=True, slots=True)
class SwitchBranch:
    """``- condition: ...`` and what to do when it is the first to hold: an inline ``step`` (a jump,
    nested ``steps``, an ``assign``, a ``call``, a ``raise`` or a ``return``, with its own ``next``)."""

    condition: JSON  # True, or an expression
    line: int
    path: str
    step: Step


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Switch(Step):
    """The first branch whose condition holds runs; if none does, the switch's own ``next`` applies."""

    branches: tuple[SwitchBranch, ...]

    def inline_steps(self) -> tuple[Step, ...]:
        return tuple(branch.step for branch in self.branches)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class For(Step):
    value: str
    index: str | None = None
    items: JSON = None  # ``in``: a list, or an expression giving one; None when ``range`` is used
    range: tuple[JSON, JSON] | str | None = None  # [first, last], both included, or one expression
    steps: tuple[Step, ...] = ()

    def blocks(self) -> tuple[Block, ...]:
        return (Block("for", self.steps),)


@dataclass(frozen=True, slots=True)
class Branch:
    name: str
    line: int
    path: str
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Parallel(Step):
    """Either named ``branches`` or a ``loop`` (a parallel ``for``) run concurrently; ``shared`` are the
    outer variables they may assign."""

    branches: tuple[Branch, ...] = ()
    loop: For | None = None
    shared: tuple[str, ...] = ()
    concurrency_limit: int | str | None = None
    exception_policy: str = "continueAll"

    def inline_steps(self) -> tuple[Step, ...]:
        return (self.loop,) if self.loop is not None else ()

    def blocks(self) -> tuple[Block, ...]:
        return tuple(Block("branch", branch.steps) for branch in self.branches)


@dataclass(frozen=True, slots=True)
class Backoff:
    initial_delay: float | str
    max_delay: float | str
    multiplier: float | str


@dataclass(frozen=True, slots=True)
class Retry:
    """A retry policy of one's own (a policy given by reference is kept as its expression string)."""

    predicate: str  # an expression naming a predicate: ${http.default_retry_predicate}, ${my_predicate}
    max_retries: int | str
    backoff: Backoff
    line: int


@dataclass(frozen=True, slots=True)
class Except:
    variable: str | None  # ``as``: the error map's name in ``steps``
    steps: tuple[Step, ...]
    line: int


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Try(Step):
    body: Step  # inline: a single step (a call, usually) or nested ``steps``
    retry: Retry | str | None = None  # a policy of one's own, or a reference: "${http.default_retry}"
    except_: Except | None = None

    def inline_steps(self) -> tuple[Step, ...]:
        return (self.body,)

    def blocks(self) -> tuple[Block, ...]:
        return (Block("except", self.except_.steps),) if self.except_ is not None else ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Raise(Step):
    value: JSON  # a string, a map, or an expression


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Return(Step):
    value: JSON


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Steps(Step):
    """Nested steps, run in order; they share the variables of the block around them."""

    steps: tuple[Step, ...]

    def blocks(self) -> tuple[Block, ...]:
        return (Block("steps", self.steps),)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: JSON = None
    required: bool = True  # False when the subworkflow gives a default (``- currency: EUR``)


@dataclass(frozen=True, slots=True)
class Workflow:
    name: str
    params: tuple[Param, ...]
    steps: tuple[Step, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Workflows(Mapping[str, Workflow]):
    """Every workflow of a definition by name; ``main`` is the one an execution starts."""

    workflows: Mapping[str, Workflow]
    source: str = "<workflow>"

    def __getitem__(self, name: str) -> Workflow:
        return self.workflows[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.workflows)

    def __len__(self) -> int:
        return len(self.workflows)

    @property
    def main(self) -> Workflow:
        return self.workflows["main"]


def walk(steps: tuple[Step, ...]) -> Iterator[Step]:
    """Every step in ``steps`` and nested in them, inline ones included, in source order."""
    for step in steps:
        yield step
        for inline in step.inline_steps():
            yield from walk((inline,))
        for block in step.blocks():
            yield from walk(block.steps)
