"""CloudEvents 1.0: the event, the bus's events as CloudEvents, and the HTTP protocol binding.

An event has the required attributes ``specversion``, ``id``, ``source`` and ``type``, the optional
``time``, ``datacontenttype``, ``subject`` and ``dataschema``, string-valued extensions and its ``data``.
Over HTTP it travels in *binary* mode (attributes as ``ce-*`` headers, the data as the body, its media
type as ``Content-Type``) or in *structured* mode (the whole event as one ``application/cloudevents+json``
body; bytes data as ``data_base64``).

How data is encoded follows its media type: for a JSON type (``application/json``, ``*/*+json``) every
value but bytes is JSON (a ``str`` is a JSON string), bytes are sent as they are; for any other type a
``str`` is encoded in the type's charset (UTF-8 unless it names one) and only ``str`` or bytes are allowed.
Read back, a JSON body is parsed, a ``text/*`` body decoded to ``str``, anything else stays bytes.

Pure: no I/O; :class:`CloudEventError` (a ``ValueError``) names the attribute and what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from stepdance.bus import headers as bus_headers

SPECVERSION = "1.0"
REQUIRED = ("specversion", "id", "source", "type")
OPTIONAL = ("time", "datacontenttype", "subject", "dataschema")
ATTRIBUTES = REQUIRED + OPTIONAL
STRUCTURED_JSON = "application/cloudevents+json"
JSON = "application/json"
SUBJECT_KEY = "orderId"  # the detail field a bus event's subject defaults to

_NAME = re.compile(r"[a-z0-9]{1,20}")
# RFC 3339 (a profile of ISO 8601); datetime then checks the calendar (no 31 February)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}[ \t]*(;[\x20-\x7e]*)?")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HEADER_SAFE = re.compile(r"[\x21\x23\x24\x26-\x7e]*")  # printable ASCII but the double quote and percent

# what the String type forbids: C0 and C1 controls, lone surrogates, Unicode noncharacters
_FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | low) for plane in range(17) for low in (0xFFFE, 0xFFFF))
    + "]"
)


class CloudEventError(ValueError):
    """An event, or an HTTP message meant to carry one, that CloudEvents 1.0 does not allow."""


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """A CloudEvents 1.0 event, checked when made."""

    id: str
    source: str
    """A URI-reference naming the context the event happened in (the bus event's ``source``)."""
    type: str
    specversion: str = SPECVERSION
    time: str | None = None
    """RFC 3339 text, kept as written so the event re-encodes byte for byte."""
    datacontenttype: str | None = None
    subject: str | None = None
    dataschema: str | None = None
    data: Any = field(default=None, hash=False)
    """None (no data), bytes, ``str``, or a JSON value when ``datacontenttype`` is JSON or absent."""
    extensions: dict[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", dict(self.extensions))  # no aliasing of the caller's dict
        _check(self)

    def attribute(self, name: str) -> str | None:
        """The value of the context attribute or extension ``name``, None when the event has none."""
        if name in ATTRIBUTES:
            value: str | None = getattr(self, name)
            return value
        return self.extensions.get(name)


def _check(event: CloudEvent) -> None:
    if event.specversion != SPECVERSION:
        raise CloudEventError(f"specversion: {event.specversion!r} is not supported (only {SPECVERSION!r})")
    for name in ("id", "source", "type"):
        _check_string(name, getattr(event, name), required=True)
    for name in OPTIONAL:
        _check_string(name, getattr(event, name), required=False)
    if event.time is not None and not _is_time(event.time):
        raise CloudEventError(f"time: {event.time!r} is not an RFC 3339 timestamp")
    if event.datacontenttype is not None and not _MEDIA_TYPE.fullmatch(event.datacontenttype):
        raise CloudEventError(f"datacontenttype: {event.datacontenttype!r} is not a media type (RFC 2046)")
    if event.dataschema is not None and not _SCHEME.match(event.dataschema):
        raise CloudEventError(f"dataschema: {event.dataschema!r} is not an absolute URI")
    for name, value in event.extensions.items():
        _check_extension(name, value)
    _check_data(event.data, event.datacontenttype)


def _check_string(name: str, value: object, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise CloudEventError(f"{name}: must be a string, not {type(value).__name__}")
    if not value:
        raise CloudEventError(f"{name}: must not be empty")
    _check_characters(name, value)


def _check_characters(name: str, value: str) -> None:
    if value.isascii() and value.isprintable():  # nearly every value, checked in C: none of _FORBIDDEN
        return
    bad = _FORBIDDEN.search(value)
    if bad is not None:
        raise CloudEventError(f"{name}: U+{ord(bad.group()):04X} is not allowed in a CloudEvents string")


def _check_extension(name: object, value: object) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CloudEventError(f"extension {name!r}: names are 1 to 20 characters of lowercase a-z and 0-9")
    if name in ATTRIBUTES or name == "data":
        raise CloudEventError(f"extension {name!r}: the name is taken by the event itself")
    if not isinstance(value, str):
        raise CloudEventError(f"extension {name!r}: must be a string, not {type(value).__name__}")
    _check_characters(f"extension {name!r}", value)


def _check_data(data: Any, content_type: str | None) -> None:
    if data is None or isinstance(data, bytes | str) or content_type is None or is_json(content_type):
        return
    raise CloudEventError(
        f"data: a {type(data).__name__} needs a JSON datacontenttype, not {content_type!r}"
        " (give bytes or str for other media types)"
    )


def _is_time(text: str) -> bool:
    if not _TIME.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.upper())
    except ValueError:
        return False
    return True


def media_type(content_type: str) -> str:
    """The bare ``type/subtype`` of a Content-Type, lowercased, without its parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def is_json(content_type: str) -> bool:
    kind = media_type(content_type)
    return kind in (JSON, "text/json") or kind.endswith("+json")


def _charset(content_type: str) -> str:
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip('"')
            try:
                return codecs.lookup(name).name
            except LookupError:
                raise CloudEventError(f"datacontenttype: unknown charset {name!r}") from None
    return "utf-8"


# --- the bus's events -----------------------------------------------------------------------------------


def from_bus_event(
    event: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    *,
    subject: str | None = None,
    eventbus: str | None = None,
) -> CloudEvent:
    """The CloudEvent for a bus event (EventBridge's envelope) and the headers it travelled with.

    ``type`` is the detail-type and ``data`` the detail (JSON). ``subject`` defaults to the detail's
    ``orderId`` (or its ``order``'s), so a trigger can pick one order's events. The correlation and causation ids become the
    ``correlationid`` and ``causationid`` extensions, the W3C trace context the Distributed Tracing
    extension's ``traceparent`` and ``tracestate``; ``eventbus`` names the bus the event came through.
    """
    for key in ("id", "source", "detail-type"):
        if not isinstance(event.get(key), str):
            raise CloudEventError(f"{'type' if key == 'detail-type' else key}: the bus event has no {key!r}")
    detail = event.get("detail")
    if subject is None:
        subject = _order_id(detail)
    extensions = _bus_extensions(headers or {})
    if eventbus:
        extensions["eventbus"] = eventbus
    if isinstance(event.get("replay-name"), str):
        extensions["replayname"] = event["replay-name"]  # a replayed event says so, as on the bus
    return CloudEvent(
        id=event["id"],
        source=event["source"],
        type=event["detail-type"],
        time=event.get("time") or None,
        datacontenttype=JSON,
        subject=subject,
        data=detail,
        extensions=extensions,
    )


def _order_id(detail: Any) -> str | None:
    """The detail's ``orderId``, or its order's (the saga's events carry the order under ``order``)."""
    for holder in (detail, detail.get("order") if isinstance(detail, Mapping) else None):
        if isinstance(holder, Mapping):
            found = holder.get(SUBJECT_KEY)
            if isinstance(found, str) and found:
                return found
    return None


def _bus_extensions(headers: Mapping[str, str]) -> dict[str, str]:
    names = {
        bus_headers.CORRELATION: "correlationid",
        bus_headers.CAUSATION: "causationid",
        bus_headers.TRACEPARENT: "traceparent",
        "tracestate": "tracestate",
    }
    lowered = {key.lower(): value for key, value in headers.items()}
    return {name: str(lowered[header]) for header, name in names.items() if lowered.get(header)}


# --- HTTP binding ---------------------------------------------------------------------------------------


def to_binary(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """The event in binary content mode: ``ce-*`` headers, Content-Type and the encoded data as body."""
    # binary mode carries datacontenttype as Content-Type, and only there
    headers = {f"ce-{name}": _percent_encode(value) for name, value in _attributes(event).items()}
    content_type = event.datacontenttype
    if content_type is None and event.data is not None and not isinstance(event.data, bytes | str):
        content_type = JSON  # a JSON value without a declared type is JSON, as in the JSON format
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers, _encode_data(event.data, content_type)


def to_structured(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    """The event in structured content mode: one JSON document holding attributes and data."""
    document: dict[str, Any] = _attributes(event)
    if event.datacontenttype is not None:
        document["datacontenttype"] = event.datacontenttype
    if isinstance(event.data, bytes):
        document["data_base64"] = base64.b64encode(event.data).decode("ascii")
    elif event.data is not None:
        document["data"] = event.data
    return {"Content-Type": f"{STRUCTURED_JSON}; charset=utf-8"}, _dumps(document)


def from_http(headers: Mapping[str, str], body: bytes) -> CloudEvent:
    """The event an HTTP message carries, in either content mode (told apart by its Content-Type)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    content_type = lowered.get("content-type")
    kind = media_type(content_type) if content_type else ""
    if kind.startswith("application/cloudevents-batch"):
        raise CloudEventError("Content-Type: batched content mode is not supported")
    if kind == STRUCTURED_JSON:
        return _from_structured(body)
    if kind.startswith("application/cloudevents"):
        raise CloudEventError(
            f"Content-Type: event format {kind!r} is not supported (only {STRUCTURED_JSON})"
        )
    return _from_binary(lowered, content_type, body)


def _attributes(event: CloudEvent) -> dict[str, str]:
    """The event's attributes but datacontenttype (each mode places that its own way), and extensions."""
    present = {name: getattr(event, name) for name in ATTRIBUTES if name != "datacontenttype"}
    return {**{name: value for name, value in present.items() if value is not None}, **event.extensions}


def _from_binary(headers: Mapping[str, str], content_type: str | None, body: bytes) -> CloudEvent:
    if "ce-datacontenttype" in headers:
        raise CloudEventError(
            "datacontenttype: binary mode carries it as Content-Type, not ce-datacontenttype"
        )
    attributes = {
        key[3:]: _percent_decode(key, value) for key, value in headers.items() if key.startswith("ce-")
    }
    _require(attributes, "header ce-")
    data = _decode_data(body, content_type) if body else None
    return _event(attributes, content_type, data)


def _from_structured(body: bytes) -> CloudEvent:
    try:
        document = json.loads(body, parse_constant=_refuse)
    except (ValueError, RecursionError) as error:
        raise CloudEventError(f"the structured event is not JSON ({error})") from None
    if not isinstance(document, dict):
        raise CloudEventError("the structured event is not a JSON object")
    if "data" in document and "data_base64" in document:
        raise CloudEventError("data: the event has both data and data_base64")
    data = document.pop("data", None)
    encoded = document.pop("data_base64", None)
    if encoded is not None:
        data = _base64(encoded)
    # the JSON format treats a null attribute as absent; an extension may be a boolean or an integer too
    attributes = {key: _canonical(key, value) for key, value in document.items() if value is not None}
    _require(attributes, "member ")
    content_type = attributes.pop("datacontenttype", None)
    return _event(attributes, content_type, data)


def _event(attributes: dict[str, str], content_type: str | None, data: Any) -> CloudEvent:
    known = {name: attributes.pop(name) for name in ATTRIBUTES if name in attributes}
    return CloudEvent(**known, datacontenttype=content_type, data=data, extensions=attributes)


def _require(attributes: Mapping[str, str], where: str) -> None:
    missing = [name for name in REQUIRED if name not in attributes]
    if missing:
        raise CloudEventError(
            f"{missing[0]}: missing required attribute ({where}{missing[0]})"
            + (f"; also missing: {', '.join(missing[1:])}" if missing[1:] else "")
        )


def _canonical(name: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if name in ATTRIBUTES:
        raise CloudEventError(f"{name}: must be a string, not {type(value).__name__}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    raise CloudEventError(f"{name}: must be a string, boolean or integer, not {type(value).__name__}")


def _base64(encoded: object) -> bytes:
    if not isinstance(encoded, str):
        raise CloudEventError(f"data_base64: must be a string, not {type(encoded).__name__}")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise CloudEventError(f"data_base64: not Base64 ({error})") from None


def _encode_data(data: Any, content_type: str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    if content_type is None or is_json(content_type):
        return _dumps(data)
    text: str = data  # _check_data allows only str here
    try:
        return text.encode(_charset(content_type))
    except UnicodeEncodeError as error:
        raise CloudEventError(f"data: cannot be encoded as {content_type!r} ({error})") from None


def _decode_data(body: bytes, content_type: str | None) -> Any:
    if content_type is None:
        return body
    if is_json(content_type):
        try:
            return json.loads(body, parse_constant=_refuse)
        except (ValueError, RecursionError) as error:
            raise CloudEventError(f"data: the body is not the JSON its Content-Type says ({error})") from None
    if media_type(content_type).startswith("text/"):
        try:
            return body.decode(_charset(content_type))
        except UnicodeDecodeError as error:
            raise CloudEventError(f"data: the body is not {content_type!r} text ({error})") from None
    return body


def _dumps(value: Any) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise CloudEventError(f"data: not JSON ({error})") from None


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _percent_encode(value: str) -> str:
    # the binding's rule: space, '"', '%' and everything outside printable ASCII, as UTF-8 bytes
    if _HEADER_SAFE.fullmatch(value):  # nearly every value: nothing to encode
        return value
    return "".join(
        c if "\x21" <= c <= "\x7e" and c not in '"%' else "".join(f"%{b:02X}" for b in c.encode())
        for c in value
    )


def _percent_decode(header: str, value: str) -> str:
    value = value.strip(" \t")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        # older senders quoted values (RFC 7230 quoted-string) instead of percent-encoding them
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    try:
        return unquote_to_bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise CloudEventError(f"{header[3:]}: header {header} is not percent-encoded UTF-8") from None
