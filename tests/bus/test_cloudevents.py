"""CloudEvents 1.0: the checked event, the bus's events as CloudEvents, and both HTTP content modes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepdance.bus.cloudevents import (
    CloudEvent,
    CloudEventError,
    from_bus_event,
    from_http,
    to_binary,
    to_structured,
)

pytestmark = pytest.mark.timeout(30)

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
BUS_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "OrderPlaced",
    "source": "stepdance.orders",
    "account": "000000000000",
    "time": "2024-01-01T12:00:00Z",
    "region": "local",
    "resources": [],
    "detail": {"orderId": "o-42", "total": 12.5, "lines": [{"sku": "A", "qty": 2}]},
}

# --- strategies: valid events whose data is of the kind its media type reads back as ---------------------

# the String type allows no controls, surrogates or noncharacters (Cn holds the noncharacters)
characters = st.characters(blacklist_categories=("Cc", "Cs", "Cn"))
strings = st.text(characters, min_size=1, max_size=20)
names = st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(
    lambda name: (
        name not in {"specversion", "id", "source", "type", "time"}
        and name not in {"datacontenttype", "subject", "dataschema", "data"}
    )
)
times = st.sampled_from(
    [
        "2024-01-01T12:00:00Z",
        "1985-04-12T23:20:50.52Z",
        "1996-12-19T16:39:57-08:00",
        "2024-02-29T00:00:00+05:30",
    ]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | strings,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(strings, inner, max_size=3),
    max_leaves=8,
)
payloads = st.one_of(
    st.tuples(
        st.sampled_from(["application/json", "application/vnd.order+json; charset=utf-8"]), json_values
    ),
    st.tuples(st.sampled_from(["text/plain", "text/csv; charset=utf-8"]), strings),
    st.tuples(st.sampled_from(["application/octet-stream", "image/png"]), st.binary(min_size=1, max_size=20)),
    st.tuples(st.none(), st.none()),
)


@st.composite
def events(draw: st.DrawFn) -> CloudEvent:
    content_type, data = draw(payloads)
    return CloudEvent(
        id=draw(strings),
        source=draw(strings),
        type=draw(strings),
        time=draw(st.none() | times),
        datacontenttype=content_type,
        subject=draw(st.none() | strings),
        dataschema=draw(st.none() | st.builds(lambda path: f"https://schemas.example/{path}", strings)),
        data=data,
        extensions=draw(st.dictionaries(names, st.text(characters, max_size=20), max_size=3)),
    )


@settings(max_examples=150, deadline=None)
@given(events())
def test_binary_mode_round_trips(event: CloudEvent) -> None:
    assert from_http(*to_binary(event)) == event


@settings(max_examples=150, deadline=None)
@given(events())
def test_structured_mode_round_trips(event: CloudEvent) -> None:
    assert from_http(*to_structured(event)) == event


@settings(max_examples=50, deadline=None)
@given(events())
def test_binary_header_values_are_printable_ascii_without_quotes_or_spaces(event: CloudEvent) -> None:
    headers, _ = to_binary(event)
    for name, value in headers.items():
        if name.startswith("ce-"):
            assert all("\x21" <= c <= "\x7e" and c != '"' for c in value), (name, value)


# --- the bus's events -----------------------------------------------------------------------------------


def test_a_bus_event_becomes_a_cloudevent() -> None:
    headers = {
        "correlation-id": "o-42",
        "causation-id": "e-0",
        "traceparent": TRACEPARENT,
        "tracestate": "k=v",
    }
    event = from_bus_event(BUS_EVENT, headers, eventbus="default")
    assert event == CloudEvent(
        id=BUS_EVENT["id"],
        source="stepdance.orders",
        type="OrderPlaced",
        time="2024-01-01T12:00:00Z",
        datacontenttype="application/json",
        subject="o-42",
        data=BUS_EVENT["detail"],
        extensions={
            "correlationid": "o-42",
            "causationid": "e-0",
            "traceparent": TRACEPARENT,
            "tracestate": "k=v",
            "eventbus": "default",
        },
    )


def test_a_bus_event_without_headers_or_order_has_no_extensions_or_subject() -> None:
    event = from_bus_event({**BUS_EVENT, "detail": {"sku": "A"}})
    assert (event.subject, event.extensions) == (None, {})


def test_the_subject_given_wins_over_the_order_id() -> None:
    assert from_bus_event(BUS_EVENT, subject="orders/o-42").subject == "orders/o-42"


def test_a_replayed_bus_event_says_so() -> None:
    event = from_bus_event({**BUS_EVENT, "replay-name": "nightly"})
    assert event.extensions == {"replayname": "nightly"}


def test_header_names_of_the_bus_are_read_in_any_case() -> None:
    event = from_bus_event(BUS_EVENT, {"Correlation-ID": "o-42", "unrelated": "x"})
    assert event.extensions == {"correlationid": "o-42"}


@pytest.mark.parametrize("key", ["id", "source", "detail-type"])
def test_a_bus_event_without_an_identifying_field_is_refused(key: str) -> None:
    event = {k: v for k, v in BUS_EVENT.items() if k != key}
    with pytest.raises(CloudEventError, match=f"the bus event has no '{key}'"):
        from_bus_event(event)


def test_a_bus_event_travels_in_binary_mode_as_json() -> None:
    headers, body = to_binary(from_bus_event(BUS_EVENT, {"traceparent": TRACEPARENT}))
    assert headers == {
        "ce-specversion": "1.0",
        "ce-id": BUS_EVENT["id"],
        "ce-source": "stepdance.orders",
        "ce-type": "OrderPlaced",
        "ce-time": "2024-01-01T12:00:00Z",
        "ce-subject": "o-42",
        "ce-traceparent": TRACEPARENT,
        "Content-Type": "application/json",
    }
    assert json.loads(body) == BUS_EVENT["detail"]


# --- the HTTP binding -----------------------------------------------------------------------------------


def test_header_values_are_percent_encoded_as_the_binding_says() -> None:
    headers, _ = to_binary(CloudEvent("1", "s", "t", extensions={"note": 'Euro € 😀 "100%"'}))
    assert headers["ce-note"] == "Euro%20%E2%82%AC%20%F0%9F%98%80%20%22100%25%22"


def test_header_names_are_case_insensitive_and_decoding_takes_lowercase_hex() -> None:
    headers = {
        "CE-SpecVersion": "1.0",
        "Ce-Id": "1",
        "ce-SOURCE": "s",
        "ce-type": "t",
        "CE-Note": "caf%c3%a9",
    }
    assert from_http(headers, b"") == CloudEvent("1", "s", "t", extensions={"note": "café"})


def test_quoted_header_values_of_older_senders_are_unquoted() -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "s",
        "ce-type": "t",
        "ce-note": '"a \\"b\\""',
    }
    assert from_http(headers, b"").extensions == {"note": 'a "b"'}


def test_text_data_is_sent_in_the_charset_its_type_names() -> None:
    event = CloudEvent("1", "s", "t", datacontenttype="text/plain; charset=latin-1", data="café")
    headers, body = to_binary(event)
    assert (headers["Content-Type"], body) == ("text/plain; charset=latin-1", "café".encode("latin-1"))
    assert from_http(headers, body) == event


def test_bytes_data_is_sent_as_it_is_and_as_base64_in_structured_mode() -> None:
    event = CloudEvent("1", "s", "t", datacontenttype="application/json", data=b'{"a":1}')
    assert to_binary(event)[1] == b'{"a":1}'
    headers, body = to_structured(event)
    assert headers == {"Content-Type": "application/cloudevents+json; charset=utf-8"}
    assert json.loads(body)["data_base64"] == base64.b64encode(b'{"a":1}').decode()


def test_json_data_without_a_declared_type_is_sent_as_application_json() -> None:
    headers, body = to_binary(CloudEvent("1", "s", "t", data={"a": 1}))
    assert (headers["Content-Type"], body) == ("application/json", b'{"a":1}')


def test_binary_data_without_a_content_type_reads_back_as_bytes() -> None:
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "t"}
    assert from_http(headers, b"\x00\x01").data == b"\x00\x01"


def test_structured_mode_takes_canonical_strings_for_boolean_and_integer_extensions() -> None:
    body = json.dumps(
        {"specversion": "1.0", "id": "1", "source": "s", "type": "t", "flag": True, "n": 7, "x": None}
    )
    event = from_http({"content-type": "application/cloudevents+json"}, body.encode())
    assert event.extensions == {"flag": "true", "n": "7"}


def _binary(**overrides: str) -> dict[str, str]:
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "t", **overrides}
    return {key: value for key, value in headers.items() if value != "-"}


def _structured(**members: Any) -> tuple[dict[str, str], bytes]:
    document = {"specversion": "1.0", "id": "1", "source": "s", "type": "t", **members}
    document = {key: value for key, value in document.items() if value != "-"}
    return {"Content-Type": "application/cloudevents+json"}, json.dumps(document).encode()


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        (_binary(**{"ce-id": "-"}), b"", r"^id: missing required attribute \(header ce-id\)$"),
        (_binary(**{"ce-specversion": "-", "ce-type": "-"}), b"", r"^specversion: .*also missing: type$"),
        (_binary(**{"ce-specversion": "0.3"}), b"", r"^specversion: '0.3' is not supported \(only '1.0'\)$"),
        (_binary(**{"ce-datacontenttype": "text/plain"}), b"", "^datacontenttype: binary mode carries it"),
        (_binary(**{"ce-note": "%C0%A0"}), b"", "^note: header ce-note is not percent-encoded UTF-8$"),
        (_binary(**{"ce-Bad-Name": "x"}), b"", "^extension 'bad-name': names are 1 to 20 characters"),
        (_binary(**{"ce-time": "yesterday"}), b"", "^time: 'yesterday' is not an RFC 3339 timestamp$"),
        (_binary(**{"Content-Type": "application/json"}), b"{", "^data: the body is not the JSON"),
        (_binary(**{"Content-Type": "text/plain"}), b"\xff", "^data: the body is not 'text/plain' text"),
        (*_structured(id="-"), r"^id: missing required attribute \(member id\)$"),
        (*_structured(data="a", data_base64="YQ=="), "^data: the event has both data and data_base64$"),
        (*_structured(data_base64="not base64!"), "^data_base64: not Base64"),
        (*_structured(data_base64=1), "^data_base64: must be a string, not int$"),
        (*_structured(id=1), "^id: must be a string, not int$"),
        (*_structured(ext={"a": 1}), "^ext: must be a string, boolean or integer, not dict$"),
        (
            {"Content-Type": "application/cloudevents+json"},
            b"[]",
            "^the structured event is not a JSON object$",
        ),
        ({"Content-Type": "application/cloudevents+json"}, b"{", "^the structured event is not JSON"),
        ({"Content-Type": "application/cloudevents+avro"}, b"", "^Content-Type: event format"),
        (
            {"Content-Type": "application/cloudevents-batch+json"},
            b"[]",
            "^Content-Type: batched content mode",
        ),
    ],
)
def test_messages_that_do_not_carry_a_valid_event_are_refused(
    headers: dict[str, str], body: bytes, message: str
) -> None:
    with pytest.raises(CloudEventError, match=message):
        from_http(headers, body)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"id": ""}, "^id: must not be empty$"),
        ({"source": None}, "^source: must be a string, not NoneType$"),
        ({"type": "a\nb"}, "^type: U\\+000A is not allowed in a CloudEvents string$"),
        ({"subject": "\ud800"}, "^subject: U\\+D800 is not allowed"),
        ({"subject": "\U0001fffe"}, "^subject: U\\+1FFFE is not allowed"),
        ({"subject": ""}, "^subject: must not be empty$"),
        ({"specversion": "0.3"}, "^specversion: '0.3' is not supported"),
        ({"time": "2024-02-30T00:00:00Z"}, "^time: '2024-02-30T00:00:00Z' is not an RFC 3339 timestamp$"),
        ({"time": "2024-01-01 12:00:00Z"}, "^time: .* is not an RFC 3339 timestamp$"),
        ({"datacontenttype": "json"}, "^datacontenttype: 'json' is not a media type"),
        ({"dataschema": "/relative"}, "^dataschema: '/relative' is not an absolute URI$"),
        ({"extensions": {"TraceParent": "x"}}, "^extension 'TraceParent': names are 1 to 20 characters"),
        ({"extensions": {"a" * 21: "x"}}, "names are 1 to 20 characters"),
        ({"extensions": {"subject": "x"}}, "^extension 'subject': the name is taken by the event itself$"),
        ({"extensions": {"data": "x"}}, "^extension 'data': the name is taken"),
        ({"extensions": {"n": 1}}, "^extension 'n': must be a string, not int$"),
        ({"extensions": {"n": "\x7f"}}, "^extension 'n': U\\+007F is not allowed"),
        ({"datacontenttype": "text/plain", "data": {"a": 1}}, "^data: a dict needs a JSON datacontenttype"),
    ],
)
def test_invalid_events_are_refused_naming_the_attribute(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(CloudEventError, match=message):
        CloudEvent(**{"id": "1", "source": "s", "type": "t", **arguments})


def test_data_that_is_not_json_is_refused_when_encoded() -> None:
    event = CloudEvent("1", "s", "t", datacontenttype="application/json", data={"a": float("nan")})
    with pytest.raises(CloudEventError, match=r"^data: not JSON"):
        to_binary(event)


def test_text_that_its_charset_cannot_hold_is_refused() -> None:
    event = CloudEvent("1", "s", "t", datacontenttype="text/plain; charset=ascii", data="café")
    with pytest.raises(CloudEventError, match=r"^data: cannot be encoded as"):
        to_binary(event)


def test_an_unknown_charset_is_refused() -> None:
    event = CloudEvent("1", "s", "t", datacontenttype="text/plain; charset=klingon", data="x")
    with pytest.raises(CloudEventError, match=r"^datacontenttype: unknown charset 'klingon'$"):
        to_binary(event)


def test_the_event_does_not_share_the_callers_extensions() -> None:
    extensions = {"a": "1"}
    event = CloudEvent("1", "s", "t", extensions=extensions)
    extensions["b"] = "2"
    assert event.extensions == {"a": "1"}
