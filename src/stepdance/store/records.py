"""The rows a store holds, as plain dataclasses, and :class:`Change`, the unit of the batched write path.

Dates are epoch seconds (floats); the client turns them into datetimes. JSON documents the engine does not
look inside (inputs, outputs, task payloads) stay text; the execution snapshot and history events are dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

Json = Any
T = TypeVar("T")

RUNNING = "RUNNING"
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})
REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})

# SCHEDULED -> STARTED (an activity worker took it) / SUBMITTED (a callback handler passed the token on)
# -> ANSWERED (SendTaskSuccess/Failure queued its result; the execution has not applied it yet) -> CLOSED.
TaskStatus = Literal["SCHEDULED", "STARTED", "SUBMITTED", "ANSWERED", "CLOSED"]
ANSWERABLE = frozenset({"SCHEDULED", "STARTED", "SUBMITTED"})  # a token can still be answered
OPEN_TASK = ANSWERABLE | {"ANSWERED"}  # the execution still waits for it


@dataclass(slots=True)
class StateMachineRecord:
    """A state machine, or one revision of it (``get_revision``): the definition an execution runs."""

    arn: str
    name: str
    definition: str
    role_arn: str
    creation_date: float
    revision_id: str
    type: str = "STANDARD"
    update_date: float | None = None


@dataclass(slots=True)
class ActivityRecord:
    arn: str
    name: str
    creation_date: float


@dataclass(slots=True)
class ExecutionRecord:
    arn: str
    state_machine_arn: str
    name: str
    revision_id: str
    input: str
    start_date: float
    status: str = RUNNING
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop_date: float | None = None
    redrive_count: int = 0
    redrive_date: float | None = None
    snapshot: dict[str, Json] | None = None  # the interpreter's state; None in listings
    owner: str | None = None
    lease_until: float = 0.0
    version: int = 1
    last_event_id: int = 0


@dataclass(slots=True)
class TaskRecord:
    """An invocation the runtime owes: a handler call, an activity waiting for a worker, a callback token.

    Handler tasks are deleted once their result is committed; activity and callback tasks are kept as
    ``CLOSED`` so that a late ``SendTaskSuccess`` with their token gets ``TaskTimedOut``, not
    ``InvalidToken``."""

    execution_arn: str
    task_id: str
    kind: str  # handler | activity | callback | http
    resource: str
    input: str
    created: float
    status: str = "SCHEDULED"
    token: str | None = None
    state_name: str = ""
    timeout_seconds: float | None = None
    heartbeat_seconds: float | None = None
    worker: str | None = None


@dataclass(slots=True)
class TimerRecord:
    execution_arn: str
    timer_id: str
    due: float


@dataclass(slots=True)
class SignalRecord:
    """A signal for an execution written by someone who does not own it (SendTaskSuccess from another
    process, StopExecution, an activity worker picking a task up). The owner applies it and deletes it in
    the same commit."""

    id: int
    execution_arn: str
    body: dict[str, Json]
    created: float


@dataclass(slots=True)
class Change:
    """What one transition of one execution writes. A batch of changes commits in one transaction.

    ``version`` is the execution version the writer last saw: the row must still be at that version and
    owned by ``owner``, and leaves the commit at ``version + 1``. A change with ``create`` inserts the
    execution (``version`` is then 0). ``version=None`` is a side change: only its task status updates are
    written, without any check (a callback handler returned; nothing the interpreter needs to see).
    A terminal ``status`` also clears the execution's timers and signals and closes its open tasks.
    """

    execution_arn: str
    version: int | None
    owner: str | None
    create: ExecutionRecord | None = None
    events: list[dict[str, Json]] = field(default_factory=list)
    snapshot: dict[str, Json] | str | None = None  # a dict, or its JSON text already
    status: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop_date: float | None = None
    timers_set: list[TimerRecord] = field(default_factory=list)
    timers_deleted: list[str] = field(default_factory=list)
    tasks_added: list[TaskRecord] = field(default_factory=list)
    task_status: dict[str, str] = field(default_factory=dict)
    tasks_deleted: list[str] = field(default_factory=list)
    signals_consumed: list[int] = field(default_factory=list)


def as_row(record: Any) -> dict[str, Any]:
    """A record's fields as a dict: a shallow ``asdict`` (which deep-copies and is ten times slower)."""
    return {name: getattr(record, name) for name in record.__slots__}


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None = None
