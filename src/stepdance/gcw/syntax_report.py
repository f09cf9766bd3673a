"""What every syntax rule shares: a problem, the error that carries them, and the list they are added to.

A problem names where it is twice: the source ``line`` (1-based, from the YAML node) for an editor, and a
``path`` through the definition for a reader (``main.steps[2].charge.call``): the workflow, then ``steps[i]``
and the step's name at each level, then the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a workflow definition."""

    code: str  # e.g. UNKNOWN_NEXT, CONFLICTING_KINDS, YAML_SYNTAX
    message: str
    line: int | None
    path: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        at = f"{self.path}: " if self.path else ""
        return f"{where}{at}{self.message} [{self.code}]"


class SyntaxProblems(ValueError):
    """The definition is not valid; ``problems`` lists every problem found, in line order."""

    def __init__(self, problems: list[Problem], source: str = "<workflow>") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


@dataclass
class Report:
    """Collects problems; rules add to it and never raise."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, line: int | None, path: str) -> None:
        self.problems.append(Problem(code, message, line, path))

    def sorted(self) -> list[Problem]:
        """In line order (stable: problems of one line keep the order they were found in)."""
        return sorted(self.problems, key=lambda p: (p.line is None, p.line or 0))
