"""Spans as the parts make them: nested through OpenTelemetry's context, recorded after the fact with
given ids, the zero-length span of a publish, written as JSON lines and read back; nothing at all when
tracing is off."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from stepdance import telemetry
from stepdance.settings import Settings


def spans_in(directory: Path) -> list[dict[str, Any]]:
    telemetry.flush()
    return list(telemetry.read_spans(directory / "traces"))


async def test_a_span_is_the_parent_of_the_spans_and_publishes_made_inside_it(tmp_path: Path) -> None:
    telemetry.configure(Settings(data_dir=tmp_path))
    with telemetry.span("outer", attributes={"order.id": "o-1"}):
        outer = telemetry.current_traceparent()
        with telemetry.span("inner"):
            await asyncio.sleep(0)
            published = telemetry.publish_traceparent("publish Thing", None)
    found = {s["name"]: s for s in spans_in(tmp_path)}
    assert set(found) == {"outer", "inner", "publish Thing"}
    assert found["inner"]["parentSpanId"] == found["outer"]["spanId"]
    assert found["publish Thing"]["parentSpanId"] == found["inner"]["spanId"]
    assert found["publish Thing"]["kind"] == "producer"
    assert len({s["traceId"] for s in found.values()}) == 1
    assert outer is not None and found["outer"]["spanId"] in outer
    assert published is not None and found["publish Thing"]["spanId"] in published
    assert found["outer"]["attributes"] == {"order.id": "o-1"} and found["outer"]["parentSpanId"] == ""
    assert telemetry.current_traceparent() is None  # the block's span is current only inside it


def test_an_exception_marks_the_span_failed_and_goes_on(tmp_path: Path) -> None:
    telemetry.configure(Settings(data_dir=tmp_path))
    with pytest.raises(KeyError), telemetry.span("broken"):
        raise KeyError("sku-9")
    (span,) = spans_in(tmp_path)
    assert span["error"] == "KeyError: 'sku-9'"


def test_a_span_recorded_after_the_fact_keeps_its_ids_and_times(tmp_path: Path) -> None:
    telemetry.configure(Settings(data_dir=tmp_path))
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    telemetry.record_span(
        "ChargePayment", parent=parent, span_id=0xABC, start=100.0, end=100.25, error="X: y"
    )
    (span,) = spans_in(tmp_path)
    assert span["traceId"] == "0af7651916cd43dd8448eb211c80319c"
    assert (span["spanId"], span["parentSpanId"]) == (f"{0xABC:016x}", "b7ad6b7169203331")
    assert (span["start"], span["end"], span["error"]) == (100.0, 100.25, "X: y")
    assert telemetry.start_context("x", parent=parent, span_id=0xABC) == (
        f"00-0af7651916cd43dd8448eb211c80319c-{0xABC:016x}-01"
    )


def test_an_explicit_parent_wins_over_the_current_span(tmp_path: Path) -> None:
    """A batch written for several orders runs in one context: each event names its own order's span."""
    telemetry.configure(Settings(data_dir=tmp_path))
    mine = "00-11111111111111111111111111111111-2222222222222222-01"
    with telemetry.span("someone else's"):
        made = telemetry.publish_traceparent("publish OrderPlaced", mine)
    assert made is not None and made.startswith("00-11111111111111111111111111111111-")


def test_with_tracing_off_nothing_is_recorded(tmp_path: Path) -> None:
    telemetry.configure(Settings(data_dir=tmp_path, tracing=False))
    try:
        with telemetry.span("unseen"):
            assert telemetry.current_traceparent() is None
        assert telemetry.publish_traceparent("publish X", None) is None
        assert not telemetry.enabled()
    finally:
        telemetry.configure(Settings(data_dir=tmp_path))
    assert spans_in(tmp_path) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
        (
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01",
        ),
        (
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
            "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00",
        ),
        ("not a trace header", None),
        ("00-00000000000000000000000000000000-b7ad6b7169203331-01", None),
    ],
)
def test_a_trace_header_is_read_as_w3c_or_as_x_ray(header: str, expected: str | None) -> None:
    assert telemetry.from_trace_header(header) == expected


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    telemetry.configure(Settings(data_dir=tmp_path))
    with telemetry.span("whole"):
        pass
    telemetry.flush()
    (path,) = (tmp_path / "traces").glob(telemetry.SPAN_FILES)
    with path.open("ab") as out:
        out.write(b'{"traceId": "abc", "na')  # a process killed mid-write
    assert [s["name"] for s in telemetry.read_spans(tmp_path / "traces")] == ["whole"]


def test_the_setting_is_on_or_off() -> None:
    assert Settings.from_env({"STEPDANCE_TRACING": "off"}).tracing is False
    assert Settings.from_env({}).tracing is True
    with pytest.raises(ValueError, match="STEPDANCE_TRACING is on or off, not 'maybe'"):
        Settings.from_env({"STEPDANCE_TRACING": "maybe"})


def test_the_correlation_travels_as_baggage_with_tracing_on_or_off(tmp_path: Path) -> None:
    for tracing in (True, False):
        telemetry.configure(Settings(data_dir=tmp_path, tracing=tracing))
        with telemetry.span("order o-7", correlation="o-7"), telemetry.span("inner"):
            assert telemetry.correlation() == "o-7"
        assert telemetry.correlation() is None
    telemetry.configure(Settings(data_dir=tmp_path))
