"""Run a folder of ASL execution and Choice-operator cases on the in-memory driver and compare each with what
AWS recorded.

Every case runs in this process: the whole visible corpus takes about a second, far less than starting a
process pool would cost. A case never stops the run: a definition that does not parse, an exception from the
interpreter or from the comparison, or a case that runs past its time limit is a failure carrying the text.
"""

from __future__ import annotations

import datetime as dt
import secrets
import signal
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepdance.asl.definition import Definition, DefinitionError
from stepdance.conformance.cases import (
    ChoiceCase,
    ChoicePair,
    ExecutionCase,
    PatternCase,
    read_folder,
)
from stepdance.conformance.compare import ActualExecution, compare_choice_pair, compare_execution
from stepdance.conformance.results import Outcome, Report, Unreadable

REGION = "us-east-1"
ACCOUNT = "123456789012"
CASE_TIME_LIMIT = 30.0  # seconds of wall clock; the slowest visible case takes milliseconds

OnOutcome = Callable[[Outcome], None]


class CaseTimeout(Exception):
    pass


@dataclass(slots=True)
class Loaded:
    """The runnable cases of a folder and the files that could not be used."""

    cases: list[ExecutionCase | ChoiceCase] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def units(self) -> int:
        """How many outcomes running them gives (one per execution, one per Choice pair)."""
        return sum(len(c.pairs) if isinstance(c, ChoiceCase) else 1 for c in self.cases)


def load_folder(folder: Path, only: str | None = None) -> Loaded:
    """The execution and Choice cases under ``folder`` (pattern cases are left out), those whose id contains
    ``only`` if given. Raises OSError when the folder cannot be read."""
    cases, unreadable = read_folder(folder, only, lambda case: not isinstance(case, PatternCase))
    return Loaded([c for c in cases if isinstance(c, ExecutionCase | ChoiceCase)], unreadable)


def run_folder(folder: Path, only: str | None = None, on_outcome: OnOutcome | None = None) -> Report:
    loaded = load_folder(folder, only)
    report = run_cases(loaded.cases, on_outcome)
    report.unreadable = loaded.unreadable
    return report


def run_cases(cases: list[ExecutionCase | ChoiceCase], on_outcome: OnOutcome | None = None) -> Report:
    report = Report(sections_shown=("executions", "choice_pairs"))
    for case in cases:
        for outcome in run_case(case):
            report.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    return report


def run_case(case: ExecutionCase | ChoiceCase) -> list[Outcome]:
    if isinstance(case, ChoiceCase):
        return [_choice_pair(case, index, pair) for index, pair in enumerate(case.pairs)]
    return [_execution(case)]


def _execution(case: ExecutionCase) -> Outcome:
    try:
        with _time_limit(CASE_TIME_LIMIT):
            differences = compare_execution(case, execute(case.definition, case.input_text))
    except Exception as exc:  # the runner reports whatever went wrong and moves on
        differences = [_describe(exc)]
    return Outcome(case.id, "executions", case.area, not differences, tuple(differences))


def _choice_pair(case: ChoiceCase, index: int, pair: ChoicePair) -> Outcome:
    try:
        with _time_limit(CASE_TIME_LIMIT):
            actual = execute(pair.definition, pair.input_text)
            differences = compare_choice_pair(pair, actual.status, actual.output)
    except Exception as exc:
        differences = [_describe(exc)]
    if differences:
        differences.append(f"input: {pair.input_text}")
    return Outcome(f"{case.id}#{index}", "choice_pairs", case.area, not differences, tuple(differences))


def execute(definition: dict[str, Any], input_text: str) -> ActualExecution:
    """Create a state machine named as LocalStack named them and run one execution to its end."""
    from stepdance.asl import simulate  # the interpreter is imported only when something is run

    info = simulate.info_for(
        str(uuid.uuid4()),
        state_machine=f"statemachine_{secrets.token_hex(6)}",
        region=REGION,
        account=ACCOUNT,
    )
    outcome = simulate.run(Definition.parse(definition), input_text, info=info)
    return ActualExecution(
        status=outcome.status,
        output=outcome.output,
        error=outcome.error,
        cause=outcome.cause,
        history=[_with_datetime(event) for event in outcome.events],
        state_machine_arn=info.state_machine_arn,
        execution_arn=info.execution_arn,
        role_arn=info.role_arn,
    )


def _with_datetime(event: dict[str, Any]) -> dict[str, Any]:
    """Epoch seconds -> an aware datetime, as boto3 returns an event's timestamp."""
    stamp = event.get("timestamp")
    if not isinstance(stamp, int | float):
        return event
    return {**event, "timestamp": dt.datetime.fromtimestamp(stamp, dt.UTC)}


def _describe(exc: BaseException) -> str:
    """``raised DefinitionError: ...`` or, for a bug, where it happened: ``raised KeyError: 'x' (at
    stepdance/asl/machine.py:120)``."""
    if isinstance(exc, CaseTimeout):
        return f"timed out: {exc}"
    text = f"raised {type(exc).__qualname__}: {exc}"
    if isinstance(exc, DefinitionError):
        return text
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "stepdance" in f.filename]
    if frames:
        where = frames[-1].filename.rsplit("src/", 1)[-1]
        text += f" (at {where}:{frames[-1].lineno})"
    return text


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a runaway case with CaseTimeout (main thread on POSIX only; elsewhere no limit)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise CaseTimeout(f"the case ran for more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
