"""What the transports share: server-safe names, the message envelope in headers, settle-once deliveries and
a batcher that turns many concurrent calls into one round trip (one commit, one XACK)."""

from __future__ import annotations

import asyncio
import json
import re
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, cast

import orjson

from stepdance.bus.transports.base import Delivery, Message, TransportError

T = TypeVar("T")
R = TypeVar("R")
D = TypeVar("D", bound="SettleOnce")

_UNSAFE = re.compile(r"[^A-Za-z0-9-]")

# Header names the transports use for the envelope; a message's own headers must not use them.
ID_HEADER = "stepdance-id"
KEY_HEADER = "stepdance-key"


def safe_name(name: str) -> str:
    """``name`` with every character other than a letter, a digit or ``-`` written as ``_XX`` (UTF-8 hex):
    fits NATS stream, subject-token and durable names, RabbitMQ queue names and Redis keys, and two
    different names never map to one."""
    if not name:
        raise TransportError("Topic and group names must not be empty")
    return _UNSAFE.sub(lambda m: "".join(f"_{b:02X}" for b in m.group().encode()), name)


def encode_headers(headers: dict[str, str]) -> str:
    return json.dumps(headers, separators=(",", ":")) if headers else ""


def decode_headers(text: str | bytes | None) -> dict[str, str]:
    return dict(json.loads(text)) if text else {}


def envelope(message: Message) -> dict[str, str]:
    """The message's headers plus its id and key, for transports that carry them as headers."""
    reserved = {ID_HEADER, KEY_HEADER} & message.headers.keys()
    if reserved:
        raise TransportError(f"Header names {sorted(reserved)} are reserved for the transport")
    headers = dict(message.headers)
    headers[ID_HEADER] = message.id
    if message.key is not None:
        headers[KEY_HEADER] = message.key
    return headers


def frame(message: Message) -> bytes:
    """The message as one payload: its id, key and headers as a JSON line, then its body. For transports
    whose client costs more per header or field than per byte (Redis, NATS)."""
    return orjson.dumps({"i": message.id, "k": message.key, "h": message.headers}) + b"\n" + message.body


def unframe(data: bytes) -> Message | None:
    """The message :func:`frame` made, or None when ``data`` is not one."""
    head_text, newline, body = data.partition(b"\n")  # orjson never writes a raw newline
    if not newline or not head_text.startswith(b'{"i":'):
        return None
    try:
        head = orjson.loads(head_text)
        return Message(id=head["i"], body=body, key=head["k"], headers=head["h"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


def from_envelope(headers: dict[str, str], body: bytes) -> Message:
    own = {k: v for k, v in headers.items() if k not in (ID_HEADER, KEY_HEADER)}
    return Message(id=headers.get(ID_HEADER, ""), body=body, key=headers.get(KEY_HEADER), headers=own)


class SettleOnce(Delivery):
    """A delivery acked or nacked at most once: later calls are ignored, so a consumer that settles twice
    (or after the transport took the delivery back) cannot disturb whoever holds the message now."""

    def __init__(self, message: Message, attempt: int) -> None:
        self.message = message
        self.attempt = attempt
        self.settled = False

    async def ack(self) -> None:
        if not self.settled:
            self.settled = True
            try:
                await self._ack()
            except BaseException:
                self.settled = False  # it did not happen: the caller may try again
                raise

    @classmethod
    def _ack_together(cls, deliveries: Sequence[SettleOnce]) -> Awaitable[None] | None:
        """One awaitable acking all ``deliveries`` (of this class, not settled) in as few round trips as
        the transport allows, or None when it has no joint ack: then each is acked on its own."""
        return None

    async def nack(self, delay: float = 0.0) -> None:
        if not self.settled:
            self.settled = True
            try:
                await self._nack(max(0.0, delay))
            except BaseException:
                self.settled = False
                raise

    @abstractmethod
    async def _ack(self) -> None: ...

    @abstractmethod
    async def _nack(self, delay: float) -> None: ...


def acked_per_subscription(
    deliveries: Sequence[SettleOnce],
    kind: type[D],
    subscription_of: Callable[[D], Any],
    ack: Callable[[Any, list[D]], Awaitable[Any]],
) -> Awaitable[None] | None:
    """A :meth:`SettleOnce._ack_together` for transports that ack per subscription: ``ack(subscription, its
    deliveries)`` once for each subscription, concurrently; None when a delivery is not a ``kind``."""
    groups: dict[Any, list[D]] = {}
    for delivery in deliveries:
        if not isinstance(delivery, kind):
            return None
        groups.setdefault(subscription_of(delivery), []).append(delivery)

    async def acked() -> None:
        await asyncio.gather(*(ack(subscription, group) for subscription, group in groups.items()))

    return acked()


class Batcher(Generic[T, R]):
    """Concurrent ``submit(item)`` calls that arrive while a flush runs are flushed together next: one call
    of ``flush(items) -> results`` (same length and order) per batch. A flush that raises fails its batch."""

    def __init__(self, flush: Callable[[Sequence[T]], Awaitable[Sequence[R]]]) -> None:
        self._flush = flush
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    def submit(self, item: T) -> asyncio.Future[R]:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run())
        return future

    async def drain(self) -> None:
        """Wait until everything submitted so far is flushed."""
        while self._runner is not None and not self._runner.done():
            await asyncio.shield(self._runner)

    async def _run(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self._flush([item for item, _ in batch])
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


async def ack_all(deliveries: Sequence[Delivery]) -> list[Exception | None]:
    """Ack every delivery; per delivery None or the error its ack failed with. Deliveries of one transport
    go together (:meth:`SettleOnce._ack_together`: one XACK, one write, one commit), in this one task: a
    task per ack costs more than the ack on the fast transports."""
    outcomes: list[Exception | None] = [None] * len(deliveries)
    kinds: dict[type[SettleOnce], list[int]] = {}
    alone: list[int] = []
    for index, delivery in enumerate(deliveries):
        if not isinstance(delivery, SettleOnce):
            alone.append(index)
        elif not delivery.settled:
            kinds.setdefault(type(delivery), []).append(index)
    for kind, indexes in kinds.items():
        group = [cast(SettleOnce, deliveries[i]) for i in indexes]
        together = kind._ack_together(group)
        if together is None:
            alone += indexes
            continue
        for delivery in group:
            delivery.settled = True
        try:
            await together
        except Exception as error:
            for index, delivery in zip(indexes, group, strict=True):
                delivery.settled = False  # it did not happen: the caller may try again
                outcomes[index] = error
    for index in alone:
        try:
            await deliveries[index].ack()
        except Exception as error:
            outcomes[index] = error
    return outcomes
