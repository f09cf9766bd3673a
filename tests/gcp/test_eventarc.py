"""Eventarc-style triggers: parsing with JSON-pointer errors, filters, path patterns and matching."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepdance.bus.cloudevents import ATTRIBUTES, CloudEvent
from stepdance.bus.cloudevents_paths import path_matches
from stepdance.gcp.eventarc import (
    Filter,
    RetryPolicy,
    Trigger,
    TriggerError,
    matches,
    parse_trigger,
    trigger_json,
)
from tests.bus.test_cloudevents import events

pytestmark = pytest.mark.timeout(30)

EVENT = CloudEvent(
    id="e-1",
    source="//stepdance/buses/default",
    type="OrderPaid",
    subject="orders/o-42/lines/7",
    datacontenttype="application/json",
    data={"orderId": "o-42"},
    extensions={"correlationid": "o-42"},
)
TRIGGER = {
    "name": "ship-paid-orders",
    "eventFilters": [
        {"attribute": "type", "value": "OrderPaid"},
        {"attribute": "subject", "value": "orders/*/lines/**", "operator": "match-path-pattern"},
    ],
    "destination": {"httpEndpoint": {"uri": "https://shipping.example/events"}},
}


def trigger(*filters: Filter) -> Trigger:
    return Trigger("t", [Filter("type", "OrderPaid"), *filters], "https://x.example/")


# --- parsing --------------------------------------------------------------------------------------------


def test_a_trigger_is_parsed_with_its_defaults() -> None:
    assert parse_trigger(TRIGGER) == Trigger(
        name="ship-paid-orders",
        filters=[Filter("type", "OrderPaid"), Filter("subject", "orders/*/lines/**", "match-path-pattern")],
        destination="https://shipping.example/events",
        content_mode="binary",
        retry=RetryPolicy(max_attempts=5, min_backoff=10.0, max_backoff=600.0),
        dead_letter_topic=None,
    )


def test_every_field_is_parsed() -> None:
    parsed = parse_trigger(
        {
            "name": "projects/p/locations/us-central1/triggers/ship",
            "eventFilters": [{"attribute": "type", "value": "OrderPaid", "operator": ""}],
            "destination": "http://localhost:8080/hook",
            "contentMode": "structured",
            "retryPolicy": {"maxAttempts": 3, "minBackoff": "0.5s", "maxBackoff": 30},
            "deadLetterTopic": "projects/p/topics/dead-letters",
            "etag": "ignored",
        }
    )
    assert parsed == Trigger(
        name="projects/p/locations/us-central1/triggers/ship",
        filters=[Filter("type", "OrderPaid")],
        destination="http://localhost:8080/hook",
        content_mode="structured",
        retry=RetryPolicy(max_attempts=3, min_backoff=0.5, max_backoff=30.0),
        dead_letter_topic="projects/p/topics/dead-letters",
    )


def test_eventarcs_camel_case_attribute_names_are_the_lowercase_extensions() -> None:
    parsed = parse_trigger(
        {
            **TRIGGER,
            "eventFilters": [*TRIGGER["eventFilters"], {"attribute": "correlationId", "value": "o-42"}],
        }
    )
    assert parsed.filters[-1] == Filter("correlationid", "o-42")
    assert matches(parsed, EVENT)


def _with(path: str, value: Any) -> dict[str, Any]:
    """TRIGGER with the field at ``path`` (a JSON pointer) set to ``value``, or removed for ``...``."""
    document: Any = copy.deepcopy(TRIGGER)
    *parents, last = path.strip("/").split("/")
    target = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    key: Any = int(last) if isinstance(target, list) else last
    if value is ...:
        del target[key]
    elif isinstance(target, list) and key == len(target):
        target.append(value)
    else:
        target[key] = value
    return document  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (
            _with("/eventFilters/1/operator", "regex"),
            "/eventFilters/1/operator: unknown operator 'regex' (one of: match-path-pattern)",
        ),
        (
            _with("/eventFilters/0", {"attribute": "source", "value": "s"}),
            "/eventFilters: a filter on 'type' is required (Eventarc requires the event type)",
        ),
        (
            _with("/eventFilters", []),
            "/eventFilters: a filter on 'type' is required (Eventarc requires the event type)",
        ),
        (_with("/eventFilters", ...), "/eventFilters: required"),
        (_with("/eventFilters", {"type": "x"}), "/eventFilters: must be an array, not an object"),
        (_with("/eventFilters/2", "type=x"), "/eventFilters/2: a filter is a JSON object, not a string"),
        (
            _with("/eventFilters/2", {"attribute": "type", "value": "x"}),
            "/eventFilters/2/attribute: a second filter on 'type'",
        ),
        (
            _with("/eventFilters/1/attribute", "order-id"),
            "/eventFilters/1/attribute: 'order-id' is not a CloudEvents attribute name (1-20 of a-z, 0-9)",
        ),
        (
            _with("/eventFilters/1/attribute", "a" * 21),
            "/eventFilters/1/attribute: '"
            + "a" * 21
            + "' is not a CloudEvents attribute name (1-20 of a-z, 0-9)",
        ),
        (
            _with("/eventFilters/1/attribute", "data"),
            "/eventFilters/1/attribute: 'data' is the event's payload, not an attribute",
        ),
        (_with("/eventFilters/1/attribute", ...), "/eventFilters/1/attribute: required"),
        (_with("/eventFilters/1/value", 7), "/eventFilters/1/value: must be a string, not a number"),
        (
            _with("/eventFilters/1/valu", "x"),
            "/eventFilters/1/valu: unknown field (one of: attribute, operator, value)",
        ),
        (
            _with("/eventFilters/0/operator", "match-path-pattern"),
            "/eventFilters/0/operator: match-path-pattern does not apply to 'type', not a path",
        ),
        (
            _with("/eventFilters/1/value", "orders/**x/lines"),
            "/eventFilters/1/value: 'orders/**x/lines': '**' must be a whole segment, not part of '**x'",
        ),
        (
            _with("/eventFilters/1/value", "orders//lines"),
            "/eventFilters/1/value: 'orders//lines' has an empty segment",
        ),
        (_with("/eventFilters/1/value", "/"), "/eventFilters/1/value: '/' is an empty path pattern"),
        (_with("/name", "Ship_Orders"), "/name: 'Ship_Orders' is not a trigger id"),
        (
            _with("/name", "projects/p/locations/l/triggers/-x"),
            "/name: 'projects/p/locations/l/triggers/-x' is not a trigger id",
        ),
        (_with("/name", ...), "/name: required"),
        (_with("/destination", "ftp://x.example/"), "/destination: 'ftp://x.example/' is not an http(s) URL"),
        (_with("/destination", "https://"), "/destination: 'https://' is not an http(s) URL"),
        (
            _with("/destination", "http://x.example:port/"),
            "/destination: 'http://x.example:port/' is not an http(s) URL",
        ),
        (
            _with("/destination/httpEndpoint/uri", "shipping"),
            "/destination/httpEndpoint/uri: 'shipping' is not an http(s) URL",
        ),
        (
            _with("/destination/cloudRun", {"service": "s"}),
            "/destination/cloudRun: unknown field (one of: httpEndpoint)",
        ),
        (_with("/destination", ...), "/destination: required"),
        (
            _with("/contentMode", "batched"),
            "/contentMode: unknown content mode 'batched' (one of: binary, structured)",
        ),
        (_with("/retryPolicy", 5), "/retryPolicy: a retry policy is a JSON object, not a number"),
        (_with("/retryPolicy/maxAttempts", 0), "/retryPolicy/maxAttempts: 0 is not from 1 to 100"),
        (
            _with("/retryPolicy/maxAttempts", True),
            "/retryPolicy/maxAttempts: must be an integer, not a boolean",
        ),
        (
            _with("/retryPolicy/maxAttempts", "3"),
            "/retryPolicy/maxAttempts: must be an integer, not a string",
        ),
        (
            _with("/retryPolicy/minBackoff", "10 minutes"),
            "/retryPolicy/minBackoff: '10 minutes' is not a duration (like '10s' or '1.5s')",
        ),
        (_with("/retryPolicy/maxBackoff", "601s"), "/retryPolicy/maxBackoff: 601s is not from 0s to 600s"),
        (_with("/retryPolicy/maxBackoff", "5s"), "/retryPolicy/maxBackoff: 5s is less than minBackoff 10s"),
        (
            _with("/retryPolicy/jitter", True),
            "/retryPolicy/jitter: unknown field (one of: maxAttempts, maxBackoff, minBackoff)",
        ),
        (
            _with("/deadLetterTopic", "projects/p/topics/goog-x"),
            "/deadLetterTopic: 'projects/p/topics/goog-x' is not a Pub/Sub topic",
        ),
        (_with("/deadLetterTopic", "dl"), "/deadLetterTopic: 'dl' is not a Pub/Sub topic"),
        (
            {**TRIGGER, "a~b/c": 1},
            "/a~0b~1c: unknown field (one of: channel, contentMode, deadLetterTopic, destination,",
        ),
        (_with("/channel", "projects/p/channels/x"), "/channel: 'projects/p/channels/x' is not a channel"),
    ],
)
def test_parse_errors_name_the_json_pointer_of_the_bad_field(document: dict[str, Any], error: str) -> None:
    with pytest.raises(TriggerError) as raised:
        parse_trigger(document)
    assert str(raised.value).startswith(error), str(raised.value)


def test_where_prefixes_the_pointer() -> None:
    with pytest.raises(
        TriggerError, match=r"^/triggers/3/eventFilters/1/operator: unknown operator"
    ) as raised:
        parse_trigger(_with("/eventFilters/1/operator", "regex"), where="/triggers/3")
    assert (raised.value.pointer, raised.value.reason) == (
        "/triggers/3/eventFilters/1/operator",
        "unknown operator 'regex' (one of: match-path-pattern)",
    )


def test_a_trigger_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(TriggerError, match=r"^/triggers/0: a trigger is a JSON object, not an array$"):
        parse_trigger([], where="/triggers/0")  # type: ignore[arg-type]


def test_a_trigger_made_directly_is_checked_too() -> None:
    with pytest.raises(TriggerError, match=r"^/destination: 'mailto:a@b' is not an http"):
        Trigger("t", [Filter("type", "x")], "mailto:a@b")
    with pytest.raises(TriggerError, match=r"^/operator: unknown operator"):
        Filter("subject", "x", "prefix")


# --- matching -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("orders/o-42", "orders/o-42", True),
        ("orders/o-42", "orders/o-43", False),
        ("orders/o-42", "orders/o-42/lines", False),
        ("orders/*", "orders/o-42", True),
        ("orders/*", "orders/o-42/lines", False),
        ("orders/*", "orders", False),
        ("orders/*/lines/*", "orders/o-42/lines/7", True),
        ("orders/o-*", "orders/o-42", True),
        ("orders/o-*", "orders/x-42", False),
        ("orders/*.json", "orders/o.json", True),
        ("orders/*.json", "orders/o.jsonl", False),
        ("orders/**", "orders/o-42/lines/7", True),
        ("orders/**", "orders", True),
        ("orders/**", "returns/o-42", False),
        ("**", "anything/at/all", True),
        ("orders/**/7", "orders/o-42/lines/7", True),
        ("orders/**/7", "orders/7", True),
        ("orders/**/7", "orders/o-42/lines/8", False),
        ("**/lines/*", "orders/o-42/lines/7", True),
        ("**/lines/*", "orders/o-42/lines", False),
        ("orders/**/lines/**/qty", "orders/a/lines/b/c/qty", True),
        ("/projects/_/buckets/*/objects/**", "projects/_/buckets/b/objects/a/b.txt", True),
        ("projects/_/buckets/**/r*.txt", "//projects/_/buckets/b/objects/readme.txt", True),
        ("orders/[ab]", "orders/a", False),  # only '*' is special: brackets are literal
        ("orders/[ab]", "orders/[ab]", True),
        ("orders/o.42", "orders/o-42", False),  # '.' is literal, not a regex
    ],
)
def test_path_patterns(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([], True),
        ([Filter("source", "//stepdance/buses/default")], True),
        ([Filter("source", "//stepdance/buses/other")], False),
        ([Filter("correlationid", "o-42")], True),
        ([Filter("correlationid", "o-43")], False),
        ([Filter("correlationid", "o-*", "match-path-pattern")], True),
        ([Filter("subject", "orders/*/lines/**", "match-path-pattern")], True),
        ([Filter("subject", "orders/o-42/*", "match-path-pattern")], False),
        ([Filter("source", "stepdance/buses/*", "match-path-pattern")], True),
        ([Filter("subject", "orders/o-42/lines/7"), Filter("correlationid", "o-42")], True),
        ([Filter("subject", "orders/o-42/lines/7"), Filter("correlationid", "o-43")], False),
        ([Filter("traceparent", "x")], False),  # an extension the event does not have
        ([Filter("dataschema", "**", "match-path-pattern")], False),  # an attribute it does not have
        ([Filter("datacontenttype", "application/json")], True),
        ([Filter("specversion", "1.0")], True),
        ([Filter("subject", "Orders/o-42/lines/7")], False),  # values are case-sensitive
    ],
)
def test_an_event_matches_when_every_filter_does(filters: list[Filter], expected: bool) -> None:
    assert matches(trigger(*filters), EVENT) is expected


def test_the_type_filter_must_match() -> None:
    assert not matches(Trigger("t", [Filter("type", "OrderShipped")], "https://x.example/"), EVENT)


@settings(max_examples=100, deadline=None)
@given(events(), st.data())
def test_exact_filters_on_an_events_own_attributes_always_match_it(
    event: CloudEvent, data: st.DataObject
) -> None:
    present = [name for name in (*ATTRIBUTES, *event.extensions) if event.attribute(name) is not None]
    chosen = data.draw(st.lists(st.sampled_from(present), unique=True))
    filters = [Filter(name, event.attribute(name) or "") for name in {"type", *chosen}]
    assert matches(Trigger("t", filters, "https://x.example/"), event)


segments = st.lists(st.from_regex(r"[A-Za-z0-9._~-]{1,6}", fullmatch=True), min_size=1, max_size=6)


@settings(max_examples=100, deadline=None)
@given(segments, st.data())
def test_wildcards_in_place_of_a_paths_segments_still_match_it(parts: list[str], data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(parts) - 1))
    end = data.draw(st.integers(start, len(parts)))
    star = data.draw(st.integers(0, len(parts) - 1))
    path = "/".join(parts)
    assert path_matches("/".join([*parts[:start], "**", *parts[end:]]), path)
    assert path_matches("/".join([*parts[:star], "*", *parts[star + 1 :]]), path)
    assert path_matches("/" + path, path)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {
            "contentMode": "structured",
            "retryPolicy": {"maxAttempts": 9, "minBackoff": "0.25s", "maxBackoff": 30},
        },
        {"channel": "projects/p/locations/l/channels/orders", "deadLetterTopic": "projects/p/topics/dead"},
        {"name": "projects/p/locations/l/triggers/ship", "channel": "orders"},
    ],
)
def test_a_trigger_reads_back_from_its_json(extra: dict[str, Any]) -> None:
    parsed = parse_trigger({**TRIGGER, **extra})
    assert parse_trigger(trigger_json(parsed)) == parsed


def test_the_channel_names_the_event_bus_and_the_name_the_id() -> None:
    assert parse_trigger(TRIGGER).event_bus == "default"
    named = parse_trigger({**TRIGGER, "name": "projects/p/locations/l/triggers/ship", "channel": "orders"})
    assert (named.id, named.event_bus) == ("ship", "orders")
    full = parse_trigger({**TRIGGER, "channel": "projects/p/locations/l/channels/stepdance-choreographed"})
    assert full.event_bus == "stepdance-choreographed"
