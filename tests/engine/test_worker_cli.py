"""``stepdance worker``: handlers from a module, a graceful stop on SIGTERM that hands the leases back."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from stepdance.engine import Engine
from stepdance.engine.handlers import load_handlers
from stepdance.store import open_store
from tests.engine.crash_harness import Workers, wait_until
from tests.engine.test_crash import LONG, start_executions


def test_handlers_load_from_register_or_else_from_a_handlers_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    by_dict = types.ModuleType("by_dict")
    by_dict.HANDLERS = {"a": lambda payload: 1, "b": lambda payload: 2}  # type: ignore[attr-defined]
    by_function = types.ModuleType("by_function")
    by_function.register = lambda engine: engine.register("c", lambda payload: 3)  # type: ignore[attr-defined]
    by_function.HANDLERS = {"ignored": lambda payload: 0}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "by_dict", by_dict)
    monkeypatch.setitem(sys.modules, "by_function", by_function)
    engine = Engine(open_store("memory://"))
    assert load_handlers(engine, "by_dict") == 2
    assert load_handlers(engine, "by_function") == 1
    assert "c" in engine.handlers and "ignored" not in engine.handlers


@pytest.mark.slow
def test_a_worker_stops_on_sigterm_and_hands_its_executions_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'engine.db'}"
    store = open_store(url)
    workers = Workers(url, tmp_path / "log", env={"STEPDANCE_LEASE_SECONDS": "60"})
    try:
        worker = workers.start()
        workers.ready(worker)
        (arn,) = start_executions(store, [("long", LONG, {"n": 1})])
        wait_until(lambda: workers.count("end", "long-a") == 1, 20, "the execution to reach its Wait")
        assert workers.stop(worker) == 0
    finally:
        workers.close()
    record = store.get_execution(arn)
    assert (record.status, record.owner, record.lease_until) == ("RUNNING", None, 0.0)
    assert "stopping" in workers.output()
    store.close()
