"""A failure scenario, as a YAML file declares it: what runs, what breaks, what must come out. Pure: text in,
a :class:`Scenario` (or a :class:`ScenarioError` naming the file, the line and the field) out.

::

    name: transient-payment-errors
    description: a third of the first charges fail; the retries must absorb every one
    designs: [orchestrated, choreographed, hybrid, workflows]   # default: all four
    workload: {orders: 60, concurrency: 16, seed: 7}
    faults:
      - kind: error
        target: payment               # a service, or service.operation (payment.refund)
        mode: transient               # or permanent
        when: {probability: 0.3}      # or {calls: [2, 5]}, or {window: [0.5, 3.0]} (seconds after start)
        failures: 2                   # attempts of a struck order that fail before one goes through
    recover: [redrive]                # once the faults are over: redrive dead letters and failed executions
    retry_scale: 0.05                 # retry waits x 0.05 (a budget exhausted in seconds), every design alike
    expect:
      completed: workload             # what the workload's mix gives (the default), or a number
      cancelled: workload
      intervention: 0                 # orders left for a person, with their reason (default 0)
      seconds: 120                    # the run's deadline
      designs:                        # per-design overrides of the above
        choreographed: {intervention: 3}

Fault kinds: ``decline`` and ``out_of_stock`` (a share of the workload's orders, ``when.probability``),
``error`` (``mode`` transient or permanent) and ``latency`` (``seconds``) on a service operation, and
``compensation_failure`` (an error on the compensating operation: ``payment.refund`` or
``inventory.release``); ``duplicate`` and ``out_of_order`` (on the bus, or a service operation run twice),
``malformed`` (``count`` poison orders), ``process_kill`` (``target`` payment or inventory, ``point``,
``when: {calls: [N]}``), and ``broker_restart`` and ``database_restart`` (``when: {window: [down, up]}``: a private
server of the run's own killed and started again). The invariants are always checked; a scenario does not
choose them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from stepdance.order.faults import OPERATIONS, Rule

DESIGNS = ("orchestrated", "choreographed", "hybrid", "workflows")
KINDS = (
    "decline",
    "out_of_stock",
    "error",
    "latency",
    "compensation_failure",
    "duplicate",
    "out_of_order",
    "malformed",
    "process_kill",
    "broker_restart",
    "database_restart",
)
RESTARTS = {"broker_restart": "bus", "database_restart": "database"}  # kind -> the target it restarts
BUS = "bus"
KILL_POINTS = {"payment": "after_charge_before_ack", "inventory": "after_reserve_before_ack"}
COMPENSATIONS = {"payment": "refund", "inventory": "release"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
WORKLOAD = "workload"
RECOVERIES = ("redrive",)


class ScenarioError(ValueError):
    """A scenario file that cannot run: ``where`` is ``file:line``, ``field`` the JSON pointer of the value."""

    def __init__(self, source: str, line: int | None, pointer: str, message: str) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {pointer or '/'}: {message}")
        self.source = source
        self.line = line
        self.pointer = pointer
        self.message = message


@dataclass(frozen=True)
class Workload:
    orders: int = 40
    concurrency: int = 16
    seed: int = 7
    decline_rate: float = 0.0  # from the decline fault
    out_of_stock_rate: float = 0.0  # from the out_of_stock fault


@dataclass(frozen=True)
class Expect:
    completed: int | str = WORKLOAD
    cancelled: int | str = WORKLOAD
    intervention: int = 0
    seconds: float = 120.0


@dataclass(frozen=True)
class Fault:
    """One declared fault, as written (``line`` is where it starts), and the rule it makes, if any."""

    kind: str
    line: int | None
    rule: Rule | None = None  # None for the kinds that are not a service's failure
    rate: float = 0.0  # the share of orders (decline, out_of_stock) or of messages or calls it strikes
    target: str = ""  # duplicate, out_of_order: "bus", or "service.operation"
    seconds: float = 0.0  # out_of_order: how long a message is held back
    count: int = 0  # malformed: how many poison orders; process_kill: at which hit of the point
    point: str = ""  # process_kill: the crash point
    window: tuple[float, float] | None = None  # a restart: down from, back at (seconds after the start)

    def describe(self) -> str:
        if self.kind in RESTARTS and self.window is not None:
            what = (
                "the broker (a private NATS server)"
                if self.kind == "broker_restart"
                else "the database (a private PostgreSQL server holding the services, the engine and the bus "
                "catalog)"
            )
            return f"{what} killed at {self.window[0]:g} s, back at {self.window[1]:g} s"
        if self.kind == "process_kill":
            return (
                f"SIGKILL of the process running {self.target} at {self.point} (hit {self.count}), "
                "then restarted"
            )
        if self.kind == "malformed":
            return f"{self.count} malformed orders among the good ones"
        if self.kind == "duplicate":
            where = "messages on the bus" if self.target == BUS else f"calls of {self.target}"
            return f"duplicate: {self.rate:.0%} of the {where} delivered twice"
        if self.kind == "out_of_order":
            return f"out of order: {self.rate:.0%} of the messages on the bus held back {self.seconds:g} s"
        if self.rule is None:
            return f"{self.kind} ({self.rate:.0%} of orders)"
        r = self.rule
        when = (
            f"in [{r.window[0]:g}, {r.window[1]:g}) s"
            if r.window
            else f"calls {sorted(r.calls)}"
            if r.calls
            else f"{r.rate:.0%} of orders"
        )
        effect = f"{r.seconds:g} s latency" if r.effect == "latency" else f"{r.effect} error"
        return f"{r.service}.{r.operation}: {effect}, {when}"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str
    designs: tuple[str, ...]
    workload: Workload
    faults: tuple[Fault, ...]
    expect: Expect
    expect_by_design: Mapping[str, Expect] = field(default_factory=dict)
    recover: tuple[str, ...] = ()  # what a person does once the faults are over (``redrive``)
    retry_scale: float = 1.0  # every retry wait multiplied by this (Settings.retry_scale)

    def expectation(self, design: str) -> Expect:
        return self.expect_by_design.get(design, self.expect)

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(f.rule for f in self.faults if f.rule is not None)

    def of_kind(self, kind: str) -> list[Fault]:
        return [f for f in self.faults if f.kind == kind]


def load_scenario(path: Path) -> Scenario:
    """The scenario in ``path``; ScenarioError naming the file and line of what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(str(path), None, "", f"cannot read it: {error.strerror or error}") from None
    return parse_scenario(text, str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """The scenario ``text`` declares (``source`` names it in errors)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(
            source, mark.line + 1 if mark else None, "", f"not valid YAML: {problem}"
        ) from None
    if node is None:
        raise ScenarioError(
            source, 1, "", "the file is empty: a scenario is a mapping with name, workload ..."
        )
    return _Reader(source).scenario(_Value(node, ""))


class _Value:
    """A YAML node with its JSON pointer; ``line`` is 1-based."""

    def __init__(self, node: yaml.Node, pointer: str) -> None:
        self.node = node
        self.pointer = pointer
        self.line = node.start_mark.line + 1

    def items(self) -> dict[str, _Value]:
        assert isinstance(self.node, yaml.MappingNode)
        found: dict[str, _Value] = {}
        for key, value in self.node.value:
            found[str(key.value)] = _Value(value, f"{self.pointer}/{key.value}")
        return found

    def elements(self) -> list[_Value]:
        assert isinstance(self.node, yaml.SequenceNode)
        return [_Value(v, f"{self.pointer}/{i}") for i, v in enumerate(self.node.value)]

    def scalar(self) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(self.node, deep=True)
        finally:
            loader.dispose()


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, value: _Value, message: str) -> ScenarioError:
        return ScenarioError(self.source, value.line, value.pointer, message)

    def mapping(self, value: _Value, known: Sequence[str], required: Sequence[str] = ()) -> dict[str, _Value]:
        if not isinstance(value.node, yaml.MappingNode):
            raise self.fail(value, f"expected a mapping with {', '.join(known)}")
        items = value.items()
        for key, item in items.items():
            if key not in known:
                raise self.fail(item, f"unknown field {key!r} (known: {', '.join(known)})")
        for key in required:
            if key not in items:
                raise self.fail(value, f"missing field {key!r}")
        return items

    def string(self, value: _Value) -> str:
        found = value.scalar() if isinstance(value.node, yaml.ScalarNode) else None
        if not isinstance(found, str) or not found.strip():
            raise self.fail(value, "expected a non-empty string")
        return found

    def number(self, value: _Value, low: float, high: float, *, whole: bool = False) -> float:
        found = value.scalar() if isinstance(value.node, yaml.ScalarNode) else None
        kind = "a whole number" if whole else "a number"
        if (
            isinstance(found, bool)
            or not isinstance(found, int | float)
            or (whole and not isinstance(found, int))
        ):
            raise self.fail(value, f"expected {kind} from {low:g} to {high:g}, not {found!r}")
        if not low <= found <= high:
            raise self.fail(value, f"expected {kind} from {low:g} to {high:g}, not {found!r}")
        return float(found)

    def whole(self, value: _Value, low: int, high: int) -> int:
        return int(self.number(value, low, high, whole=True))

    def scenario(self, root: _Value) -> Scenario:
        known = ("name", "description", "designs", "workload", "faults", "expect", "recover", "retry_scale")
        items = self.mapping(root, known, required=("name", "workload"))
        name = self.string(items["name"])
        if not _NAME.match(name):
            raise self.fail(items["name"], f"{name!r}: a name is lowercase letters, digits and dashes")
        designs = self.designs(items["designs"]) if "designs" in items else DESIGNS
        workload = self.workload(items["workload"])
        faults = tuple(self.fault(f) for f in self.sequence(items["faults"])) if "faults" in items else ()
        for fault in faults:
            if fault.kind == "decline":
                workload = replace(workload, decline_rate=fault.rate)
            elif fault.kind == "out_of_stock":
                workload = replace(workload, out_of_stock_rate=fault.rate)
        kills = [f for f in faults if f.kind == "process_kill"]
        if len(kills) > 1:
            raise self.fail(items["faults"], "a scenario kills one process (one process_kill fault)")
        expect, by_design = self.expect(items["expect"]) if "expect" in items else (Expect(), {})
        for design in by_design:
            if design not in designs:
                raise self.fail(
                    items["expect"], f"expectations for {design!r}, which the scenario does not run"
                )
        recover = self.recover(items["recover"]) if "recover" in items else ()
        scale = self.number(items["retry_scale"], 0.001, 1.0) if "retry_scale" in items else 1.0
        return Scenario(
            recover=recover,
            retry_scale=scale,
            name=name,
            description=self.string(items["description"]) if "description" in items else "",
            source=self.source,
            designs=designs,
            workload=workload,
            faults=faults,
            expect=expect,
            expect_by_design=by_design,
        )

    def recover(self, value: _Value) -> tuple[str, ...]:
        actions = [self.string(v) for v in self.sequence(value)]
        for element, action in zip(value.elements(), actions, strict=True):
            if action not in RECOVERIES:
                raise self.fail(element, f"unknown recovery {action!r} (one of {', '.join(RECOVERIES)})")
        return tuple(actions)

    def sequence(self, value: _Value) -> list[_Value]:
        if not isinstance(value.node, yaml.SequenceNode):
            raise self.fail(value, "expected a list")
        return value.elements()

    def designs(self, value: _Value) -> tuple[str, ...]:
        names = [self.string(v) for v in self.sequence(value)]
        for element, name in zip(value.elements(), names, strict=True):
            if name not in DESIGNS:
                raise self.fail(element, f"unknown design {name!r} (one of {', '.join(DESIGNS)})")
        if not names:
            raise self.fail(value, "a scenario runs at least one design")
        return tuple(dict.fromkeys(names))

    def workload(self, value: _Value) -> Workload:
        items = self.mapping(value, ("orders", "concurrency", "seed"), required=("orders",))
        return Workload(
            orders=self.whole(items["orders"], 1, 100_000),
            concurrency=self.whole(items["concurrency"], 1, 10_000) if "concurrency" in items else 16,
            seed=self.whole(items["seed"], 0, 2**31) if "seed" in items else 7,
        )

    def restart_fault(self, kind: str, items: dict[str, _Value], value: _Value) -> Fault:
        """A broker or database restart: ``when: {window: [down, up]}``, and a target only if it is the
        one that kind restarts."""
        target = RESTARTS[kind]
        for key, item in items.items():
            if key == "target":
                if self.string(item) != target:
                    raise self.fail(item, f"a {kind} fault restarts the {target}, not {self.string(item)!r}")
            elif key not in ("kind", "when"):
                raise self.fail(item, f"a {kind} fault takes when: {{window: [down, up]}}, not {key}")
        when = self.when(items.get("when"), value)
        if set(when) != {"window"}:
            raise self.fail(value, f"a {kind} fault needs when: {{window: [down, up]}} (seconds)")
        return Fault(kind, value.line, target=target, window=when["window"])

    def fault(self, value: _Value) -> Fault:
        known = ("kind", "target", "mode", "when", "failures", "seconds", "count", "point")
        items = self.mapping(value, known, required=("kind",))
        kind = self.string(items["kind"])
        if kind not in KINDS:
            raise self.fail(items["kind"], f"unknown fault kind {kind!r} (one of {', '.join(KINDS)})")
        if kind in ("duplicate", "out_of_order", "malformed"):
            return self.delivery_fault(kind, items, value)
        if kind == "process_kill":
            return self.kill_fault(items, value)
        if kind in RESTARTS:
            return self.restart_fault(kind, items, value)
        if "count" in items:
            raise self.fail(items["count"], f"a {kind} fault has no count (that is malformed)")
        when = self.when(items.get("when"), value)
        if kind in ("decline", "out_of_stock"):
            for extra in ("target", "mode", "failures", "seconds"):
                if extra in items:
                    raise self.fail(items[extra], f"a {kind} fault takes only when.probability")
            if set(when) != {"probability"}:
                raise self.fail(value, f"a {kind} fault needs when: {{probability: ...}}")
            return Fault(kind, value.line, rate=float(when["probability"]))
        if "target" not in items:
            raise self.fail(value, f"kind {kind} needs a target (a service, or service.operation)")
        service, operation = self.target(items["target"], kind)
        mode = self.string(items["mode"]) if "mode" in items else "transient"
        if mode not in ("transient", "permanent"):
            raise self.fail(items["mode"], f"mode is transient or permanent, not {mode!r}")
        if kind == "latency":
            if "mode" in items:
                raise self.fail(items["mode"], "a latency fault has no mode")
            if "seconds" not in items:
                raise self.fail(value, "a latency fault needs seconds")
        elif "seconds" in items:
            raise self.fail(items["seconds"], f"a {kind} fault has no seconds (that is latency)")
        failures = self.whole(items["failures"], 1, 1000) if "failures" in items else 1
        try:
            rule = Rule(
                service,
                operation,
                "latency" if kind == "latency" else mode,
                rate=float(when.get("probability", 1.0)),
                calls=frozenset(int(n) for n in when.get("calls", ())),
                failures=failures,
                seconds=self.number(items["seconds"], 0, 3600) if "seconds" in items else 0.0,
                window=when.get("window"),
            )
        except ValueError as error:
            raise self.fail(value, str(error).removeprefix("faults: ")) from None
        return Fault(kind, value.line, rule=rule)

    def kill_fault(self, items: dict[str, _Value], value: _Value) -> Fault:
        """process_kill: the process running a step dies (SIGKILL) at a named point, then restarts."""
        for key, item in items.items():
            if key not in ("kind", "target", "point", "when"):
                raise self.fail(item, f"a process_kill fault takes target, point, when, not {key}")
        for key in ("target", "point"):
            if key not in items:
                raise self.fail(value, f"a process_kill fault needs {key}")
        target = self.string(items["target"])
        if target not in KILL_POINTS:
            raise self.fail(
                items["target"], f"the process to kill runs {' or '.join(KILL_POINTS)}, not {target!r}"
            )
        point = self.string(items["point"])
        if point != KILL_POINTS[target]:
            raise self.fail(items["point"], f"{target}'s process can be killed at {KILL_POINTS[target]}")
        when = self.when(items.get("when"), value)
        calls = when.get("calls", [1])
        if set(when) - {"calls"} or len(calls) != 1:
            raise self.fail(
                value, "a process is killed once: when: {calls: [N]} (the Nth time it reaches the point)"
            )
        return Fault("process_kill", value.line, target=target, point=point, count=int(calls[0]))

    def delivery_fault(self, kind: str, items: dict[str, _Value], value: _Value) -> Fault:
        """duplicate, out_of_order and malformed: what goes wrong with deliveries, not with a service."""
        allowed = {
            "duplicate": ("kind", "target", "when"),
            "out_of_order": ("kind", "target", "when", "seconds"),
            "malformed": ("kind", "count"),
        }[kind]
        for key, item in items.items():
            if key not in allowed:
                raise self.fail(item, f"a {kind} fault takes {', '.join(allowed[1:])}, not {key}")
        if kind == "malformed":
            if "count" not in items:
                raise self.fail(value, "a malformed fault needs a count (how many poison orders)")
            return Fault(kind, value.line, count=self.whole(items["count"], 1, 1000))
        when = self.when(items.get("when"), value)
        if set(when) != {"probability"}:
            raise self.fail(value, f"a {kind} fault needs when: {{probability: ...}}")
        target = self.string(items["target"]) if "target" in items else BUS
        if target != BUS:
            if kind == "out_of_order":
                raise self.fail(items["target"], "messages are reordered on the bus: target bus")
            service, operation = self.target(items["target"], kind)
            target = f"{service}.{operation}"
        if kind == "out_of_order" and "seconds" not in items:
            raise self.fail(value, "an out_of_order fault needs seconds (how long a message is held back)")
        seconds = self.number(items["seconds"], 0.001, 60.0) if "seconds" in items else 0.0
        return Fault(kind, value.line, rate=float(when["probability"]), target=target, seconds=seconds)

    def target(self, value: _Value, kind: str) -> tuple[str, str]:
        text = self.string(value)
        service, _, operation = text.partition(".")
        if service not in OPERATIONS:
            raise self.fail(value, f"unknown service {service!r} (one of {', '.join(OPERATIONS)})")
        if kind == "compensation_failure":
            if service not in COMPENSATIONS or operation not in ("", COMPENSATIONS[service]):
                raise self.fail(value, "a compensation failure targets payment.refund or inventory.release")
            return service, COMPENSATIONS[service]
        operation = operation or OPERATIONS[service][0]
        if operation not in OPERATIONS[service]:
            known = ", ".join(OPERATIONS[service])
            raise self.fail(value, f"{service} has no operation {operation!r} (one of {known})")
        return service, operation

    def when(self, value: _Value | None, fault: _Value) -> dict[str, Any]:
        if value is None:
            return {}
        items = self.mapping(value, ("probability", "calls", "window"))
        if len(items) != 1:
            raise self.fail(value, "when is one of probability, calls or window")
        found: dict[str, Any] = {}
        if "probability" in items:
            found["probability"] = self.number(items["probability"], 0.0, 1.0)
        if "calls" in items:
            calls = [self.whole(v, 1, 10**9) for v in self.sequence(items["calls"])]
            if not calls:
                raise self.fail(items["calls"], "calls lists at least one call number")
            found["calls"] = calls
        if "window" in items:
            bounds = [self.number(v, 0.0, 86_400.0) for v in self.sequence(items["window"])]
            if len(bounds) != 2 or bounds[0] >= bounds[1]:
                raise self.fail(items["window"], "a window is [start, end] in seconds, start before end")
            found["window"] = (bounds[0], bounds[1])
        return found

    def expect(self, value: _Value) -> tuple[Expect, dict[str, Expect]]:
        known = ("completed", "cancelled", "intervention", "seconds", "designs")
        items = self.mapping(value, known)
        base = self.expectation(items, Expect())
        by_design: dict[str, Expect] = {}
        if "designs" in items:
            for design, overrides in self.mapping(items["designs"], DESIGNS).items():
                by_design[design] = self.expectation(self.mapping(overrides, known[:-1]), base)
        return base, by_design

    def count(self, value: _Value) -> int | str:
        raw = value.scalar() if isinstance(value.node, yaml.ScalarNode) else None
        return WORKLOAD if raw == WORKLOAD else self.whole(value, 0, 100_000)

    def expectation(self, items: dict[str, _Value], base: Expect) -> Expect:
        found = base
        if "completed" in items:
            found = replace(found, completed=self.count(items["completed"]))
        if "cancelled" in items:
            found = replace(found, cancelled=self.count(items["cancelled"]))
        if "intervention" in items:
            found = replace(found, intervention=self.whole(items["intervention"], 0, 100_000))
        if "seconds" in items:
            found = replace(found, seconds=self.number(items["seconds"], 1.0, 3600.0))
        return found
