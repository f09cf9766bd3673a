"""Open a transport from a URL.

==========================================  ================================================================
URL                                         transport
==========================================  ================================================================
``sqlite://``                               SQLite file ``bus.db`` in the data directory (the default)
``sqlite:///relative.db``,                  SQLite file at that path (as SQLAlchemy spells it: three slashes
``sqlite:////absolute/bus.db``              and a relative path, or four and an absolute one)
``nats://host:4222``                        NATS JetStream (``stepdance[nats]``)
``redis://host:6379/0``, ``rediss://``      Redis Streams (``stepdance[redis]``)
``amqp://user:pass@host:5672/vhost``,       RabbitMQ (``stepdance[rabbitmq]``)
``amqps://``
``pubsub://host:8085[?project=p]``          Google Pub/Sub's API: stepdance's own (``stepdance serve``) or an
                                            emulator (``stepdance[gcp]``)
==========================================  ================================================================

Query options the transports take (removed before the URL reaches the driver): ``prefix=`` names the
streams, keys, exchanges and queues (default ``sd``) so several deployments can share a server;
``prefetch=`` is how many messages a RabbitMQ subscription takes ahead (default 100).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from stepdance.bus.transports.base import Transport, TransportError

_OPTIONS = ("prefix", "prefetch")


def open_transport(url: str) -> Transport:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if url in ("pubsub", "pubsub://"):
        raise TransportError(
            "'pubsub' alone starts a Pub/Sub endpoint of the run's own (stepdance run, scenarios, serve); "
            "here give an endpoint's address: pubsub://host:port"
        )
    opener = _OPENERS.get(scheme)
    if opener is None:
        raise TransportError(
            f"Unsupported transport URL {url!r}: use sqlite://, nats://, redis://, amqp:// or pubsub:// (see "
            "stepdance.bus.transports.factory)"
        )
    base, options = _options(url)
    return opener(base, options)


def _options(url: str) -> tuple[str, dict[str, str]]:
    base, _, query_text = url.partition("?")
    query = dict(parse_qsl(query_text))
    options = {k: query.pop(k) for k in _OPTIONS if k in query}
    return (f"{base}?{urlencode(query)}" if query else base), options


def _missing(what: str, extra: str, error: ImportError) -> TransportError:
    return TransportError(f"The {what} transport needs {error.name}: install stepdance[{extra}]")


def _sqlite(url: str, _options: dict[str, str]) -> Transport:
    from stepdance.bus.transports.sqlite import SqliteTransport

    path = url.split("://", 1)[1].removeprefix("/")
    if not path:
        from stepdance.settings import Settings

        path = str((Settings.from_env().data_dir / "bus.db").resolve())
    return SqliteTransport(path)


def _nats(url: str, options: dict[str, str]) -> Transport:
    try:
        from stepdance.bus.transports.nats import NatsTransport
    except ImportError as error:
        raise _missing("NATS", "nats", error) from error
    return NatsTransport(url, prefix=options.get("prefix", "sd"))


def _redis(url: str, options: dict[str, str]) -> Transport:
    try:
        from stepdance.bus.transports.redis import RedisTransport
    except ImportError as error:
        raise _missing("Redis", "redis", error) from error
    return RedisTransport(url, prefix=options.get("prefix", "sd"))


def _pubsub(url: str, options: dict[str, str]) -> Transport:
    try:
        from stepdance.bus.transports.pubsub import open_pubsub
    except ImportError as error:
        raise _missing("Pub/Sub", "gcp", error) from error
    return open_pubsub(url, options)


def _rabbitmq(url: str, options: dict[str, str]) -> Transport:
    try:
        from stepdance.bus.transports.rabbitmq import RabbitTransport
    except ImportError as error:
        raise _missing("RabbitMQ", "rabbitmq", error) from error
    try:
        prefetch = int(options.get("prefetch", "100"))
    except ValueError as error:
        raise TransportError(f"prefetch must be a whole number, not {options['prefetch']!r}") from error
    return RabbitTransport(url, prefix=options.get("prefix", "sd"), prefetch=prefetch)


_OPENERS: dict[str, Callable[[str, dict[str, str]], Transport]] = {
    "sqlite": _sqlite,
    "nats": _nats,
    "tls": _nats,
    "redis": _redis,
    "rediss": _redis,
    "amqp": _rabbitmq,
    "amqps": _rabbitmq,
    "pubsub": _pubsub,
}
