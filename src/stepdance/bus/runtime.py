"""The bus: publishes events on a transport and, as a worker, delivers them to the targets it can serve.

::

    catalog = open_catalog("sqlite:///.stepdance/bus.db")
    async with Bus(catalog, transport, engine_client=client) as bus:
        bus.register("notify", notify)          # the target arn:aws:lambda:...:function:notify
        events = Client(bus)                    # boto3's events client: put_rule, put_targets, put_events...

Each bus is one topic; each target is a consumer group on its bus's topic, so the consumers of one target,
in any number of processes, share its events while every target sees all of them. A worker runs the
consumers of the targets it can serve (handlers registered in this process, HTTP endpoints, state
machines when it has an engine client), one archiver per bus with archives, and the replays waiting to
start; it re-reads the catalog every ``refresh_seconds`` (at once after a change made through this bus).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp

from stepdance import telemetry
from stepdance.aio import in_thread, wait_event
from stepdance.away import log_failure
from stepdance.bus import archiver, names, replay
from stepdance.bus import headers as h
from stepdance.bus.catalog import Catalog, DeadLetter
from stepdance.bus.cloudevents import CloudEvent
from stepdance.bus.cloudevents_target import event_of
from stepdance.bus.consumer import Consumer, ConsumerSettings
from stepdance.bus.definitions import Definitions, Target
from stepdance.bus.delivery import TargetConsumer
from stepdance.bus.envelope import (
    DEFAULT_MAX_ENTRY_BYTES,
    MAX_ENTRIES,
    EntryError,
    build_event,
    check_entry,
    entry_size,
)
from stepdance.bus.errors import EventsError, ValidationException, constraint
from stepdance.bus.ids import event_id as new_event_id
from stepdance.bus.retry import Backoff
from stepdance.bus.targets import (
    HTTP_TIMEOUT,
    BatchHandler,
    DeliveryContext,
    Handler,
    Handlers,
    TargetFailure,
    handler_name,
    kind_of,
    post,
    post_cloudevent,
    start_execution,
)
from stepdance.bus.transports import Message, Transport, TransportError
from stepdance.settings import Settings

if TYPE_CHECKING:
    from stepdance.engine import Client as EngineClient

log = logging.getLogger(__name__)
T = TypeVar("T")
PURGE_SECONDS = 3600.0
HTTP_CONNECTIONS = 64  # to all HTTP targets together


class Bus:
    def __init__(
        self,
        catalog: Catalog,
        transport: Transport,
        settings: Settings | None = None,
        *,
        engine_client: EngineClient | None = None,
        worker: bool = True,
        deliver_http: bool = True,
        clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        consumer_settings: ConsumerSettings | None = None,
        refresh_seconds: float = 1.0,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
        http_timeout: float = HTTP_TIMEOUT,
    ) -> None:
        self.catalog = catalog
        self.transport = transport
        self.settings = settings or Settings.from_env()
        telemetry.configure(self.settings)
        self.engine_client = engine_client
        self.worker = worker
        self.deliver_http = deliver_http
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.consumer_settings = consumer_settings or ConsumerSettings(
            ack_wait=self.settings.ack_wait_seconds
        )
        self.refresh_seconds = refresh_seconds
        self.max_entry_bytes = max_entry_bytes
        self.http_timeout = http_timeout
        self.handlers = Handlers()
        self.definitions = Definitions()
        self._refreshed = float("-inf")
        self._wake = asyncio.Event()
        self._tasks: dict[tuple[str, ...], asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._purged = 0.0
        # called after a dead letter is stored (e.g. to publish it to a Pub/Sub dead-letter topic); a hook's
        # failure is logged, the dead letter stays in the queue either way
        self.dead_letter_hooks: list[Callable[[DeadLetter, Target], Awaitable[None]]] = []

    # ------------------------------------------------------------------ lifecycle

    def register(self, name: str, fn: Handler) -> None:
        """Serve the target ``arn:aws:lambda:<region>:<account>:function:<name>`` with ``fn``."""
        self.handlers.register(name, fn)
        self.changed()

    def register_batch(self, name: str, fn: BatchHandler) -> None:
        """Serve the target ``name`` with ``fn``, called once per fetched batch with ``[(input, context),
        ...]``; it returns one outcome per item (None, or the exception that item failed with) or None when
        all are done. With :meth:`Inbox.each` the whole batch commits in one transaction."""
        self.handlers.register_batch(name, fn)
        self.changed()

    async def start(self) -> None:
        await self.store(self.catalog.ensure_bus, names.DEFAULT_BUS, self.clock())
        await self.refresh()
        if self.worker:
            self._loop_task = asyncio.create_task(self._run(), name="stepdance-bus")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._loop_task = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> Bus:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def store(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a catalog call off the loop."""
        return await in_thread(fn, *args, **kwargs)

    def changed(self) -> None:
        """The catalog changed: re-read it now rather than at the next refresh."""
        self._refreshed = float("-inf")
        self._wake.set()

    async def refresh(self) -> None:
        snapshot = await self.store(self.catalog.snapshot)
        self.definitions = Definitions.build(self.settings, *snapshot)
        self._refreshed = time.monotonic()
        if self.worker:
            self._reconcile()

    async def fresh(self) -> Definitions:
        """The definitions, re-read first when older than ``refresh_seconds``."""
        if time.monotonic() - self._refreshed > self.refresh_seconds:
            await self.refresh()
        return self.definitions

    async def _run(self) -> None:
        while True:
            await wait_event(self._wake, self.refresh_seconds)
            self._wake.clear()
            try:
                await self.refresh()
                await self._start_replays()
                if self.clock() - self._purged > PURGE_SECONDS:
                    self._purged = self.clock()
                    await archiver.purge(self)
            except Exception as error:
                log_failure(log, error, "refreshing the bus", f"trying again in {self.refresh_seconds}s")

    def _reconcile(self) -> None:
        consumers: dict[tuple[str, ...], Callable[[], Consumer]] = {}
        for key, target in self.definitions.targets.items():
            if self.can_serve(target):
                consumers[("target", *key)] = functools.partial(TargetConsumer, self, key)
        for bus in {a.bus for a in self.definitions.archives.values()}:
            consumers[("archive", bus)] = functools.partial(archiver.ArchiveConsumer, self, bus)
        for gone in [k for k in self._tasks if k[0] in ("target", "archive") and k not in consumers]:
            self._tasks.pop(gone).cancel()
        for task_key, make in consumers.items():
            if task_key not in self._tasks or self._tasks[task_key].done():
                name = f"stepdance-bus-{'/'.join(task_key)}"
                self._tasks[task_key] = asyncio.create_task(make().run(), name=name)

    async def _start_replays(self) -> None:
        for record in await self.store(self.catalog.list_replays, "", "STARTING", None, 1000):
            key = ("replay", record.name)
            if key not in self._tasks or self._tasks[key].done():
                self._tasks[key] = asyncio.create_task(replay.run(self, record.name))

    def can_serve(self, target: Target) -> bool:
        kind = kind_of(target.arn)
        if kind == "handler":
            return handler_name(target.arn) in self.handlers
        if kind == "http":
            return self.deliver_http
        return kind == "state-machine" and self.engine_client is not None

    # ------------------------------------------------------------------ publishing

    async def put_events(
        self,
        entries: Sequence[Mapping[str, Any]],
        *,
        ids: Sequence[str] | None = None,
        headers: Sequence[Mapping[str, str] | None] | None = None,
    ) -> dict[str, Any]:
        """PutEvents: each entry accepted or refused on its own (``Entries``, ``FailedEntryCount``).
        ``ids`` fixes the event ids (an outbox republishing after a crash keeps them); ``headers`` gives each
        entry's correlation id, causation id and traceparent."""
        _check_count(entries)
        return await self.publish_entries(entries, ids=ids, headers=headers, limit_total=True)

    async def publish_entries(
        self,
        entries: Sequence[Mapping[str, Any]],
        *,
        ids: Sequence[str] | None = None,
        headers: Sequence[Mapping[str, str] | None] | None = None,
        limit_total: bool = False,
        from_outbox: bool = False,
    ) -> dict[str, Any]:
        """PutEvents without the call's own limits (10 entries, their total size unless ``limit_total``):
        each entry is still checked on its own, and each bus's accepted entries go out in one transport
        publish. For the outbox relay, which moves many rows in one round trip (``from_outbox``: the rows'
        Details were checked and their headers made when they were written)."""
        definitions = await self.fresh()
        results: list[dict[str, Any]] = [{} for _ in entries]
        accepted: dict[str, list[tuple[int, Message]]] = {}
        buses: dict[str | None, str | EntryError] = {}  # EventBusName -> the bus, checked once per call
        total, now = 0, self.clock()
        published_at = repr(now)
        for index, entry in enumerate(entries):
            # an outbox row was checked when it was written, by the same rules
            checked = None if from_outbox else check_entry(entry, self.max_entry_bytes)
            if checked is not None:
                results[index] = checked.result()
                continue
            given_bus = entry.get("EventBusName")
            known = given_bus is None or isinstance(given_bus, str)  # else malformed, and unhashable maybe
            bus = buses.get(given_bus) if known else None
            if bus is None:
                bus = await self._check_bus(given_bus, definitions)
                if known:
                    buses[given_bus] = bus
            if isinstance(bus, EntryError):
                results[index] = bus.result()
                continue
            if limit_total:
                total += entry_size(entry)
            event_id = ids[index] if ids is not None else new_event_id()
            given = headers[index] if headers is not None else None
            carried = dict(given) if from_outbox and given else h.for_event(event_id, given, entry)
            message = self._message(entry, event_id, carried, now, published_at)
            accepted.setdefault(bus, []).append((index, message))
        if limit_total and total > self.max_entry_bytes:
            raise ValidationException("Total size of the entries in the request is over the limit.")
        for bus, items in accepted.items():
            try:
                await self.transport.publish(names.topic(bus), [message for _, message in items])
            except TransportError as failure:
                outcome = {"ErrorCode": "InternalFailure", "ErrorMessage": str(failure)}
                for index, _ in items:
                    results[index] = dict(outcome)
                continue
            for index, message in items:
                results[index] = {"EventId": message.id}
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    async def _check_bus(self, given: Any, definitions: Definitions) -> str | EntryError:
        """The bus an entry's EventBusName names, or why it is refused."""
        try:
            bus = names.bus_name(given)
        except EventsError as error:
            return EntryError("InvalidArgument", error.message)
        if bus in definitions.buses or await self.store(self.catalog.get_bus, bus) is not None:
            return bus
        return EntryError("ResourceNotFoundException", f"Event bus {bus} does not exist.")

    def _message(
        self,
        entry: Mapping[str, Any],
        event_id: str,
        carried: dict[str, str],
        now: float,
        published_at: str,
    ) -> Message:
        body = build_event(
            entry, event_id=event_id, now=now, account=self.settings.account, region=self.settings.region
        )
        carried[h.PUBLISHED_AT] = published_at
        return Message(id=event_id, body=body, key=carried.get(h.CORRELATION) or event_id, headers=carried)

    async def ensure_group(self, bus: str, group: str) -> None:
        """Create a consumer group now, so it keeps every event published from now on, even before any
        consumer of it runs."""
        subscription = await self.transport.subscribe(
            names.topic(bus), group, ack_wait=self.consumer_settings.ack_wait
        )
        await subscription.close()

    # ------------------------------------------------------------------ delivering

    async def invoke(
        self,
        target: Target,
        input_text: str | None,
        context: DeliveryContext,
        made: CloudEvent | None = None,
    ) -> None:
        """Deliver to ``target``; ``made``: the event as a CloudEvent, if already made."""
        kind = kind_of(target.arn)
        if kind == "handler":
            await self.handlers.invoke(handler_name(target.arn) or "", input_text, context)
        elif kind == "http":
            cloud = target.cloudevents
            if cloud is None:
                await post(self._http_client(), target.arn, input_text, context)
                return
            whole = target.input.whole_event
            event = (
                made
                if made is not None and whole
                else event_of(context.event, context.headers, target.bus, input_text, whole)
            )
            await post_cloudevent(
                self._http_client(),
                target.arn,
                event,
                cloud.mode,
                traceparent=context.span or context.headers.get(h.TRACEPARENT),
                retry_every_failure=cloud.retry_every_failure,
            )
        elif kind == "state-machine" and self.engine_client is not None:
            await start_execution(self.engine_client, target.arn, input_text, context)
        else:
            raise TargetFailure("InvalidTarget", f"this bus cannot deliver to {target.arn}", retryable=False)

    def _http_client(self) -> aiohttp.ClientSession:
        if self._http is None:
            # aiohttp's, not httpx's: with a batch of POSTs in flight httpx's pool cost more CPU than the
            # rest of the delivery (bench/eventarc.py: 300 against 6,000 events/s for the receiver alone)
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.http_timeout),
                connector=aiohttp.TCPConnector(limit=HTTP_CONNECTIONS),
            )
        return self._http


def _check_count(entries: Sequence[Any]) -> None:
    if not isinstance(entries, Sequence) or isinstance(entries, str | bytes):
        raise constraint(entries, "entries", "Member must not be null")
    if len(entries) < 1:
        raise constraint("[]", "entries", "Member must have length greater than or equal to 1")
    if len(entries) > MAX_ENTRIES:
        raise constraint(
            "[PutEventsRequestEntry]",
            "entries",
            f"Member must have length less than or equal to {MAX_ENTRIES}",
        )
