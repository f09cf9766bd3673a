"""The snapshot of a Cloud Workflows execution between two transitions, as plain JSON.

::

    ExecState        the execution: info, argument, user env, counters, status, and its threads
    └── Thread       one line of control: the execution's main one, or a parallel branch / iteration
        └── Frame    one routine being run (main, a subworkflow), its variable scopes and control stack
            └── ctl  what the routine is in the middle of, innermost last:
                     {"k": "seq", "o": owner, "b": block, "i": index}   running a list of steps
                     {"k": "for" | "steps" | "switch" | "try" | "call" | "par" | "branch", ...}
                     {"k": "routine"}                                 the bottom of a routine's stack

A ``seq`` names its list of steps by the owner (a routine's name, or a step's path in the definition, as
the syntax reports it: ``main.steps[1].charge``) and which of the owner's lists it is, so the definition
resolves it again on the next transition (:mod:`.machine_flow`). A construct entry carries the step entry
it keeps open (``e`` its entryId, ``n``/``p``/``l``/``t`` its step, path, line and step type).

Values are Workflows values, which JSON cannot all hold (``bytes``, a function named as a value, a retry
policy). :func:`encode` escapes them into single-key maps whose key starts with NUL, and escapes any user
map that happens to have such a key; :func:`decode` undoes it. A snapshot with nothing to escape (nearly
all of them) is stored as it is, which one orjson pass tells.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson

from stepdance.gcw.expr import Backoff, FunctionRef, RetryPolicy

MAIN = "t0"
_ESC = "\x00"
_BYTES, _FUNC, _POLICY, _BACKOFF, _MAP = "\x00b", "\x00f", "\x00r", "\x00k", "\x00m"


@dataclass(slots=True)
class Frame:
    routine: str
    scopes: list[dict[str, Any]]
    ctl: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"routine": self.routine, "scopes": self.scopes, "ctl": self.ctl}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Frame:
        return cls(raw["routine"], raw["scopes"], raw["ctl"])


@dataclass(slots=True)
class Thread:
    id: str
    frames: list[Frame]
    parent: str | None = None
    label: str | None = None  # the branch's name or the iteration's index, as events name it
    shared: list[str] = field(default_factory=list)
    depth: int = 0  # parallel steps this thread runs inside (Workflows allows 2)
    base: int = 0  # routines on the call stack where this thread forked off its parent
    last: int = 0  # the last event this thread emitted: the next one's previousEventId
    # What the thread waits on, or None when it can run: {"on": "task"|"timer"|"children", ...}.
    wait: dict[str, Any] | None = None
    # A subworkflow run to its end inside one step (a retry predicate, a call in an expression) is a
    # thread of its own that is never stored; it ends with ("return", value) or ("raise", error).
    sync: bool = False
    outcome: tuple[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "frames": [f.to_json() for f in self.frames],
            "parent": self.parent,
            "label": self.label,
            "shared": self.shared,
            "depth": self.depth,
            "base": self.base,
            "last": self.last,
            "wait": self.wait,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Thread:
        frames = [Frame.from_json(f) for f in raw["frames"]]
        return cls(**{**raw, "frames": frames})


@dataclass(slots=True)
class ExecState:
    info: dict[str, Any]
    input_text: str
    env: dict[str, str] = field(default_factory=dict)  # user-defined variables sys.get_env reads
    status: str = "RUNNING"
    next_id: int = 1  # the next history event's id
    entries: int = 0  # step entries so far: the last entryId
    steps: int = 0  # steps run so far (Workflows stops an execution at 100,000)
    uuids: int = 0  # uuid.generate() calls so far
    seq: int = 0  # for new thread ids
    threads: dict[str, Thread] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)  # task id -> thread id
    timers: dict[str, str] = field(default_factory=dict)  # timer id -> thread id
    failed_at: dict[str, Any] | None = None  # the main thread as it stood when it failed or was stopped
    output: str | None = None
    error: str | None = None
    cause: str | None = None

    def to_json(self) -> dict[str, Any]:
        raw = {
            "format": "gcw/1",
            "info": self.info,
            "input_text": self.input_text,
            "env": self.env,
            "status": self.status,
            "next_id": self.next_id,
            "entries": self.entries,
            "steps": self.steps,
            "uuids": self.uuids,
            "seq": self.seq,
            "threads": {k: t.to_json() for k, t in self.threads.items()},
            "tasks": self.tasks,
            "timers": self.timers,
            "failed_at": self.failed_at,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
        }
        if _plain(raw):
            return raw
        escaped: dict[str, Any] = encode(raw)
        escaped["codec"] = True
        return escaped

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ExecState:
        if raw.get("codec"):
            raw = decode({k: v for k, v in raw.items() if k != "codec"})
        fields = {k: v for k, v in raw.items() if k != "format"}
        fields["threads"] = {k: Thread.from_json(t) for k, t in raw["threads"].items()}
        return cls(**fields)


def _plain(value: Any) -> bool:
    """Whether ``value`` is JSON as it stands: no bytes, function or policy, and no key to escape."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_DATACLASS)
    except TypeError:
        return False
    return b"\\u0000" not in text


def encode(value: Any) -> Any:
    """``value`` with every non-JSON Workflows value escaped (see the module's docstring)."""
    if isinstance(value, dict):
        inner = {k: encode(v) for k, v in value.items()}
        return {_MAP: inner} if any(k.startswith(_ESC) for k in value) else inner
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, FunctionRef):
        return {_FUNC: value.name}
    if isinstance(value, RetryPolicy):
        return {_POLICY: [value.predicate.name, value.max_retries, encode(value.backoff)]}
    if isinstance(value, Backoff):
        return {_BACKOFF: [value.initial_delay, value.max_delay, value.multiplier]}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        key, inner = next(iter(value.items()))
        if key == _MAP:
            return {k: decode(v) for k, v in inner.items()}
        if key == _BYTES:
            return base64.b64decode(inner)
        if key == _FUNC:
            return FunctionRef(inner)
        if key == _POLICY:
            return RetryPolicy(FunctionRef(inner[0]), inner[1], decode(inner[2]))
        if key == _BACKOFF:
            return Backoff(*inner)
    return {k: decode(v) for k, v in value.items()}


def copy_value(value: Any) -> Any:
    """A copy sharing no list or map with ``value``: variables never alias one another, so a path
    assignment (``a.b[0]: 1``) changes one variable, in memory as after a round trip through JSON."""
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_value(v) for v in value]
    return value
