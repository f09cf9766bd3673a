"""Opening a transport by URL, and the small pure helpers the transports share."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stepdance.bus.transports import Message, TransportError, open_transport
from stepdance.bus.transports.common import envelope, from_envelope, safe_name
from stepdance.bus.transports.rabbitmq import RabbitTransport, bucket_ms
from stepdance.bus.transports.sqlite import SqliteTransport


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("nats://127.0.0.1:4222", "NatsTransport"),
        ("redis://127.0.0.1:6379/0", "RedisTransport"),
        ("amqp://guest:guest@127.0.0.1:5672/", "RabbitTransport"),
        ("sqlite:///bus.db", "SqliteTransport"),
    ],
)
def test_the_scheme_picks_the_transport(url: str, kind: str) -> None:
    assert type(open_transport(url)).__name__ == kind  # nothing connects before the first call


def test_an_unknown_scheme_is_refused_naming_the_ones_we_know() -> None:
    with pytest.raises(TransportError, match=r"Unsupported transport URL 'kafka://x'.*sqlite://, nats://"):
        open_transport("kafka://x")


def test_a_missing_client_library_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nats", None)  # as if nats-py were not installed
    monkeypatch.delitem(sys.modules, "stepdance.bus.transports.nats", raising=False)

    with pytest.raises(TransportError, match=r"install stepdance\[nats\]"):
        open_transport("nats://127.0.0.1:4222")


def test_sqlite_paths_follow_sqlalchemy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPDANCE_DATA_DIR", str(tmp_path / "data"))

    absolute = open_transport(f"sqlite:///{tmp_path / 'a.db'}")
    relative = open_transport("sqlite:///var/bus.db")
    default = open_transport("sqlite://")

    assert isinstance(absolute, SqliteTransport) and absolute.path == str(tmp_path / "a.db")
    assert isinstance(relative, SqliteTransport) and relative.path == "var/bus.db"
    assert isinstance(default, SqliteTransport) and default.path == str(tmp_path / "data" / "bus.db")


def test_our_query_options_are_taken_off_the_url() -> None:
    transport = open_transport("amqp://guest:guest@127.0.0.1:5672/?prefix=shop&prefetch=7&heartbeat=5")

    assert isinstance(transport, RabbitTransport)
    assert (transport.url, transport.prefix, transport.prefetch) == (
        "amqp://guest:guest@127.0.0.1:5672/?heartbeat=5",
        "shop",
        7,
    )
    with pytest.raises(TransportError, match="prefetch"):
        open_transport("amqp://127.0.0.1/?prefetch=many")


def test_safe_names_keep_plain_names_and_never_merge_two() -> None:
    assert safe_name("orders-2") == "orders-2"
    assert safe_name("a.b") == "a_2Eb" and safe_name("a_2Eb") == "a_5F2Eb"
    assert safe_name("bus/é *>") == "bus_2F_C3_A9_20_2A_3E"
    with pytest.raises(TransportError):
        safe_name("")


def test_the_envelope_carries_id_and_key_and_reserves_their_names() -> None:
    message = Message(id="m1", body=b"x", key="k", headers={"traceparent": "00-1"})

    assert from_envelope(envelope(message), b"x") == message
    with pytest.raises(TransportError, match="reserved"):
        envelope(Message(id="m1", body=b"", headers={"stepdance-id": "forged"}))


@pytest.mark.parametrize("delay", [0.001, 0.2, 0.5, 1.0, 1.5, 30.0, 3600.0, 7 * 86400.0])
def test_a_retry_delay_is_rounded_up_by_at_most_a_fifth(delay: float) -> None:
    ms = bucket_ms(delay)

    assert delay * 1000 <= ms <= max(delay * 1000 * 1.19 + 1, 1)


def test_there_are_few_retry_queues() -> None:
    assert len({bucket_ms(n / 1000) for n in range(1, 600_001, 7)}) < 80
