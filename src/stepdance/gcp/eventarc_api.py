"""Eventarc's REST API for triggers, served by ``stepdance serve`` beside the AWS API, so Google's
``google-cloud-eventarc`` client (REST transport) and ``curl`` manage the triggers of :mod:`.eventarc_triggers`::

    POST   /v1/projects/P/locations/L/triggers?triggerId=ID[&validateOnly=true]   CreateTrigger
    GET    /v1/projects/P/locations/L/triggers[?pageSize=N&pageToken=T]           ListTriggers
    GET    /v1/projects/P/locations/L/triggers/ID                                 GetTrigger
    PATCH  /v1/projects/P/locations/L/triggers/ID[?updateMask=a,b&allowMissing=]  UpdateTrigger
    DELETE /v1/projects/P/locations/L/triggers/ID[?allowMissing=true]             DeleteTrigger
    GET    /v1/projects/P/locations/L/operations/OP                               GetOperation

Create, update and delete answer with a long-running operation that is already done (the change is made
before the answer). Errors are Google's JSON errors (``{"error": {"code", "message", "status"}}``):
INVALID_ARGUMENT naming the field's JSON pointer, NOT_FOUND, ALREADY_EXISTS. One stepdance is one project
and location: a trigger id is unique across them. With access keys, a request needs the key as HTTP basic
auth, as the dashboard does.
"""

from __future__ import annotations

import collections
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from stepdance.gcp.eventarc import Trigger, TriggerError, trigger_json
from stepdance.gcp.eventarc_triggers import TriggerExists, TriggerNotFound, Triggers

PARENT = "/v1/projects/{project}/locations/{location}"
TRIGGER_TYPE = "type.googleapis.com/google.cloud.eventarc.v1.Trigger"
METADATA_TYPE = "type.googleapis.com/google.cloud.eventarc.v1.OperationMetadata"
MAX_BODY = 1 << 20
KEPT_OPERATIONS = 1000
DEFAULT_PAGE = 100
MAX_PAGE = 1000
# what an update mask may name (Eventarc's updatable fields, and stepdance's own)
UPDATABLE = frozenset(
    {"eventFilters", "destination", "channel", "retryPolicy", "contentMode", "deadLetterTopic", "labels"}
)
_SNAKE = {
    "event_filters": "eventFilters",
    "retry_policy": "retryPolicy",
    "dead_letter_topic": "deadLetterTopic",
}
_SNAKE |= {"content_mode": "contentMode", "service_account": "serviceAccount"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        body = {"error": {"code": self.status, "message": self.message, "status": self.code}}
        return JSONResponse(body, self.status)


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def resource(trigger: Trigger, project: str, location: str) -> dict[str, Any]:
    """The trigger as Eventarc's REST API shows it (stepdance's own fields included)."""
    shown = trigger_json(trigger)
    shown["name"] = f"projects/{project}/locations/{location}/triggers/{trigger.id}"
    shown["uid"] = str(uuid.UUID(hashlib.sha256(trigger.id.encode()).hexdigest()[:32]))
    shown["eventDataContentType"] = "application/json"
    shown["etag"] = hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:16]
    return shown


class EventarcApi:
    """The routes over ``triggers``; ``refused`` answers a request that lacks the access key (or None)."""

    def __init__(self, triggers: Triggers, refused: Callable[[Request], Response | None]) -> None:
        self.triggers = triggers
        self.refused = refused
        self.operations: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{PARENT}/triggers", self._guarded(self.create), methods=["POST"]),
            Route(f"{PARENT}/triggers", self._guarded(self.list), methods=["GET"]),
            Route(f"{PARENT}/triggers/{{trigger}}", self._guarded(self.get), methods=["GET"]),
            Route(f"{PARENT}/triggers/{{trigger}}", self._guarded(self.update), methods=["PATCH"]),
            Route(f"{PARENT}/triggers/{{trigger}}", self._guarded(self.delete), methods=["DELETE"]),
            Route(f"{PARENT}/operations/{{operation}}", self._guarded(self.operation), methods=["GET"]),
        ]

    def _guarded(self, call: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def answer(request: Request) -> Response:
            unwelcome = self.refused(request)
            if unwelcome is not None:
                return unwelcome
            try:
                return JSONResponse(await call(request))
            except ApiError as error:
                return error.response()

        return answer

    # ------------------------------------------------------------------ calls

    async def create(self, request: Request) -> dict[str, Any]:
        project, location = _where(request)
        trigger_id = request.query_params.get("triggerId", "")
        if not trigger_id:
            raise _invalid("triggerId: required")
        document = {**await _body(request), "name": trigger_id}
        if _flag(request, "validateOnly"):
            trigger = await self._checked(document)
            return self._operation(project, location, "create", trigger, done_nothing=True)
        try:
            trigger = await self.triggers.create(document)
        except TriggerError as error:
            raise _invalid(str(error)) from None
        except TriggerExists:
            name = _name(project, location, trigger_id)
            raise ApiError(409, "ALREADY_EXISTS", f"Trigger {name} already exists.") from None
        return self._operation(project, location, "create", trigger)

    async def list(self, request: Request) -> dict[str, Any]:
        project, location = _where(request)
        size = _page_size(request.query_params.get("pageSize"))
        after = request.query_params.get("pageToken", "")
        every = [t for t in await self.triggers.list_triggers() if t.id > after]
        page = every[:size]
        answer: dict[str, Any] = {"triggers": [resource(t, project, location) for t in page]}
        if len(every) > size:
            answer["nextPageToken"] = page[-1].id
        return answer

    async def get(self, request: Request) -> dict[str, Any]:
        project, location = _where(request)
        return resource(await self._found(request), project, location)

    async def update(self, request: Request) -> dict[str, Any]:
        project, location = _where(request)
        trigger_id = request.path_params["trigger"]
        changes = await _body(request)
        try:
            current: dict[str, Any] | None = trigger_json(await self.triggers.get(trigger_id))
        except TriggerNotFound:
            if not _flag(request, "allowMissing"):
                raise _not_found(project, location, trigger_id) from None
            current = None
        mask = request.query_params.get("updateMask", "")
        fields = [_SNAKE.get(f.strip(), f.strip()) for f in mask.split(",") if f.strip()] or [
            f for f in changes if f in UPDATABLE
        ]
        for each in fields:
            if each not in UPDATABLE:
                raise _invalid(
                    f"updateMask: {each!r} cannot be updated (one of: {', '.join(sorted(UPDATABLE))})"
                )
        if current is None:  # allowMissing: the body is the whole trigger
            document = dict(changes)
        else:
            document = dict(current)
            for each in fields:
                if each in changes:
                    document[each] = changes[each]
                else:
                    document.pop(each, None)
        document["name"] = trigger_id
        if _flag(request, "validateOnly"):
            trigger = await self._checked(document)
            return self._operation(project, location, "update", trigger, done_nothing=True)
        try:
            trigger = await self.triggers.create(document, replace=True)
        except TriggerError as error:
            raise _invalid(str(error)) from None
        return self._operation(project, location, "update", trigger)

    async def delete(self, request: Request) -> dict[str, Any]:
        project, location = _where(request)
        trigger_id = request.path_params["trigger"]
        try:
            trigger = await self.triggers.get(trigger_id)
        except TriggerNotFound:
            if _flag(request, "allowMissing"):
                return self._empty_operation(project, location, trigger_id)
            raise _not_found(project, location, trigger_id) from None
        if not _flag(request, "validateOnly"):
            await self.triggers.delete(trigger_id)
        return self._operation(project, location, "delete", trigger)

    async def operation(self, request: Request) -> dict[str, Any]:
        project, location = _where(request)
        name = f"projects/{project}/locations/{location}/operations/{request.path_params['operation']}"
        found = self.operations.get(name)
        if found is None:
            raise ApiError(404, "NOT_FOUND", f"Operation {name} not found.")
        return found

    # ------------------------------------------------------------------ helpers

    async def _found(self, request: Request) -> Trigger:
        try:
            return await self.triggers.get(request.path_params["trigger"])
        except TriggerNotFound:
            project, location = _where(request)
            raise _not_found(project, location, request.path_params["trigger"]) from None

    async def _checked(self, document: dict[str, Any]) -> Trigger:
        try:
            return await self.triggers.checked(document)
        except TriggerError as error:
            raise _invalid(str(error)) from None

    def _operation(
        self, project: str, location: str, verb: str, trigger: Trigger, *, done_nothing: bool = False
    ) -> dict[str, Any]:
        made = self._empty_operation(project, location, trigger.id, verb)
        if not done_nothing:
            made["response"] = {"@type": TRIGGER_TYPE, **resource(trigger, project, location)}
        return made

    def _empty_operation(
        self, project: str, location: str, trigger_id: str, verb: str = "delete"
    ) -> dict[str, Any]:
        name = f"projects/{project}/locations/{location}/operations/operation-{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}"
        now = _now()
        made: dict[str, Any] = {
            "name": name,
            "metadata": {
                "@type": METADATA_TYPE,
                "createTime": now,
                "endTime": now,
                "target": _name(project, location, trigger_id),
                "verb": verb,
                "apiVersion": "v1",
            },
            "done": True,
        }
        self.operations[name] = made
        while len(self.operations) > KEPT_OPERATIONS:
            self.operations.popitem(last=False)
        return made


def _where(request: Request) -> tuple[str, str]:
    return request.path_params["project"], request.path_params["location"]


def _name(project: str, location: str, trigger_id: str) -> str:
    return f"projects/{project}/locations/{location}/triggers/{trigger_id}"


def _not_found(project: str, location: str, trigger_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"Trigger {_name(project, location, trigger_id)} not found.")


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("true", "1")


def _page_size(given: str | None) -> int:
    if not given:
        return DEFAULT_PAGE
    try:
        size = int(given)
    except ValueError:
        raise _invalid(f"pageSize: {given!r} is not a number") from None
    if size < 0:
        raise _invalid(f"pageSize: {size} is negative")
    return min(size or DEFAULT_PAGE, MAX_PAGE)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "INVALID_ARGUMENT", f"the body is over {MAX_BODY} bytes")
    try:
        document = json.loads(raw or b"{}")
    except ValueError as error:
        raise _invalid(f"the body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise _invalid(f"the body is a Trigger (a JSON object), not {type(document).__name__}")
    document.pop("name", None)  # the name is the path's; Eventarc ignores one in the body
    return {_SNAKE.get(str(key), str(key)): value for key, value in document.items()}
