"""The execution's state between transitions: a tree of frames, each one thread of control.

The root frame runs the top-level machine; every Parallel branch and Map iteration runs in a child frame.
A frame is at one state, and is either runnable or waiting (on a task, a timer or its children). The whole
tree serialises to plain JSON (``ExecState.to_json``) so the runtime can store it as the execution's snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Frame:
    id: str
    # Path from the root machine to this frame's machine: [state name, branch index] pairs.
    path: list[Any]
    state: str
    input: Any
    parent: str | None = None
    index: int = 0  # Map item index / Parallel branch index
    variables: dict[str, Any] = field(default_factory=dict)
    # previousEventId bookkeeping: the last event this frame emitted, and the one before its StateEntered.
    last: int = 0
    entered_id: int = 0
    entered_prev: int = 0
    entered_time: str = ""
    retry_counts: dict[str, int] = field(default_factory=dict)
    # What the frame waits on, or None when runnable: {"on": "task"|"timer"|"children", ...}.
    wait: dict[str, Any] | None = None
    # Scratch space of the state being executed (effective input, Map items and results, ...).
    work: dict[str, Any] = field(default_factory=dict)
    item: dict[str, Any] | None = None  # $$.Map.Item for Map iterations

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Frame:
        return cls(**raw)


@dataclass(slots=True)
class ExecState:
    info: dict[str, Any]
    input_text: str
    status: str = "RUNNING"
    next_id: int = 1
    frames: dict[str, Frame] = field(default_factory=dict)
    # task_id / timer_id -> frame id, so a signal finds its frame.
    tasks: dict[str, str] = field(default_factory=dict)
    timers: dict[str, str] = field(default_factory=dict)
    seq: int = 0  # counter for unique child frame ids
    # The failed state to redrive from: {"frame": <frame json>} of the root frame when it failed.
    failed_at: dict[str, Any] | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "info": self.info,
            "input_text": self.input_text,
            "status": self.status,
            "next_id": self.next_id,
            "frames": {k: f.to_json() for k, f in self.frames.items()},
            "tasks": self.tasks,
            "timers": self.timers,
            "seq": self.seq,
            "failed_at": self.failed_at,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ExecState:
        frames = {k: Frame.from_json(f) for k, f in raw["frames"].items()}
        return cls(**{**raw, "frames": frames})
