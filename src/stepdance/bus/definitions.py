"""What a running bus works from: the catalog's buses, rules, targets and archives, compiled (patterns,
input transformers, retry policies) and looked up by key. A snapshot is immutable; the runtime swaps in a
new one when the catalog changes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stepdance.bus import names
from stepdance.bus.catalog import ArchiveRecord, BusRecord, RuleRecord, TargetRecord
from stepdance.bus.cloudevents_target import MEMBER as CLOUDEVENTS
from stepdance.bus.cloudevents_target import CloudEventsDelivery
from stepdance.bus.errors import EventsError
from stepdance.bus.patterns import InvalidEventPattern, Pattern, compile_pattern
from stepdance.bus.retry import RetryPolicy
from stepdance.bus.targets import kind_of
from stepdance.bus.transform import TargetInput
from stepdance.settings import Settings

log = logging.getLogger(__name__)
ENABLED = "ENABLED"


@functools.lru_cache(maxsize=1024)
def compiled(pattern: str) -> Pattern:
    return compile_pattern(pattern)


@dataclass(frozen=True, slots=True)
class Rule:
    bus: str
    name: str
    arn: str
    pattern: Pattern | None  # None: a rule without an event pattern matches nothing
    enabled: bool

    def matches(self, event: dict[str, Any]) -> bool:
        return self.pattern is not None and self.pattern.matches(event)


@dataclass(frozen=True, slots=True)
class Target:
    bus: str
    rule: str
    id: str
    arn: str
    input: TargetInput
    retry: RetryPolicy
    shape: dict[str, Any] = field(compare=False)
    cloudevents: CloudEventsDelivery | None = None
    """How it receives CloudEvents: its own member, else STEPDANCE_CLOUDEVENTS for an HTTP target; None: the
    event as EventBridge sends it."""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.bus, self.rule, self.id)

    @property
    def group(self) -> str:
        return names.target_group(self.rule, self.id)


@dataclass(frozen=True, slots=True)
class Archive:
    name: str
    bus: str
    pattern: Pattern | None  # None: every event
    retention_days: int  # 0: kept forever
    created: float

    def wants(self, event: dict[str, Any], received: float) -> bool:
        return received >= self.created and (self.pattern is None or self.pattern.matches(event))


@dataclass(frozen=True, slots=True)
class Definitions:
    buses: frozenset[str] = frozenset({names.DEFAULT_BUS})
    rules: dict[tuple[str, str], Rule] = field(default_factory=dict)
    targets: dict[tuple[str, str, str], Target] = field(default_factory=dict)
    archives: dict[str, Archive] = field(default_factory=dict)

    def target(self, key: tuple[str, str, str]) -> tuple[Rule, Target] | None:
        found = self.targets.get(key)
        rule = self.rules.get(key[:2])
        return (rule, found) if found is not None and rule is not None else None

    def archives_of(self, bus: str) -> list[Archive]:
        return [a for a in self.archives.values() if a.bus == bus]

    @classmethod
    def build(
        cls,
        settings: Settings,
        buses: Sequence[BusRecord],
        rules: Sequence[RuleRecord],
        targets: Sequence[TargetRecord],
        archives: Sequence[ArchiveRecord],
    ) -> Definitions:
        built_rules = {(r.bus, r.name): _rule(settings, r) for r in rules}
        built_targets = {}
        for t in targets:
            target = _target(settings, t)
            if target is not None and (t.bus, t.rule) in built_rules:
                built_targets[target.key] = target
        return cls(
            buses=frozenset(b.name for b in buses) | {names.DEFAULT_BUS},
            rules=built_rules,
            targets=built_targets,
            archives={a.name: _archive(a) for a in archives if a.state == ENABLED},
        )


def _pattern(text: str | None) -> Pattern | None:
    if not text:
        return None
    try:
        return compiled(text)
    except InvalidEventPattern:  # stored by an older matcher; it matches nothing rather than everything
        log.warning("stored pattern no longer compiles: %s", text)
        return None


def _rule(settings: Settings, record: RuleRecord) -> Rule:
    arn = names.rule_arn(settings, record.bus, record.name)
    return Rule(record.bus, record.name, arn, _pattern(record.pattern), record.state.startswith(ENABLED))


def _target(settings: Settings, record: TargetRecord) -> Target | None:
    try:
        arn = record.shape["Arn"]
        if CLOUDEVENTS in record.shape:
            cloudevents: CloudEventsDelivery | None = CloudEventsDelivery.parse(record.shape[CLOUDEVENTS])
        elif settings.cloudevents and kind_of(arn) == "http":
            cloudevents = CloudEventsDelivery(mode=settings.cloudevents)
        else:
            cloudevents = None
        return Target(
            record.bus,
            record.rule,
            record.id,
            arn,
            TargetInput.parse(record.shape),
            RetryPolicy.parse(record.shape.get("RetryPolicy")),
            record.shape,
            cloudevents,
        )
    except (EventsError, KeyError) as error:
        log.warning("stored target %s of %s no longer parses: %s", record.id, record.rule, error)
        return None


def _archive(record: ArchiveRecord) -> Archive:
    return Archive(record.name, record.bus, _pattern(record.pattern), record.retention_days, record.created)
