"""What a ``call`` step becomes.

- a subworkflow of the definition: a new frame on the thread's call stack (parameters bound by name, the
  missing ones from their defaults; more than 20 routines deep is a RecursionError);
- ``http.get|post|put|patch|delete|request``: an :class:`InvokeTask` for the runtime, the thread waiting;
- ``googleapis.*`` (a connector): an :class:`InvokeTask` of kind ``handler`` named after the connector;
- ``sys.sleep`` / ``sys.sleep_until``: a :class:`StartTimer`, the thread waiting;
- ``sys.log``: a ``LogWritten`` event, nothing for the runtime to do;
- any other library function: evaluated in place (:func:`stepdance.gcw.expr.call_function`).

The HTTP contract (what the runtime does with a task of kind ``http``)::

    InvokeTask(task_id, kind="http", resource="http.post", timeout_seconds=300.0, state_name=<step>,
               payload={"method": "POST", "url": "https://...", "headers": {...}, "query": {...},
                        "body": <any JSON; absent when the call gives none>, "timeout": 300.0,
                        "auth": {"type": "OIDC", ...} or None})

The runtime sends the request (``query`` added to the URL, a map or list ``body`` as JSON unless the
headers say otherwise, ``auth`` as Workflows would authenticate it) and answers with

- ``TaskSucceeded(output=json.dumps({"code": 200, "headers": {...}, "body": <JSON-decoded when the
  response is JSON, else its text>}))`` for any response below 400;
- ``TaskFailed(error="HttpError", cause=json.dumps({"code": 500, "headers": {...}, "body": ...,
  "message": "HTTP server responded with error code 500", "tags": ["HttpError"]}))`` for 400 and above
  (a TaskSucceeded carrying a code of 400 or more is read the same way);
- ``TaskFailed(error="ConnectionError" | "ConnectionFailedError" | "TimeoutError" | "AuthError",
  cause=json.dumps({"message": ..., "tags": [<error>]}))`` when there is no response.

The request also has a timer, ``<task id>#timeout`` at the timeout: if it fires first the task is
cancelled and the step fails with a TimeoutError. A connector task (kind ``handler``, ``resource`` the
connector's name, ``payload`` the call's ``args``) answers with its result as JSON text, or fails with an
error name and, as ``cause``, the Workflows error map as JSON (plain text is taken as the message). Bytes in
a payload are sent as their base64 text. The task id is the TaskScheduled event's id, stable across replays.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from stepdance.asl import history
from stepdance.asl.protocol import CancelTask, CancelTimer, InvokeTask, StartTimer, TaskFailed, TaskSucceeded
from stepdance.gcw import machine_entries as entries
from stepdance.gcw.expr import call_function, interpolate
from stepdance.gcw.expr.errors import WorkflowsError, recursion_error, type_error, value_error
from stepdance.gcw.expr.stdlib import BLOCKING
from stepdance.gcw.expr.values import is_number, type_name
from stepdance.gcw.machine_flow import RAISING, Raised, close_entry, complete, error_value, fail_step, seq
from stepdance.gcw.machine_state import Frame, Thread, copy_value
from stepdance.gcw.machine_vars import assign, check_memory, view
from stepdance.gcw.syntax import Call, Workflow
from stepdance.gcw.syntax_calls import CONNECTOR_PREFIX

if TYPE_CHECKING:
    from stepdance.gcw.machine import Run

MAX_CALL_DEPTH = 20  # routines on a call stack, Workflows' quotas page
HTTP_TIMEOUT, MAX_HTTP_TIMEOUT = 300.0, 1800.0
MAX_SLEEP = 31_536_000.0  # a year: no execution lives longer
HTTP_METHODS = {"http.get": "GET", "http.post": "POST", "http.put": "PUT", "http.patch": "PATCH"}
HTTP_METHODS["http.delete"] = "DELETE"


def call_step(run: Run, thread: Thread, step: Call, rec: dict[str, Any]) -> None:
    function = step.function
    args = interpolate(dict(step.args or {}), view(run, thread), run.context())
    if function in run.definition:
        _subworkflow(run, thread, step, rec, run.definition[function], args)
    elif function in HTTP_METHODS or function == "http.request":
        _http(run, thread, step, rec, function, args)
    elif function.startswith(CONNECTOR_PREFIX):
        _blocking(thread, function)
        _schedule(run, thread, step, rec, "handler", function, _wire(args), None)
    elif function in ("sys.sleep", "sys.sleep_until"):
        _sleep(run, thread, step, rec, function, args)
    elif function == "sys.log":
        _log(run, thread, step, rec, args)
    elif function in BLOCKING or function.startswith("experimental."):
        raise WorkflowsError.tagged("SystemError", f"{function} is not supported by stepdance")
    else:
        finish_call(run, thread, step, rec, call_function(function, [], run.context(), args))


def finish_call(run: Run, thread: Thread, step: Call, rec: dict[str, Any], value: Any) -> None:
    """The call returned ``value``: store it in ``result``, end the entry, go on."""
    if step.result:
        assign(run, thread, step.result, copy_value(value), view(run, thread))
        check_memory(thread.frames[-1])
    close_entry(run, thread, rec, entries.SUCCEEDED, output=entries.to_json(value))
    complete(run, thread, step)


# --------------------------------------------------------------------------- subworkflows


def _subworkflow(
    run: Run, thread: Thread, step: Call, rec: dict[str, Any], workflow: Workflow, args: dict[str, Any]
) -> None:
    callee = new_frame(run, thread, workflow, args)
    rec.update(k="call", res=step.result)
    thread.frames[-1].ctl.append(rec)
    thread.frames.append(callee)


def new_frame(run: Run, thread: Thread, workflow: Workflow, args: dict[str, Any]) -> Frame:
    if thread.base + len(thread.frames) + 1 > MAX_CALL_DEPTH:
        raise recursion_error(f"maximum call stack depth ({MAX_CALL_DEPTH}) exceeded calling {workflow.name}")
    names = [param.name for param in workflow.params]
    unknown = [name for name in args if name not in names]
    if unknown:
        raise type_error(f"{workflow.name}() got an unexpected argument '{unknown[0]}'")
    params: dict[str, Any] = {}
    for param in workflow.params:
        if param.name in args:
            params[param.name] = copy_value(args[param.name])
        elif not param.required:
            params[param.name] = copy_value(interpolate(param.default, {}, run.context()))
        else:
            raise type_error(f"{workflow.name}() missing required argument '{param.name}'")
    return Frame(workflow.name, [params], [{"k": "routine"}, seq(workflow.name, "w")])


def call_sync(run: Run, caller: Thread, name: str, args: list[Any]) -> Any:
    """Run subworkflow ``name`` to its end now, with positional ``args``: a subworkflow called in an
    expression, or a retry predicate. Its steps are recorded like any; it may not wait on anything."""
    workflow = run.definition[name]
    if len(args) > len(workflow.params):
        raise type_error(f"{name}() takes {len(workflow.params)} arguments but {len(args)} were given")
    sync = Thread(
        id=f"{caller.id}~{name}",
        frames=[],
        sync=True,
        depth=caller.depth,
        base=caller.base + len(caller.frames),
        last=caller.last,
    )
    bound = {param.name: arg for param, arg in zip(workflow.params, args, strict=False)}
    sync.frames.append(new_frame(run, sync, workflow, bound))
    run.run_thread(sync)
    caller.last = sync.last
    kind, value = sync.outcome or ("return", None)
    if kind == "raise":
        raise Raised(value)
    return value


def _blocking(thread: Thread, function: str) -> None:
    if thread.sync:
        raise type_error(
            f"{function} waits, which a subworkflow called from an expression or as a retry predicate "
            "cannot do"
        )


# --------------------------------------------------------------------------- tasks for the runtime


def _http(
    run: Run, thread: Thread, step: Call, rec: dict[str, Any], function: str, args: dict[str, Any]
) -> None:
    _blocking(thread, function)
    method = HTTP_METHODS.get(function) or args.get("method")
    if not isinstance(method, str):
        raise type_error(f"{function}: method must be a string, not {type_name(method)}")
    url = args.get("url")
    if not isinstance(url, str):
        raise type_error(f"{function}: url must be a string, not {type_name(url)}")
    timeout = args.get("timeout", HTTP_TIMEOUT)
    if not is_number(timeout) or not 0 < timeout <= MAX_HTTP_TIMEOUT:
        raise value_error(f"{function}: timeout must be a number of seconds up to {MAX_HTTP_TIMEOUT:.0f}")
    for key in ("headers", "query"):
        if not isinstance(args.get(key) or {}, dict):
            raise type_error(f"{function}: {key} must be a map, not {type_name(args[key])}")
    payload: dict[str, Any] = {
        "method": method.upper(),
        "url": url,
        "headers": _wire(args.get("headers") or {}),
        "query": _wire(args.get("query") or {}),
        "timeout": float(timeout),
        "auth": _wire(args.get("auth")),
    }
    if "body" in args:
        payload["body"] = _wire(args["body"])
    if "private_service_name" in args:
        payload["private_service_name"] = args["private_service_name"]
    _schedule(run, thread, step, rec, "http", function, payload, float(timeout))


def _schedule(
    run: Run,
    thread: Thread,
    step: Call,
    rec: dict[str, Any],
    kind: str,
    resource: str,
    payload: Any,
    timeout: float | None,
) -> None:
    region = run.env["GOOGLE_CLOUD_LOCATION"]
    event = history.task_scheduled(
        _resource_type(kind), resource, region, entries.to_json(payload), timeout, None
    )
    event["stepEntryDetails"] = entries.link(thread.frames[-1].routine, rec, thread.id)
    task_id = str(run.emit(thread, event))
    run.st.tasks[task_id] = thread.id
    timers = []
    if timeout is not None:
        timers.append(f"{task_id}#timeout")
        run.st.timers[timers[-1]] = thread.id
        run.command(StartTimer(timers[-1], run.now + timeout))
    thread.wait = {"on": "task", "task": task_id, "timers": timers, "kind": kind, "resource": resource}
    thread.wait.update(rec=rec, p=step.path, timeout=timeout)
    task_kind: Any = kind
    run.command(
        InvokeTask(task_id, task_kind, resource, payload, timeout_seconds=timeout, state_name=step.name)
    )


def task_finished(run: Run, thread: Thread, signal: TaskSucceeded | TaskFailed) -> None:
    wait = _end_wait(run, thread)
    rec, step = wait["rec"], run.index.steps[wait["p"]]
    link = entries.link(thread.frames[-1].routine, rec, thread.id)
    if isinstance(signal, TaskSucceeded):
        event = history.task_event(
            "Succeeded", _resource_type(wait["kind"]), wait["resource"], output=signal.output
        )
        error, value = None, _decode(signal.output)
        if wait["kind"] == "http":
            error, value = _http_response(value)
    else:
        event = history.task_event(
            "Failed", _resource_type(wait["kind"]), wait["resource"], error=signal.error, cause=signal.cause
        )
        error, value = _task_error(signal.error, signal.cause), None
    event["stepEntryDetails"] = link
    run.emit(thread, event)
    try:
        if error is not None:
            raise Raised(error)
        assert isinstance(step, Call)
        finish_call(run, thread, step, rec, value)
    except RAISING as exc:
        fail_step(run, thread, rec, error_value(exc))


def task_timed_out(run: Run, thread: Thread) -> None:
    wait = _end_wait(run, thread)
    run.command(CancelTask(wait["task"]))
    message = f"{wait['resource']}: no answer within {wait['timeout']:g} seconds"
    event = history.task_event(
        "TimedOut", _resource_type(wait["kind"]), wait["resource"], error="TimeoutError", cause=message
    )
    event["stepEntryDetails"] = entries.link(thread.frames[-1].routine, wait["rec"], thread.id)
    run.emit(thread, event)
    fail_step(run, thread, wait["rec"], {"message": message, "tags": ["TimeoutError"]})


def _resource_type(kind: str) -> str:
    return "http" if kind == "http" else "connector"


def _end_wait(run: Run, thread: Thread) -> dict[str, Any]:
    wait = thread.wait or {}
    thread.wait = None
    run.st.tasks.pop(wait.get("task", ""), None)
    for timer in wait.get("timers", []):
        if run.st.timers.pop(timer, None) is not None:
            run.command(CancelTimer(timer))
    run.queue.append(thread.id)
    return wait


def _http_response(answer: Any) -> tuple[Any, Any]:
    """(error, value) of an HTTP answer: HttpError from 400 on, as Workflows raises it."""
    if not isinstance(answer, dict) or "code" not in answer:
        return None, {"body": answer, "code": 200, "headers": {}}
    response = {"body": answer.get("body"), "code": answer["code"], "headers": answer.get("headers") or {}}
    code = response["code"]
    if isinstance(code, int) and code >= 400:
        message = f"HTTP server responded with error code {code}"
        return {**response, "message": message, "tags": ["HttpError"]}, None
    return None, response


def _task_error(error: str | None, cause: str | None) -> dict[str, Any]:
    found = _decode(cause) if cause else None
    if isinstance(found, dict):
        mapped = dict(found)
        mapped.setdefault("message", error or "")
        mapped.setdefault("tags", [error] if error else [])
        return mapped
    return {"message": cause or error or "the task failed", "tags": [error or "SystemError"]}


def _decode(text: str | None) -> Any:
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return text


def _wire(value: Any) -> Any:
    """``value`` as JSON for a task's payload: bytes as base64 text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return value


# --------------------------------------------------------------------------- sys.sleep, sys.log


def _sleep(
    run: Run, thread: Thread, step: Call, rec: dict[str, Any], function: str, args: dict[str, Any]
) -> None:
    _blocking(thread, function)
    seconds: float
    if function == "sys.sleep":
        given: Any = args.get("seconds")
        if not is_number(given):
            raise type_error(f"sys.sleep: seconds must be a number, not {type_name(given)}")
        seconds = float(given)
    else:  # a time already past does not wait
        seconds = max(0.0, call_function("time.parse", [args.get("time")], run.context()) - run.now)
    if not 0 <= seconds <= MAX_SLEEP:
        raise value_error(f"{function}: cannot sleep {seconds} seconds (0 to {MAX_SLEEP:.0f})")
    timer = f"{thread.id}#{rec['e']}#sleep"
    run.st.timers[timer] = thread.id
    run.command(StartTimer(timer, run.now + seconds))
    thread.wait = {"on": "timer", "timer": timer, "purpose": "sleep", "rec": rec, "p": step.path}


def sleep_done(run: Run, thread: Thread) -> None:
    wait = thread.wait or {}
    thread.wait = None
    run.queue.append(thread.id)
    step, rec = run.index.steps[wait["p"]], wait["rec"]
    assert isinstance(step, Call)
    try:
        finish_call(run, thread, step, rec, None)
    except RAISING as exc:
        fail_step(run, thread, rec, error_value(exc))


def _log(run: Run, thread: Thread, step: Call, rec: dict[str, Any], args: dict[str, Any]) -> None:
    severity = args.get("severity", "DEFAULT")
    if not isinstance(severity, str):
        raise type_error(f"sys.log: severity must be a string, not {type_name(severity)}")
    payload = next((args[key] for key in ("text", "json", "data") if key in args), None)
    link = entries.link(thread.frames[-1].routine, rec, thread.id)
    run.emit(thread, entries.log_written(severity, payload, link))
    finish_call(run, thread, step, rec, None)
