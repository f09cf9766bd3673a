"""Eventarc-style triggers over CloudEvents: what a trigger is, how its JSON is checked, what it matches.

A trigger's JSON follows Eventarc's ``Trigger`` resource where the two meet::

    {"name": "ship-paid-orders",
     "eventFilters": [{"attribute": "type", "value": "OrderPaid"},
                      {"attribute": "subject", "value": "orders/*/lines/**", "operator": "match-path-pattern"}],
     "destination": {"httpEndpoint": {"uri": "https://shipping.example/events"}},
     "contentMode": "binary",
     "retryPolicy": {"maxAttempts": 5, "minBackoff": "10s", "maxBackoff": "600s"},
     "deadLetterTopic": "projects/p/topics/orders-dead-letters"}

``channel`` names the event bus the trigger listens on (the default bus without it); ``destination`` may
also be the URL itself; ``contentMode`` and the backoffs are stepdance's (Eventarc
always delivers in binary mode and takes its backoff from Pub/Sub). An event matches when every filter
does: exact equality on the attribute or extension, or a path pattern (``*`` within one segment, ``**``
for any number of segments). Errors are :class:`TriggerError` naming the JSON pointer of the bad field.
Pure: nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from stepdance.bus.cloudevents import CloudEvent
from stepdance.bus.cloudevents_paths import pattern_error
from stepdance.bus.cloudevents_target import AttributeFilter

PATH_PATTERN = "match-path-pattern"
OPERATORS = (PATH_PATTERN,)
CONTENT_MODES = ("binary", "structured")
# Eventarc allows path patterns only on path-like attributes (resource names): never on these
NOT_PATH_LIKE = ("specversion", "id", "type", "time", "datacontenttype")
MAX_BACKOFF = 600.0  # seconds: Pub/Sub's ceiling for a retry backoff

_ATTRIBUTE = re.compile(r"[a-z0-9]{1,20}")
_TRIGGER_ID = re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TRIGGER_NAME = re.compile(r"projects/[^/]+/locations/[^/]+/triggers/(?P<id>[^/]+)")
_TOPIC_ID = re.compile(r"[A-Za-z][A-Za-z0-9._~+%-]{2,254}")
_TOPIC_NAME = re.compile(r"projects/[^/]+/topics/(?P<id>[^/]+)")
_DURATION = re.compile(r"(\d+(?:\.\d{1,9})?)s")

_FIELDS = frozenset(
    ("name", "eventFilters", "destination", "contentMode", "retryPolicy", "deadLetterTopic", "channel")
)
_CHANNEL = re.compile(r"(?:projects/[^/]+/locations/[^/]+/channels/)?(?P<id>[\w.-]{1,256})")
# an Eventarc resource as the API returns it carries these too; they mean nothing here
_IGNORED = frozenset(
    {"uid", "createTime", "updateTime", "etag", "labels", "serviceAccount", "transport"}
    | {"conditions", "eventDataContentType", "satisfiesPzs"}
)


class TriggerError(ValueError):
    """A trigger Eventarc would refuse: ``pointer`` is the JSON pointer of the bad field."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{pointer or '(the trigger)'}: {reason}")
        self.pointer = pointer
        self.reason = reason

    def under(self, prefix: str) -> TriggerError:
        return TriggerError(prefix + self.pointer, self.reason)


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition on an event: its ``attribute`` (or extension) equals ``value``, or matches it as a path
    pattern when ``operator`` is ``match-path-pattern``."""

    attribute: str
    value: str
    operator: str | None = None

    def __post_init__(self) -> None:
        # CloudEvents names are lowercase; Eventarc's own filters spell extensions in camelCase
        # ("serviceName" for the servicename extension), so the name is lowercased before it is checked
        object.__setattr__(self, "attribute", self.attribute.lower())
        if not _ATTRIBUTE.fullmatch(self.attribute):
            raise TriggerError(
                "/attribute", f"{self.attribute!r} is not a CloudEvents attribute name (1-20 of a-z, 0-9)"
            )
        if self.attribute == "data":
            raise TriggerError("/attribute", "'data' is the event's payload, not an attribute")
        if self.operator is None:
            return
        if self.operator not in OPERATORS:
            raise TriggerError(
                "/operator", f"unknown operator {self.operator!r} (one of: {', '.join(OPERATORS)})"
            )
        if self.attribute in NOT_PATH_LIKE:
            raise TriggerError(
                "/operator", f"{PATH_PATTERN} does not apply to {self.attribute!r}, not a path"
            )
        reason = pattern_error(self.value)
        if reason:
            raise TriggerError("/value", reason)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How deliveries to the destination are retried; checked when made."""

    max_attempts: int = 5
    """Deliveries in all, the first included, before the event goes to the dead-letter topic (1-100)."""
    min_backoff: float = 10.0
    """Seconds before the first retry; each retry doubles it (0-600, Pub/Sub's range)."""
    max_backoff: float = MAX_BACKOFF
    """Seconds the backoff grows to at most (``min_backoff``-600)."""

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not 1 <= self.max_attempts <= 100:
            raise TriggerError("/maxAttempts", f"{self.max_attempts!r} is not from 1 to 100")
        for pointer, value in (("/minBackoff", self.min_backoff), ("/maxBackoff", self.max_backoff)):
            if not 0 <= value <= MAX_BACKOFF:
                raise TriggerError(pointer, f"{value:g}s is not from 0s to {MAX_BACKOFF:g}s")
        if self.max_backoff < self.min_backoff:
            raise TriggerError(
                "/maxBackoff", f"{self.max_backoff:g}s is less than minBackoff {self.min_backoff:g}s"
            )


@dataclass(frozen=True, slots=True)
class Trigger:
    """Events matching every filter go to ``destination`` (an http(s) URL), as CloudEvents in
    ``content_mode``; checked when made."""

    name: str
    filters: list[Filter]
    destination: str
    content_mode: Literal["binary", "structured"] = "binary"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    dead_letter_topic: str | None = None
    channel: str | None = None
    """Where the trigger listens: an event bus, named as Eventarc names a channel (``projects/P/locations/L/
    channels/BUS``) or by the bus's name; None: the default bus."""

    @property
    def id(self) -> str:
        return trigger_id(self.name)

    @property
    def event_bus(self) -> str:
        found = _CHANNEL.fullmatch(self.channel) if self.channel is not None else None
        return found["id"] if found else "default"

    def __post_init__(self) -> None:
        found = _TRIGGER_NAME.fullmatch(self.name)
        if not _TRIGGER_ID.fullmatch(found["id"] if found else self.name):
            raise TriggerError(
                "/name",
                f"{self.name!r} is not a trigger id (a lowercase letter, then up to 62 of a-z, 0-9, '-',"
                " not ending in '-') or projects/P/locations/L/triggers/ID",
            )
        _check_filters(self.filters)
        reason = url_error(self.destination)
        if reason:
            raise TriggerError("/destination", reason)
        if self.content_mode not in CONTENT_MODES:
            raise TriggerError(
                "/contentMode",
                f"unknown content mode {self.content_mode!r} (one of: {', '.join(CONTENT_MODES)})",
            )
        if self.channel is not None and not _CHANNEL.fullmatch(self.channel):
            raise TriggerError(
                "/channel",
                f"{self.channel!r} is not a channel (projects/P/locations/L/channels/BUS, or an event bus's"
                " name: 1-256 of letters, digits, '.', '-', '_')",
            )
        if self.dead_letter_topic is not None:
            found = _TOPIC_NAME.fullmatch(self.dead_letter_topic)
            topic = found["id"] if found else self.dead_letter_topic
            if not _TOPIC_ID.fullmatch(topic) or topic.lower().startswith("goog"):
                raise TriggerError(
                    "/deadLetterTopic",
                    f"{self.dead_letter_topic!r} is not a Pub/Sub topic (projects/P/topics/T or T: 3-255"
                    " characters, starting with a letter, not with 'goog')",
                )


def trigger_id(name: str) -> str:
    """The trigger id in ``name`` (``projects/P/locations/L/triggers/ID``, or the id itself)."""
    found = _TRIGGER_NAME.fullmatch(name)
    return found["id"] if found else name


def _check_filters(filters: list[Filter]) -> None:
    seen: set[str] = set()
    for index, each in enumerate(filters):
        if each.attribute in seen:
            raise TriggerError(f"/eventFilters/{index}/attribute", f"a second filter on {each.attribute!r}")
        seen.add(each.attribute)
    if "type" not in seen:
        raise TriggerError(
            "/eventFilters", "a filter on 'type' is required (Eventarc requires the event type)"
        )


def url_error(url: str) -> str | None:
    """Why ``url`` is not an http(s) URL a trigger can deliver to, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as error:
        return f"{url!r} is not an http(s) URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        return f"{url!r} is not an http(s) URL"
    return None


# --- parsing --------------------------------------------------------------------------------------------


def parse_trigger(data: Mapping[str, Any], where: str = "") -> Trigger:
    """The trigger ``data`` (its JSON) describes; ``where`` is the JSON pointer of ``data`` in its document,
    prefixed to every error's pointer."""
    try:
        return _parse(data)
    except TriggerError as error:
        raise error.under(where) from None


def _parse(data: Mapping[str, Any]) -> Trigger:
    if not isinstance(data, Mapping):
        raise TriggerError("", f"a trigger is a JSON object, not {_kind(data)}")
    _no_unknown(data, _FIELDS, "", ignored=_IGNORED)
    filters = _get(data, "eventFilters", list, "")
    return Trigger(
        name=_get(data, "name", str, ""),
        filters=[_parse_filter(each, f"/eventFilters/{index}") for index, each in enumerate(filters)],
        destination=_parse_destination(data),
        content_mode=_get(data, "contentMode", str, "", "binary"),
        retry=_parse_retry(data.get("retryPolicy")),
        dead_letter_topic=_get(data, "deadLetterTopic", str, "", None),
        channel=_get(data, "channel", str, "", None),
    )


def _parse_filter(data: Any, pointer: str) -> Filter:
    if not isinstance(data, Mapping):
        raise TriggerError(pointer, f"a filter is a JSON object, not {_kind(data)}")
    _no_unknown(data, frozenset(("attribute", "value", "operator")), pointer)
    attribute = _get(data, "attribute", str, pointer)
    value = _get(data, "value", str, pointer)
    operator = _get(data, "operator", str, pointer, None) or None  # Eventarc sends "" for exact
    try:
        return Filter(attribute, value, operator)
    except TriggerError as error:
        raise error.under(pointer) from None


def _parse_destination(data: Mapping[str, Any]) -> str:
    destination = data.get("destination")
    if isinstance(destination, Mapping):
        _no_unknown(destination, frozenset(("httpEndpoint",)), "/destination")
        endpoint = _get(destination, "httpEndpoint", Mapping, "/destination")
        _no_unknown(endpoint, frozenset(("uri",)), "/destination/httpEndpoint")
        uri: str = _get(endpoint, "uri", str, "/destination/httpEndpoint")
        reason = url_error(uri)
        if reason:
            raise TriggerError("/destination/httpEndpoint/uri", reason)
        return uri
    url: str = _get(data, "destination", str, "")
    return url


def _parse_retry(data: Any) -> RetryPolicy:
    if data is None:
        return RetryPolicy()
    if not isinstance(data, Mapping):
        raise TriggerError("/retryPolicy", f"a retry policy is a JSON object, not {_kind(data)}")
    _no_unknown(data, frozenset(("maxAttempts", "minBackoff", "maxBackoff")), "/retryPolicy")
    defaults = RetryPolicy()
    attempts = _get(data, "maxAttempts", int, "/retryPolicy", defaults.max_attempts)
    if isinstance(attempts, bool):
        raise TriggerError("/retryPolicy/maxAttempts", "must be an integer, not a boolean")
    try:
        return RetryPolicy(
            max_attempts=attempts,
            min_backoff=_duration(data, "minBackoff", defaults.min_backoff),
            max_backoff=_duration(data, "maxBackoff", defaults.max_backoff),
        )
    except TriggerError as error:
        raise error.under("/retryPolicy") from None


def _duration(data: Mapping[str, Any], key: str, default: float) -> float:
    """A protobuf Duration as JSON spells it ("10s", "1.5s"), or a number of seconds."""
    value = data.get(key, default)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    found = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise TriggerError(f"/{key}", f"{value!r} is not a duration (like '10s' or '1.5s')")
    return float(found[1])


def _get(data: Mapping[str, Any], key: str, kind: type, pointer: str, *default: Any) -> Any:
    if data.get(key) is None:  # JSON's null says "not given", as in the API's own JSON
        if default:
            return default[0]
        raise TriggerError(f"{pointer}/{key}", "required")
    value = data[key]
    if not isinstance(value, kind):
        raise TriggerError(
            f"{pointer}/{key}", f"must be {_KINDS.get(kind, kind.__name__)}, not {_kind(value)}"
        )
    return value


def _no_unknown(
    data: Mapping[str, Any], known: frozenset[str], pointer: str, ignored: frozenset[str] = frozenset()
) -> None:
    for key in data:
        if key not in known and key not in ignored:
            # '~' and '/' in a key are escaped in a JSON pointer (RFC 6901)
            escaped = str(key).replace("~", "~0").replace("/", "~1")
            raise TriggerError(f"{pointer}/{escaped}", f"unknown field (one of: {', '.join(sorted(known))})")


_KINDS: dict[type, str] = {str: "a string", int: "an integer", list: "an array", Mapping: "an object"}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return next((name for kind, name in _KINDS.items() if isinstance(value, kind)), type(value).__name__)


# --- matching -------------------------------------------------------------------------------------------


def matches(trigger: Trigger, event: CloudEvent) -> bool:
    """Whether ``event`` goes to ``trigger``'s destination: every filter matches it, as the bus's delivery
    checks it."""
    return all(
        AttributeFilter(each.attribute, each.value, each.operator == PATH_PATTERN).matches(event)
        for each in trigger.filters
    )


# --- back to JSON ---------------------------------------------------------------------------------------


def trigger_json(trigger: Trigger) -> dict[str, Any]:
    """The trigger as JSON, in the shape :func:`parse_trigger` reads (``parse_trigger(trigger_json(t)) == t``)."""
    document: dict[str, Any] = {
        "name": trigger.name,
        "eventFilters": [
            {"attribute": f.attribute, "value": f.value, **({"operator": f.operator} if f.operator else {})}
            for f in trigger.filters
        ],
        "destination": {"httpEndpoint": {"uri": trigger.destination}},
        "contentMode": trigger.content_mode,
        "retryPolicy": {
            "maxAttempts": trigger.retry.max_attempts,
            "minBackoff": _duration_text(trigger.retry.min_backoff),
            "maxBackoff": _duration_text(trigger.retry.max_backoff),
        },
    }
    if trigger.dead_letter_topic is not None:
        document["deadLetterTopic"] = trigger.dead_letter_topic
    if trigger.channel is not None:
        document["channel"] = trigger.channel
    return document


def _duration_text(seconds: float) -> str:
    """A protobuf Duration as JSON spells it: nanoseconds at most, no trailing zeros."""
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"
