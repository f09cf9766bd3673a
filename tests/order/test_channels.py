from __future__ import annotations

from pathlib import Path

import pytest

from stepdance.order import (
    ChannelError,
    FileChannel,
    SmtpChannel,
    TransientFailure,
    Undeliverable,
    compose,
    open_channel,
)
from tests.order.smtp_server import free_port, smtp_server


def test_a_message_id_depends_only_on_order_and_kind() -> None:
    one = compose("o-1", "confirmed", "ann@example.com")
    assert one.message_id == compose("o-1", "confirmed", "someone@else.org").message_id
    assert one.message_id != compose("o-1", "cancelled", "ann@example.com").message_id
    assert one.message_id != compose("o-2", "confirmed", "ann@example.com").message_id
    assert one.subject == "Your order o-1 is confirmed"


def test_the_file_channel_appends_json_lines(tmp_path: Path) -> None:
    channel = FileChannel(tmp_path / "deep" / "out.jsonl")
    assert channel.messages() == []
    channel.deliver(compose("o-1", "confirmed", "ann@example.com"))
    channel.deliver(compose("o-2", "payment_failed", "bob@example.com"))
    assert [(m["orderId"], m["kind"]) for m in channel.messages()] == [
        ("o-1", "confirmed"),
        ("o-2", "payment_failed"),
    ]


def test_a_file_that_cannot_be_written_is_transient(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a directory")
    with pytest.raises(TransientFailure, match="cannot write to"):
        FileChannel(tmp_path / "taken" / "out.jsonl").deliver(compose("o-1", "confirmed", "a@b.c"))


def test_smtp_refusing_a_recipient_is_undeliverable() -> None:
    with smtp_server() as mailbox:
        mailbox.refuse.add("nobody@example.com")
        channel = SmtpChannel(mailbox.host, mailbox.port)
        with pytest.raises(Undeliverable, match=rf"SMTP server at 127\.0\.0\.1:{mailbox.port} refused .*550"):
            channel.deliver(compose("o-1", "confirmed", "nobody@example.com"))
        channel.deliver(compose("o-1", "confirmed", "ann@example.com"))
        assert len(mailbox.received) == 1


def test_smtp_server_away_is_transient_and_named() -> None:
    port = free_port()
    with pytest.raises(TransientFailure, match=rf"SMTP server at 127\.0\.0\.1:{port}"):
        SmtpChannel("127.0.0.1", port, timeout=2).deliver(compose("o-1", "confirmed", "ann@example.com"))


def test_open_channel_by_spec(tmp_path: Path) -> None:
    default = open_channel(None, tmp_path)
    assert isinstance(default, FileChannel)
    assert default.path == tmp_path / "notifications.jsonl"
    named = open_channel(f"file://{tmp_path}/x.jsonl", tmp_path)
    assert isinstance(named, FileChannel)
    assert named.path == tmp_path / "x.jsonl"
    smtp = open_channel("smtp://mail.local:2525?from=shop@example.com", tmp_path)
    assert isinstance(smtp, SmtpChannel)
    assert (smtp.host, smtp.port, smtp.sender) == ("mail.local", 2525, "shop@example.com")
    plain = open_channel("smtp://mail.local", tmp_path)
    assert isinstance(plain, SmtpChannel)
    assert plain.port == 25


@pytest.mark.parametrize("spec", ["kafka://x", "smtp://", "smtp://host:notaport", "file://"])
def test_a_bad_channel_spec_is_named(tmp_path: Path, spec: str) -> None:
    with pytest.raises(ChannelError, match="notification channel"):
        open_channel(spec, tmp_path)
