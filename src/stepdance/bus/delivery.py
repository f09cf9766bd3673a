"""Delivery to one target: the consumer of the target's group on its bus's topic.

For each message: skip what is not this target's (a redrive for another target, a replay for other rules, a
disabled rule, an event the pattern does not match), make the target's input, invoke it, then ack; on a
retriable failure nack with a back-off delay, until ``MaximumRetryAttempts`` or ``MaximumEventAgeInSeconds``
is exhausted; then, or at once for a failure that is not retriable, write a dead letter and ack. A message
that is not an event (a poison message) is dead-lettered with the reason and the consumer goes on.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind

from stepdance import telemetry
from stepdance.bus import headers as h
from stepdance.bus import names
from stepdance.bus.catalog import DeadLetter
from stepdance.bus.cloudevents import CloudEvent, CloudEventError
from stepdance.bus.cloudevents_target import event_of
from stepdance.bus.consumer import Consumer
from stepdance.bus.definitions import Rule, Target
from stepdance.bus.envelope import iso_time, parse_event
from stepdance.bus.targets import DeliveryContext, TargetFailure, handler_name
from stepdance.bus.transform import Delivered
from stepdance.bus.transports import Delivery
from stepdance.bus.transports.common import ack_all

if TYPE_CHECKING:
    from stepdance.bus.runtime import Bus

log = logging.getLogger(__name__)
MAX_AGE = "MaximumEventAgeInSeconds"
MAX_ATTEMPTS = "MaximumRetryAttempts"


class TargetConsumer(Consumer):
    def __init__(self, bus: Bus, key: tuple[str, str, str]) -> None:
        super().__init__(
            bus.transport, names.topic(key[0]), names.target_group(key[1], key[2]), bus.consumer_settings
        )
        self.bus = bus
        self.key = key

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        ready: list[_Ready] = []
        skipped: list[Delivery] = []  # not this target's: acked together
        settling: list[Awaitable[None]] = []  # dead letters, and nacks after a bug
        found, now = self.bus.definitions.target(self.key), self.bus.clock()
        for delivery in deliveries:
            try:
                outcome = self._prepare(delivery, found, now)
            except Exception:
                log.exception("delivery to %s failed unexpectedly", self.group)
                settling.append(delivery.nack(self.bus.consumer_settings.reconnect_seconds))
                continue
            if isinstance(outcome, _Ready):
                ready.append(outcome)
            elif outcome is None:
                skipped.append(delivery)
            else:
                settling.append(self._guarded(outcome, delivery))
        if skipped:
            self._log_failed_acks(await ack_all(skipped))
        if settling:
            await asyncio.gather(*settling)
        if not ready:
            return
        name = handler_name(ready[0].target.arn)
        if name is not None and self.bus.handlers.is_batch(name):
            await self._batched(name, ready)
        else:
            await asyncio.gather(*(self._guarded(self._single(r), r.delivery) for r in ready))

    async def _batched(self, name: str, ready: list[_Ready]) -> None:
        items = [(r.input_text, r.context, r.input_text is r.text) for r in ready]
        try:
            outcomes = await self.bus.handlers.invoke_batch(name, items)
        except Exception:
            log.exception("delivery to %s failed unexpectedly", self.group)
            await asyncio.gather(
                *(r.delivery.nack(self.bus.consumer_settings.reconnect_seconds) for r in ready)
            )
            return
        # the usual outcome, all handled: the acks go out together (one round trip on most transports)
        pairs = list(zip(ready, outcomes, strict=True))
        for r, o in pairs:
            self._traced(r, o)
        failed = [self._guarded(self._settle(r, o), r.delivery) for r, o in pairs if o is not None]
        self._log_failed_acks(await ack_all([r.delivery for r, o in pairs if o is None]))
        if failed:
            await asyncio.gather(*failed)

    def _log_failed_acks(self, outcomes: list[Exception | None]) -> None:
        for error in outcomes:
            if error is not None:  # the transport takes the delivery back after ack_wait
                log.warning("acking a delivery to %s failed: %s", self.group, error)

    async def _single(self, ready: _Ready) -> None:
        try:
            await self.bus.invoke(ready.target, ready.input_text, ready.context, ready.cloud)
        except TargetFailure as failure:
            self._traced(ready, failure)
            await self._settle(ready, failure)
            return
        self._traced(ready, None)
        await self._settle(ready, None)

    def _traced(self, ready: _Ready, failure: TargetFailure | None) -> None:
        """Record the delivery's span: from the moment it was ready to the target's answer, under the
        span that published the event; the target's own spans and the events it caused are its children."""
        if ready.span_id == 0:
            return
        context, target = ready.context, ready.target
        telemetry.record_span(
            f"deliver {context.event.get('detail-type', '')} to {target.rule}/{target.id}",
            parent=context.headers.get(h.TRACEPARENT),
            span_id=ready.span_id,
            start=ready.began,
            end=self.bus.clock(),
            kind=SpanKind.CONSUMER,
            attributes={
                "stepdance.component": "bus",
                "messaging.message.id": context.event_id,
                "messaging.message.conversation_id": context.headers.get(h.CORRELATION, ""),
                "messaging.destination.name": f"{target.bus}/{target.rule}",
                "bus.target": target.id,
                "bus.attempt": context.attempt,
            },
            error=None if failure is None else str(failure),
        )

    async def _settle(self, ready: _Ready, failure: TargetFailure | None) -> None:
        if failure is None:
            await ready.delivery.ack()
        else:
            await self._failed(
                ready.delivery, ready.target, ready.text, failure, ready.published, self.bus.clock()
            )

    async def _guarded(self, work: Awaitable[None], delivery: Delivery) -> None:
        try:
            await work
        except Exception:  # a bug or a store outage: try the message again later rather than lose it
            log.exception("delivery to %s failed unexpectedly", self.group)
            await delivery.nack(self.bus.consumer_settings.reconnect_seconds)

    def _prepare(
        self, delivery: Delivery, found: tuple[Rule, Target] | None, now: float
    ) -> _Ready | Awaitable[None] | None:
        """The delivery ready to invoke, what settles it here (a dead letter), or None: not this target's,
        to be acked. ``found``: the target and its rule now; ``now``: the batch's time."""
        message = delivery.message
        only = message.headers.get(h.ONLY_GROUP)
        if (only and only != self.group) or found is None:
            return None
        rule, target = found
        try:
            text = message.body.decode()
        except UnicodeDecodeError:
            text = message.body.decode(errors="replace")
            return self._dead(
                delivery, target, text, None, TargetFailure("MalformedEvent", "the message is not UTF-8")
            )
        event = parse_event(text)
        if isinstance(event, str):
            return self._dead(delivery, target, text, None, TargetFailure("MalformedEvent", event))
        if not only and not self._wanted(rule, event, message.headers):
            return None
        delivering = target.cloudevents
        cloud = None
        if delivering is not None and delivering.filters:
            try:
                cloud = event_of(event, h.carried(message.headers), target.bus, None, True)
            except CloudEventError as error:  # not a CloudEvent (e.g. a source that is no URI-reference)
                return self._dead(delivery, target, text, None, TargetFailure("MalformedEvent", str(error)))
            if not delivering.wants(cloud):
                return None
        return self._ready(delivery, rule, target, event, text, now, cloud)

    @staticmethod
    def _wanted(rule: Rule, event: dict[str, Any], headers: dict[str, str]) -> bool:
        replay_rules = headers.get(h.REPLAY_RULES)
        if replay_rules and replay_rules != "*" and rule.name not in replay_rules.split(","):
            return False
        return rule.enabled and rule.matches(event)

    def _ready(
        self,
        delivery: Delivery,
        rule: Rule,
        target: Target,
        event: dict[str, Any],
        text: str,
        now: float,
        cloud: CloudEvent | None = None,
    ) -> _Ready | Awaitable[None]:
        published = _published_at(delivery, now)
        policy = target.retry
        carried = h.carried(delivery.message.headers)
        span_id = telemetry.new_span_id() if telemetry.enabled() else 0
        span = (
            telemetry.start_context("", parent=carried.get(h.TRACEPARENT), span_id=span_id)
            if span_id
            else None
        )
        context = DeliveryContext(event, target.bus, target.rule, target.id, delivery.attempt, carried, span)
        if now - published > policy.maximum_event_age:
            age = TargetFailure("EventExpired", f"the event is {now - published:.0f} s old")
            return self._dead(delivery, target, text, MAX_AGE, age, attempts=delivery.attempt - 1)
        ready = _Ready(delivery, target, text, context, None, published, span_id, now, cloud)
        delivered = (  # only an input template reads it: most targets take the event as it is
            Delivered(rule.arn, rule.name, iso_time(published, millis=True))
            if target.input.input_template is not None
            else None
        )
        try:
            ready.input_text = target.input.render(event, text, delivered)
        except TargetFailure as failure:
            return self._settle(ready, failure)
        return ready

    async def _failed(
        self,
        delivery: Delivery,
        target: Target,
        text: str,
        failure: TargetFailure,
        published: float,
        now: float,
    ) -> None:
        policy = target.retry
        if not failure.retryable:
            await self._dead(delivery, target, text, None, failure)
        elif policy.exhausted(delivery.attempt):
            await self._dead(delivery, target, text, MAX_ATTEMPTS, failure)
        else:
            cloud = target.cloudevents
            backoff = cloud.backoff if cloud is not None and cloud.backoff is not None else self.bus.backoff
            delay = backoff.delay(delivery.attempt)
            if now + delay - published > policy.maximum_event_age:
                await self._dead(delivery, target, text, MAX_AGE, failure)
            else:
                log.info(
                    "%s attempt %d failed (%s); retrying in %.3fs",
                    self.group,
                    delivery.attempt,
                    failure,
                    delay,
                )
                await delivery.nack(delay)

    async def _dead(
        self,
        delivery: Delivery,
        target: Target,
        text: str,
        exhausted: str | None,
        failure: TargetFailure,
        *,
        attempts: int | None = None,
    ) -> None:
        """Record a dead letter (``attempts``: the target's invocations, this delivery's number unless
        told), then ack."""
        event = parse_event(text)
        letter = DeadLetter(
            id=f"{self.bus.clock():017.6f}-{uuid.uuid4().hex[:12]}",
            bus=target.bus,
            rule=target.rule,
            target_id=target.id,
            target_arn=target.arn,
            event_id=event["id"] if isinstance(event, dict) else None,
            body=text,
            error_code=failure.code,
            error_message=failure.message,
            attempts=delivery.attempt if attempts is None else attempts,
            exhausted=exhausted,
            created=self.bus.clock(),
            headers=dict(delivery.message.headers),
        )
        log.warning("dead letter for %s: %s (%s)", self.group, failure, exhausted or "not retried")
        await self.bus.store(self.bus.catalog.add_dead_letter, letter)
        for hook in self.bus.dead_letter_hooks:
            try:
                await hook(letter, target)
            except Exception:
                log.exception("a dead-letter hook failed for %s", self.group)
        await delivery.ack()


@dataclass(slots=True)
class _Ready:
    """A delivery for this target, its input made, waiting to be invoked."""

    delivery: Delivery
    target: Target
    text: str
    context: DeliveryContext
    input_text: str | None
    published: float
    span_id: int = 0  # the delivery's span (0: tracing is off)
    began: float = 0.0
    cloud: CloudEvent | None = None  # the event as a CloudEvent, when the target's filters needed it


def _published_at(delivery: Delivery, default: float) -> float:
    try:
        return float(delivery.message.headers[h.PUBLISHED_AT])
    except (KeyError, ValueError):
        return default
