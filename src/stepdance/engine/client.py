"""A Step Functions client over the engine: boto3's ``stepfunctions`` method names, arguments and shapes.

Methods are ``async`` and take boto3's keyword arguments (``await client.start_execution(stateMachineArn=...,
input=...)``); they return what boto3 returns (camelCase keys, datetimes) and raise the errors AWS raises
(:mod:`stepdance.engine.errors`). :class:`stepdance.engine.sync.SyncClient` offers the same calls blocking.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from stepdance import telemetry
from stepdance.asl.protocol import (
    RedriveRequested,
    StopRequested,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
)
from stepdance.asl.validate import is_valid, validate_text
from stepdance.engine import arns, shapes
from stepdance.engine.errors import (
    ExecutionNotRedrivable,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidOutput,
    StateMachineAlreadyExists,
    StateMachineTypeNotSupported,
    ValidationException,
    from_store,
)
from stepdance.engine.languages import WORKFLOWS, LanguageError, Program, compile_text, language_of
from stepdance.engine.runtime import Engine
from stepdance.engine.signals import encode
from stepdance.gcw.syntax import validate as validate_workflows
from stepdance.store import (
    ActivityAlreadyExists,
    ActivityRecord,
    ExecutionAlreadyExists,
    InvalidPageToken,
    StateMachineRecord,
    StoreError,
    TaskRecord,
)
from stepdance.store import StateMachineAlreadyExists as StoreMachineExists
from stepdance.store.records import REDRIVABLE

T = TypeVar("T")
MAX_PAYLOAD = 262_144
ACTIVITY_POLL_SECONDS = 60.0
MACHINE_CACHE_SECONDS = 1.0
SYNC_SECONDS = 300.0
SYNC_KEYS = (
    "executionArn",
    "stateMachineArn",
    "name",
    "startDate",
    "stopDate",
    "status",
    "input",
    "inputDetails",
    "output",
    "outputDetails",
    "error",
    "cause",
)


class Client:
    def __init__(self, engine: Engine, *, activity_poll_seconds: float = ACTIVITY_POLL_SECONDS) -> None:
        self.engine = engine
        self.store = engine.store
        self.settings = engine.settings
        self.activity_poll_seconds = activity_poll_seconds
        self._machines: dict[str, tuple[float, StateMachineRecord]] = {}
        self._closing = False

    async def _store(self, subject: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await self.engine.call(fn, *args, **kwargs)
        except StoreError as error:
            raise from_store(error, subject) from error

    # ------------------------------------------------------------------ state machines

    async def create_state_machine(
        self, *, name: str, definition: str, roleArn: str, type: str = "STANDARD", **_: Any
    ) -> dict[str, Any]:
        arns.check_name(name)
        if type != "STANDARD":
            raise StateMachineTypeNotSupported(f"State machine type not supported: '{type}'")
        _parse(definition)
        arn = arns.make(self.settings, "stateMachine", name)
        record = StateMachineRecord(
            arn, name, definition, roleArn, self.engine.clock(), uuid.uuid4().hex, type
        )
        try:
            await self.engine.call(self.store.create_state_machine, record)
        except StoreMachineExists:
            existing = await self._store(arn, self.store.get_state_machine, arn)
            if (existing.definition, existing.role_arn) != (definition, roleArn):
                raise StateMachineAlreadyExists(f"State Machine Already Exists: '{arn}'") from None
            record = existing
        except StoreError as error:
            raise from_store(error, arn) from error
        return {"stateMachineArn": arn, "creationDate": shapes.when(record.creation_date)}

    async def describe_state_machine(self, *, stateMachineArn: str, **_: Any) -> dict[str, Any]:
        arn = arns.check(stateMachineArn, "stateMachine")
        return shapes.state_machine(await self._store(arn, self.store.get_state_machine, arn))

    async def update_state_machine(
        self, *, stateMachineArn: str, definition: str | None = None, roleArn: str | None = None, **_: Any
    ) -> dict[str, Any]:
        arn = arns.check(stateMachineArn, "stateMachine")
        if definition is None and roleArn is None:
            raise ValidationException("Either the definition or the roleArn must be specified")
        if definition is not None:
            _parse(definition)
        current = await self._store(arn, self.store.get_state_machine, arn)
        updated = await self._store(
            arn,
            self.store.update_state_machine,
            arn,
            definition=definition if definition is not None else current.definition,
            role_arn=roleArn if roleArn is not None else current.role_arn,
            revision_id=uuid.uuid4().hex,
            update_date=self.engine.clock(),
        )
        self._machines.pop(arn, None)
        return {"updateDate": shapes.when(updated.update_date or 0.0), "revisionId": updated.revision_id}

    async def delete_state_machine(self, *, stateMachineArn: str) -> dict[str, Any]:
        arn = arns.check(stateMachineArn, "stateMachine")
        await self._store(arn, self.store.delete_state_machine, arn)
        self._machines.pop(arn, None)
        return {}

    async def list_state_machines(
        self, *, maxResults: int = 0, nextToken: str | None = None
    ) -> dict[str, Any]:
        page = await self._store(
            nextToken or "", self.store.list_state_machines, _limit(maxResults), nextToken
        )
        return _paged(
            {"stateMachines": [shapes.state_machine_item(sm) for sm in page.items]}, page.next_token
        )

    # ------------------------------------------------------------------ executions

    async def start_execution(
        self,
        *,
        stateMachineArn: str,
        name: str | None = None,
        input: str | None = None,
        traceHeader: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """``traceHeader``: the trace the execution joins, as W3C ``traceparent`` or AWS X-Ray's
        ``Root=1-...;Parent=...;Sampled=1`` (default: the caller's current span, else a new trace)."""
        sm_arn = arns.check(stateMachineArn, "stateMachine")
        if traceHeader is not None and len(traceHeader) > 256:
            raise InvalidExecutionInput("traceHeader: at most 256 characters")
        name = arns.check_name(name if name is not None else str(uuid.uuid4()))
        input_text = "{}" if input is None else input
        _check_size("input", input_text)
        try:
            json.loads(input_text)
        except ValueError:
            raise InvalidExecutionInput(f"Invalid Execution Input: '{input_text}'") from None
        sm = await self._machine(sm_arn)
        arn = arns.make(self.settings, "execution", sm.name, name)
        try:
            record = await self.engine.launch(
                sm, name, input_text, arn, telemetry.from_trace_header(traceHeader)
            )
        except ExecutionAlreadyExists:
            return await self._existing(arn, input_text)
        except StoreError as error:
            raise from_store(error, arn) from error
        return {"executionArn": arn, "startDate": shapes.when(record.start_date)}

    async def start_sync_execution(
        self,
        *,
        stateMachineArn: str,
        name: str | None = None,
        input: str | None = None,
        traceHeader: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Start the execution and answer when it ends, as AWS does for Express workflows; here any
        state machine may be run this way (a Standard one keeps its history). An execution still running
        after :data:`SYNC_SECONDS` (AWS's limit for synchronous Express executions) is answered as
        ``TIMED_OUT`` but runs on."""
        started = await self.start_execution(
            stateMachineArn=stateMachineArn, name=name, input=input, traceHeader=traceHeader
        )
        arn = str(started["executionArn"])
        try:
            record = await self.engine.wait(arn, seconds=SYNC_SECONDS)
        except TimeoutError:
            record = await self._store(arn, self.store.describe_execution, arn)
        shaped = shapes.execution(record)
        answer = {key: shaped[key] for key in SYNC_KEYS if key in shaped}
        if answer["status"] == "RUNNING":
            answer.update(status="TIMED_OUT", stopDate=shapes.when(self.engine.clock()))
        answer.setdefault("stopDate", shapes.when(record.stop_date or self.engine.clock()))
        answer["billingDetails"] = {"billedMemoryUsedInMB": 0, "billedDurationInMilliseconds": 0}
        return answer

    async def validate_state_machine_definition(
        self, *, definition: str, severity: str = "ERROR", maxResults: int = 0, **_: Any
    ) -> dict[str, Any]:
        """Every problem of ``definition`` as AWS's diagnostics (``severity`` WARNING lists warnings too);
        ``result`` is FAIL when one is an error."""
        if language_of(definition) == WORKFLOWS:
            return _workflows_diagnostics(definition, maxResults or 100)
        problems = validate_text(definition)
        shown = [p for p in problems if severity == "WARNING" or p.severity == "ERROR"]
        limit = maxResults or 100
        diagnostics = [
            {"severity": p.severity, "code": p.code, "message": p.message, "location": p.location or "/"}
            for p in shown[:limit]
        ]
        return {
            "result": "OK" if is_valid(problems) else "FAIL",
            "diagnostics": diagnostics,
            "truncated": len(shown) > limit,
        }

    async def _existing(self, arn: str, input_text: str) -> dict[str, Any]:
        """The original answer when the same name and input are started again while it runs (AWS's
        idempotency); ExecutionAlreadyExists when the name is taken otherwise."""
        record = await self._store(arn, self.store.describe_execution, arn)
        if record.status == "RUNNING" and record.input == input_text:
            return {"executionArn": arn, "startDate": shapes.when(record.start_date)}
        raise from_store(ExecutionAlreadyExists(arn), arn)

    async def _machine(self, arn: str) -> StateMachineRecord:
        """The state machine, read at most once a second per machine: AWS too may start executions on the
        previous definition for a moment after an update."""
        now = self.engine.clock()
        cached = self._machines.get(arn)
        if cached is not None and now - cached[0] < MACHINE_CACHE_SECONDS:
            return cached[1]
        sm = await self._store(arn, self.store.get_state_machine, arn)
        self._machines[arn] = (now, sm)
        return sm

    async def describe_execution(self, *, executionArn: str, **_: Any) -> dict[str, Any]:
        arn = arns.check(executionArn, "execution")
        return shapes.execution(await self._store(arn, self.store.describe_execution, arn))

    async def stop_execution(
        self, *, executionArn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        arn = arns.check(executionArn, "execution")
        record = await self._store(arn, self.store.describe_execution, arn)
        if record.status == "RUNNING":
            await self._store(
                arn, self.store.add_signal, arn, encode(StopRequested(error, cause)), self.engine.clock()
            )
            self.engine.signals_queued()
            # Give the owner a moment to apply it; if it is busy elsewhere, answer anyway, as AWS does.
            with contextlib.suppress(TimeoutError):
                record = await self.engine.wait(arn, seconds=2 * self.settings.poll_seconds + 1.0)
        return {"stopDate": shapes.when(record.stop_date or self.engine.clock())}

    async def redrive_execution(self, *, executionArn: str, **_: Any) -> dict[str, Any]:
        arn = arns.check(executionArn, "execution")
        now = self.engine.clock()
        await self._check_redrivable(arn, now)
        record = await self._store(
            arn,
            self.store.redrive_execution,
            arn,
            owner=self.engine.owner if self.engine.worker else None,
            lease_until=now + self.settings.lease_seconds if self.engine.worker else 0.0,
            now=now,
            signal=encode(RedriveRequested()),
        )
        await self.engine.adopt([record])
        return {"redriveDate": shapes.when(record.redrive_date or now)}

    async def _check_redrivable(self, arn: str, now: float) -> None:
        """Ask the interpreter (a pure dry run on a copy of the snapshot) whether it can resume the
        execution, before the store reopens it: an execution it cannot resume must stay as it ended."""
        record = await self._store(arn, self.store.get_execution, arn)
        if record.status in REDRIVABLE and record.snapshot is not None:
            definition = await self.engine.definition(record.state_machine_arn, record.revision_id)
            if definition.advance(record.snapshot, RedriveRequested(), now).status == "RUNNING":
                return
        raise ExecutionNotRedrivable(f"Execution is not redrivable: '{arn}'")

    async def get_execution_history(
        self,
        *,
        executionArn: str,
        maxResults: int = 0,
        reverseOrder: bool = False,
        nextToken: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        arn = arns.check(executionArn, "execution")
        get = self.store.get_history
        try:
            page = await self.engine.call(get, arn, _limit(maxResults), nextToken, reverse=reverseOrder)
        except StoreError as error:
            subject = nextToken or "" if isinstance(error, InvalidPageToken) else arn
            raise from_store(error, subject) from error
        return _paged({"events": [shapes.event(e) for e in page.items]}, page.next_token)

    async def list_executions(
        self,
        *,
        stateMachineArn: str,
        statusFilter: str | None = None,
        maxResults: int = 0,
        nextToken: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        arn = arns.check(stateMachineArn, "stateMachine")
        await self._store(arn, self.store.get_state_machine, arn)
        page = await self._store(
            nextToken or "", self.store.list_executions, arn, statusFilter, _limit(maxResults), nextToken
        )
        return _paged({"executions": [shapes.execution_item(e) for e in page.items]}, page.next_token)

    # ------------------------------------------------------------------ activities

    async def create_activity(self, *, name: str, **_: Any) -> dict[str, Any]:
        arn = arns.make(self.settings, "activity", arns.check_name(name))
        record = ActivityRecord(arn, name, self.engine.clock())
        try:
            await self.engine.call(self.store.create_activity, record)
        except ActivityAlreadyExists:
            record = await self._store(arn, self.store.get_activity, arn)  # CreateActivity is idempotent
        except StoreError as error:
            raise from_store(error, arn) from error
        return {"activityArn": arn, "creationDate": shapes.when(record.creation_date)}

    async def describe_activity(self, *, activityArn: str) -> dict[str, Any]:
        arn = arns.check(activityArn, "activity")
        return shapes.activity(await self._store(arn, self.store.get_activity, arn))

    async def delete_activity(self, *, activityArn: str) -> dict[str, Any]:
        arn = arns.check(activityArn, "activity")
        await self._store(arn, self.store.delete_activity, arn)
        return {}

    async def list_activities(self, *, maxResults: int = 0, nextToken: str | None = None) -> dict[str, Any]:
        page = await self._store(nextToken or "", self.store.list_activities, _limit(maxResults), nextToken)
        return _paged({"activities": [shapes.activity(a) for a in page.items]}, page.next_token)

    async def get_activity_task(self, *, activityArn: str, workerName: str | None = None) -> dict[str, Any]:
        """Long poll: a task of the activity as soon as one is scheduled, or ``{}`` after 60 seconds."""
        arn = arns.check(activityArn, "activity")
        await self._store(arn, self.store.get_activity, arn)
        worker = workerName or ""
        deadline = self.engine.clock() + self.activity_poll_seconds
        while True:
            task = await self._store(
                arn,
                self.store.claim_activity_task,
                arn,
                worker,
                self.engine.clock(),
                lambda t: encode(_started(t, workerName)),
            )
            if task is not None:
                self.engine.signals_queued()
                return {"taskToken": task.token, "input": task.input}
            left = deadline - self.engine.clock()
            if left <= 0 or self._closing:
                return {}
            await self.engine.wait_for_activity(arn, min(left, self.settings.poll_seconds))

    def end_polls(self) -> None:
        """Answer the long polls waiting in :meth:`get_activity_task` with no task, within a poll interval
        (a server shutting down must not wait a minute for its workers' polls)."""
        self._closing = True

    async def send_task_success(self, *, taskToken: str, output: str) -> dict[str, Any]:
        _check_size("output", output)
        try:
            json.loads(output)
        except ValueError:
            raise InvalidOutput(f"Invalid Output: '{output}'") from None
        return await self._task_signal(taskToken, lambda t: TaskSucceeded(t.task_id, output), close=True)

    async def send_task_failure(
        self, *, taskToken: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        return await self._task_signal(taskToken, lambda t: TaskFailed(t.task_id, error, cause), close=True)

    async def send_task_heartbeat(self, *, taskToken: str) -> dict[str, Any]:
        return await self._task_signal(taskToken, lambda t: TaskHeartbeat(t.task_id), close=False)

    async def _task_signal(
        self, token: str, signal: Callable[[TaskRecord], Any], *, close: bool
    ) -> dict[str, Any]:
        await self._store(
            token,
            self.store.signal_task,
            token,
            self.engine.clock(),
            lambda t: encode(signal(t)),
            close=close,
        )
        self.engine.signals_queued()
        return {}


def _started(task: TaskRecord, worker: str | None) -> TaskStarted:
    return TaskStarted(task.task_id, worker)


def _parse(definition: str) -> Program:
    try:
        return compile_text(definition)
    except LanguageError as error:
        raise InvalidDefinition(f"Invalid State Machine Definition: '{error}'") from None


def _workflows_diagnostics(definition: str, limit: int) -> dict[str, Any]:
    """A Cloud Workflows definition's problems as AWS-shaped diagnostics; the location is its line and
    path (``line 12: main.steps[1].charge``), what a Workflows user looks for."""
    problems = validate_workflows(definition)
    diagnostics = [
        {
            "severity": "ERROR",
            "code": p.code,
            "message": p.message,
            "location": ": ".join(x for x in (f"line {p.line}" if p.line else "", p.path) if x) or "/",
        }
        for p in problems[:limit]
    ]
    return {
        "result": "FAIL" if problems else "OK",
        "diagnostics": diagnostics,
        "truncated": len(problems) > limit,
    }


def _check_size(field: str, text: str) -> None:
    if len(text.encode()) > MAX_PAYLOAD:
        raise ValidationException(
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_PAYLOAD}"
        )


def _limit(max_results: int) -> int:
    if not 0 <= max_results <= 1000:
        raise ValidationException(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: "
            "Member must have value less than or equal to 1000"
        )
    return max_results or 100


def _paged(body: dict[str, Any], next_token: str | None) -> dict[str, Any]:
    if next_token is not None:
        body["nextToken"] = next_token
    return body
