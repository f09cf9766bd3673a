"""A Pub/Sub subscription's settings as plain dataclasses: Google's defaults and bounds, the conversions to and
from ``google.pubsub_v1.types.Subscription``, UpdateSubscription's field mask, and the retry and dead-letter
decisions that follow from the settings.

Defaults and bounds are the ones documented on the ``Subscription`` message and Google's subscription properties
page; where the documentation is silent (error texts, immutable fields) this follows Google's emulator. BigQuery,
Cloud Storage and Bigtable delivery, expiration policies, OIDC push tokens and message transforms are not modelled:
they are refused (UNIMPLEMENTED) rather than stored and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from google.pubsub_v1 import types

from stepdance.gcp.pubsub_model import parse_filter
from stepdance.gcp.pubsub_names import DELETED_TOPIC, PubSubError, invalid, parse_subscription, parse_topic

DEFAULT_ACK_DEADLINE_SECONDS = 10
MIN_ACK_DEADLINE_SECONDS = 10
MAX_ACK_DEADLINE_SECONDS = 600
DEFAULT_RETENTION = timedelta(days=7)
MIN_RETENTION = timedelta(minutes=10)
MAX_RETENTION = timedelta(days=7)
DEFAULT_MINIMUM_BACKOFF = timedelta(seconds=10)
DEFAULT_MAXIMUM_BACKOFF = timedelta(seconds=600)
MAX_BACKOFF = timedelta(seconds=600)
DEFAULT_MAX_DELIVERY_ATTEMPTS = 5
MIN_DELIVERY_ATTEMPTS = 5
MAX_DELIVERY_ATTEMPTS = 100

# UpdateSubscription: what a mask may name, what it may never change, and what stepdance does not model.
MUTABLE_FIELDS = frozenset(
    {
        "ack_deadline_seconds",
        "dead_letter_policy",
        "enable_exactly_once_delivery",
        "labels",
        "message_retention_duration",
        "push_config",
        "retain_acked_messages",
        "retry_policy",
    }
)
# Google documents the filter and message ordering as fixed at creation; detaching has its own RPC.
IMMUTABLE_FIELDS = frozenset({"name", "topic", "filter", "enable_message_ordering", "detached"})
UNSUPPORTED_FIELDS = frozenset(
    {"bigquery_config", "cloud_storage_config", "bigtable_config", "expiration_policy", "message_transforms"}
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long Pub/Sub waits before redelivering a nacked or expired message: exponentially longer after each
    failed attempt, from ``minimum_backoff`` up to ``maximum_backoff``."""

    minimum_backoff: timedelta = DEFAULT_MINIMUM_BACKOFF
    """The delay after the first failed attempt, 0 to 600 s."""
    maximum_backoff: timedelta = DEFAULT_MAXIMUM_BACKOFF
    """The longest delay, 0 to 600 s and at least ``minimum_backoff``."""


@dataclass(frozen=True, slots=True)
class DeadLetterPolicy:
    """Where a message goes once it has been delivered ``max_delivery_attempts`` times without an ack."""

    dead_letter_topic: str
    """The topic's full name, ``projects/{project}/topics/{topic}``."""
    max_delivery_attempts: int = DEFAULT_MAX_DELIVERY_ATTEMPTS
    """5 to 100: one plus the number of nacks and expired ack deadlines a message may have."""


@dataclass(frozen=True, slots=True)
class PushConfig:
    """Push delivery; an empty ``push_endpoint`` is a pull subscription."""

    push_endpoint: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    """Endpoint settings; Google knows only ``x-goog-version``."""
    no_wrapper: bool = False
    """Send the message data as the HTTP body instead of the JSON envelope."""
    write_metadata: bool = False
    """With ``no_wrapper``: message attributes and metadata as ``x-goog-pubsub-*`` headers."""


@dataclass(frozen=True, slots=True)
class SubscriptionConfig:
    name: str
    topic: str
    push_config: PushConfig = PushConfig()
    ack_deadline_seconds: int = DEFAULT_ACK_DEADLINE_SECONDS
    retain_acked_messages: bool = False
    message_retention_duration: timedelta = DEFAULT_RETENTION
    labels: Mapping[str, str] = field(default_factory=dict)
    enable_message_ordering: bool = False
    filter: str = ""
    """Pub/Sub's attribute filter, kept as written; :func:`stepdance.gcp.pubsub_model.parse_filter` reads it."""
    dead_letter_policy: DeadLetterPolicy | None = None
    retry_policy: RetryPolicy | None = None
    """None: redeliver as soon as possible, Pub/Sub's behaviour without a policy."""
    detached: bool = False
    enable_exactly_once_delivery: bool = False


def from_proto(subscription: types.Subscription) -> SubscriptionConfig:
    """The validated settings of a CreateSubscription request (or a stored subscription), defaults filled in."""
    parse_subscription(subscription.name)
    if subscription.topic != DELETED_TOPIC:
        parse_topic(subscription.topic)
    for name in sorted(UNSUPPORTED_FIELDS - {"expiration_policy"}):
        # Google's default expiration policy is accepted and not modelled: subscriptions here never expire.
        if name in subscription:
            raise PubSubError("UNIMPLEMENTED", f"stepdance does not support {name} on subscriptions")
    return SubscriptionConfig(
        name=subscription.name,
        topic=subscription.topic,
        push_config=_push_config(subscription.push_config),
        ack_deadline_seconds=_ack_deadline(subscription.ack_deadline_seconds),
        retain_acked_messages=subscription.retain_acked_messages,
        message_retention_duration=_retention(subscription),
        labels=dict(subscription.labels),
        enable_message_ordering=subscription.enable_message_ordering,
        filter=parse_filter(subscription.filter).text,
        dead_letter_policy=_dead_letter_policy(subscription),
        retry_policy=_retry_policy(subscription),
        detached=subscription.detached,
        enable_exactly_once_delivery=subscription.enable_exactly_once_delivery,
    )


def to_proto(config: SubscriptionConfig) -> types.Subscription:
    subscription = types.Subscription(
        name=config.name,
        topic=config.topic,
        push_config=_push_config_proto(config.push_config),
        ack_deadline_seconds=config.ack_deadline_seconds,
        retain_acked_messages=config.retain_acked_messages,
        message_retention_duration=config.message_retention_duration,
        labels=dict(config.labels),
        enable_message_ordering=config.enable_message_ordering,
        filter=config.filter,
        detached=config.detached,
        enable_exactly_once_delivery=config.enable_exactly_once_delivery,
        state=types.Subscription.State.ACTIVE,
    )
    if config.dead_letter_policy is not None:
        subscription.dead_letter_policy = types.DeadLetterPolicy(
            dead_letter_topic=config.dead_letter_policy.dead_letter_topic,
            max_delivery_attempts=config.dead_letter_policy.max_delivery_attempts,
        )
    if config.retry_policy is not None:
        subscription.retry_policy = types.RetryPolicy(
            minimum_backoff=config.retry_policy.minimum_backoff,
            maximum_backoff=config.retry_policy.maximum_backoff,
        )
    return subscription


def update(
    current: SubscriptionConfig, patch: types.Subscription, paths: Sequence[str]
) -> SubscriptionConfig:
    """UpdateSubscription: the fields ``paths`` names are taken from ``patch`` (an unset one goes back to its
    default), then the whole result is validated as on creation."""
    if not paths:
        raise invalid(
            "The update_mask in the UpdateSubscriptionRequest must be set, and must contain a non-empty paths list."
        )
    for path in paths:
        _check_path(path)
    merged = to_proto(current)
    for path in paths:
        if path in patch:
            setattr(merged, path, getattr(patch, path))
        else:
            delattr(merged, path)
    return from_proto(merged)


def _check_path(path: str) -> None:
    if path in IMMUTABLE_FIELDS:
        raise invalid(
            "Invalid update_mask provided in the UpdateSubscriptionRequest: "
            f"the {path} field in the Subscription is not mutable."
        )
    if path in UNSUPPORTED_FIELDS:
        raise PubSubError("UNIMPLEMENTED", f"stepdance does not support updating {path}")
    if path not in MUTABLE_FIELDS:
        raise invalid(
            f"Invalid update_mask provided in the UpdateSubscriptionRequest: {path} is not a known Subscription "
            "field. Note that field paths must be of the form 'push_config' rather than 'pushConfig'."
        )


def _ack_deadline(seconds: int) -> int:
    if seconds == 0:
        return DEFAULT_ACK_DEADLINE_SECONDS
    _check_range("ack_deadline_seconds", seconds, MIN_ACK_DEADLINE_SECONDS, MAX_ACK_DEADLINE_SECONDS)
    return seconds


def _retention(subscription: types.Subscription) -> timedelta:
    if "message_retention_duration" not in subscription:
        return DEFAULT_RETENTION
    retention: timedelta = subscription.message_retention_duration
    if not MIN_RETENTION <= retention <= MAX_RETENTION:
        raise _out_of_range("message_retention_duration", retention, MIN_RETENTION, MAX_RETENTION)
    return retention


def _retry_policy(subscription: types.Subscription) -> RetryPolicy | None:
    if "retry_policy" not in subscription:
        return None
    given = subscription.retry_policy
    minimum: timedelta = given.minimum_backoff if "minimum_backoff" in given else DEFAULT_MINIMUM_BACKOFF
    maximum: timedelta = given.maximum_backoff if "maximum_backoff" in given else DEFAULT_MAXIMUM_BACKOFF
    for name, value in (("minimum_backoff", minimum), ("maximum_backoff", maximum)):
        if not timedelta(0) <= value <= MAX_BACKOFF:
            raise _out_of_range(f"retry_policy.{name}", value, timedelta(0), MAX_BACKOFF)
    if maximum < minimum:
        raise invalid(
            f"The value for retry_policy.maximum_backoff is too small. You passed {_seconds(maximum)} in the "
            f"request, but the minimum value is {_seconds(minimum)} (retry_policy.minimum_backoff)."
        )
    return RetryPolicy(minimum, maximum)


def _dead_letter_policy(subscription: types.Subscription) -> DeadLetterPolicy | None:
    if "dead_letter_policy" not in subscription:
        return None
    given = subscription.dead_letter_policy
    parse_topic(given.dead_letter_topic)
    attempts = given.max_delivery_attempts or DEFAULT_MAX_DELIVERY_ATTEMPTS
    # Google's emulator answers OUT_OF_RANGE here, not INVALID_ARGUMENT.
    _check_range(
        "max_delivery_attempts", attempts, MIN_DELIVERY_ATTEMPTS, MAX_DELIVERY_ATTEMPTS, "OUT_OF_RANGE"
    )
    return DeadLetterPolicy(given.dead_letter_topic, attempts)


def _push_config(given: types.PushConfig) -> PushConfig:
    endpoint = given.push_endpoint
    if endpoint and not _is_http_url(endpoint):
        raise invalid(
            f"Invalid push endpoint given (endpoint={endpoint}). "
            "Refer to https://cloud.google.com/pubsub/subscriber#create for more information."
        )
    if "oidc_token" in given:
        raise PubSubError("UNIMPLEMENTED", "stepdance does not support OIDC tokens on push subscriptions")
    no_wrapper = "no_wrapper" in given
    return PushConfig(
        push_endpoint=endpoint,
        attributes=dict(given.attributes),
        no_wrapper=no_wrapper,
        write_metadata=no_wrapper and given.no_wrapper.write_metadata,
    )


def _push_config_proto(config: PushConfig) -> types.PushConfig:
    push = types.PushConfig(push_endpoint=config.push_endpoint, attributes=dict(config.attributes))
    if config.no_wrapper:
        push.no_wrapper = types.PushConfig.NoWrapper(write_metadata=config.write_metadata)
    return push


def _is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_range(name: str, value: int, low: int, high: int, code: str = "INVALID_ARGUMENT") -> None:
    if value < low:
        raise PubSubError(code, _bound_text(name, str(value), "small", "minimum", str(low)))
    if value > high:
        raise PubSubError(code, _bound_text(name, str(value), "large", "maximum", str(high)))


def _out_of_range(name: str, value: timedelta, low: timedelta, high: timedelta) -> PubSubError:
    if value < low:
        return invalid(_bound_text(name, _seconds(value), "small", "minimum", _seconds(low)))
    return invalid(_bound_text(name, _seconds(value), "large", "maximum", _seconds(high)))


def _bound_text(name: str, value: str, side: str, limit: str, bound: str) -> str:
    # Pub/Sub's own wording for a number out of bounds (message_count, max_delivery_attempts...).
    return f"The value for {name} is too {side}. You passed {value} in the request, but the {limit} value is {bound}."


def _seconds(value: timedelta) -> str:
    # Durations as Google's JSON writes them: "600s", "1.500s".
    seconds = value.total_seconds()
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds:.3f}s"
