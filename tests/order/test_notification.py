from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stepdance.order import (
    KINDS,
    Faults,
    FileChannel,
    Message,
    Notification,
    SmtpChannel,
    TransientFailure,
    compose,
)
from tests.order.conftest import Backend
from tests.order.helpers import on_threads
from tests.order.smtp_server import Mailbox, smtp_server


class Flaky:
    """A channel that fails while ``down`` and records what it delivered."""

    name = "flaky"

    def __init__(self) -> None:
        self.down = True
        self.delivered: list[Message] = []

    def deliver(self, message: Message) -> None:
        if self.down:
            raise TransientFailure("notification", "the channel is away")
        self.delivered.append(message)


@pytest.fixture
def channel(tmp_path: Path) -> FileChannel:
    return FileChannel(tmp_path / "out" / "notifications.jsonl")


@pytest.fixture
def notification(backend: Backend, channel: FileChannel) -> Notification:
    return Notification(backend.db("notification"), channel).create()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


def test_a_message_is_sent_once_per_order_and_kind(notification: Notification, channel: FileChannel) -> None:
    first = notification.send(None, "o-1", "confirmed", "ann@example.com")
    assert notification.send(None, "o-1", "confirmed", "ann@example.com") == first
    notification.send(None, "o-1", "cancelled", "ann@example.com")
    notification.send(None, "o-2", "payment_failed", "bob@example.com")
    lines = channel.messages()
    assert [(m["orderId"], m["kind"], m["to"]) for m in lines] == [
        ("o-1", "confirmed", "ann@example.com"),
        ("o-1", "cancelled", "ann@example.com"),
        ("o-2", "payment_failed", "bob@example.com"),
    ]
    assert lines[0]["messageId"] == first["messageId"] == compose("o-1", "confirmed", "x").message_id
    assert [(s["orderId"], s["kind"]) for s in notification.sent()] == [
        ("o-1", "cancelled"),
        ("o-1", "confirmed"),
        ("o-2", "payment_failed"),
    ]
    assert notification.get("o-9", "confirmed") is None


def test_concurrent_duplicates_send_once(notification: Notification, channel: FileChannel) -> None:
    on_threads(8, lambda _: notification.send(None, "o-1", "confirmed", "ann@example.com"))
    assert len(channel.messages()) == 1


def test_a_failed_send_leaves_no_record_and_the_retry_sends(backend: Backend) -> None:
    flaky = Flaky()
    notification = Notification(backend.db("notification"), flaky).create()
    with pytest.raises(TransientFailure):
        notification.send(None, "o-1", "confirmed", "ann@example.com")
    assert notification.get("o-1", "confirmed") is None
    flaky.down = False
    notification.send(None, "o-1", "confirmed", "ann@example.com")
    notification.send(None, "o-1", "confirmed", "ann@example.com")
    assert [m.order_id for m in flaky.delivered] == ["o-1"]


def test_injected_faults_fail_before_sending(backend: Backend, channel: FileChannel) -> None:
    faults = Faults(transient={"notification": 1.0})
    notification = Notification(backend.db("notification"), channel, faults).create()
    with pytest.raises(TransientFailure):
        notification.send(None, "o-1", "confirmed", "ann@example.com")
    assert channel.messages() == []
    notification.send(None, "o-1", "confirmed", "ann@example.com")
    assert len(channel.messages()) == 1


def test_an_unknown_kind_is_refused(notification: Notification) -> None:
    with pytest.raises(ValueError, match="unknown notification kind 'shipped'"):
        notification.send(None, "o-1", "shipped", "ann@example.com")
    assert set(KINDS) == {"confirmed", "cancelled", "payment_failed"}


def test_smtp_delivers_each_message_once(backend: Backend, mailbox: Mailbox) -> None:
    smtp = SmtpChannel(mailbox.host, mailbox.port, "shop@example.com")
    notification = Notification(backend.db("notification"), smtp).create()
    sent = notification.send(None, "o-1", "confirmed", "ann@example.com")
    notification.send(None, "o-1", "confirmed", "ann@example.com")
    notification.send(None, "o-1", "cancelled", "ann@example.com")
    assert [(m["To"], m["Subject"]) for m in mailbox.received] == [
        ("ann@example.com", "Your order o-1 is confirmed"),
        ("ann@example.com", "Your order o-1 was cancelled"),
    ]
    assert mailbox.received[0]["From"] == "shop@example.com"
    assert mailbox.received[0]["Message-ID"] == sent["messageId"]
    assert sent["channel"] == "smtp"
