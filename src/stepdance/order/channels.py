"""Where notifications go: a JSON-lines file (the default, nothing to run) or a mail server over SMTP.

::

    channel = open_channel(None, data_dir)                        # FileChannel(<data_dir>/notifications.jsonl)
    channel = open_channel("smtp://127.0.0.1:2525?from=shop@example.com", data_dir)
    channel.deliver(compose("order-00001", "confirmed", "ann@example.com"))

A message's id is derived from its order and kind, so a message sent again after a crash (see
:mod:`.notification`) carries the same ``Message-ID`` and can be recognised as the same message. SMTP errors
become :class:`~stepdance.order.model.TransientFailure` (no connection, a 4xx reply: try again) or
:class:`~stepdance.order.model.Undeliverable` (a 5xx reply: trying again will not help).
"""

from __future__ import annotations

import hashlib
import json
import os
import smtplib
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from stepdance.order.model import TransientFailure, Undeliverable

KINDS = ("confirmed", "cancelled", "payment_failed")
DEFAULT_FILE = "notifications.jsonl"
DEFAULT_SENDER = "orders@stepdance.local"
_SUBJECTS = {
    "confirmed": "Your order {order_id} is confirmed",
    "cancelled": "Your order {order_id} was cancelled",
    "payment_failed": "Your payment for order {order_id} did not go through",
}


class ChannelError(ValueError):
    """A channel specification that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    order_id: str
    kind: str
    to: str
    subject: str
    body: str

    def to_json(self) -> dict[str, str]:
        return {
            "messageId": self.message_id,
            "orderId": self.order_id,
            "kind": self.kind,
            "to": self.to,
            "subject": self.subject,
            "body": self.body,
        }


def compose(order_id: str, kind: str, to: str) -> Message:
    """The message telling ``to`` that ``order_id`` is ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r} (one of {', '.join(KINDS)})")
    digest = hashlib.blake2b(f"{order_id}\0{kind}".encode(), digest_size=10).hexdigest()
    subject = _SUBJECTS[kind].format(order_id=order_id)
    return Message(f"<{kind}.{digest}@stepdance.local>", order_id, kind, to, subject, f"{subject}.\n")


class Channel(Protocol):
    """Delivers a message or raises TransientFailure / Undeliverable."""

    name: str

    def deliver(self, message: Message) -> None: ...


class FileChannel:
    """Appends each message as one JSON line to ``path`` (safe across threads and processes: one
    ``write`` of one line to a file opened for appending)."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def deliver(self, message: Message) -> None:
        line = json.dumps({**message.to_json(), "at": time.time()}) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line.encode())
                finally:
                    os.close(fd)
        except OSError as error:
            raise TransientFailure("notification", f"cannot write to {self.path}: {error}") from error

    def messages(self) -> list[dict[str, Any]]:
        """What was delivered, oldest first."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]


class SmtpChannel:
    """Sends each message as an e-mail through the mail server at ``host:port`` (one connection per
    message, plain SMTP: a local relay's job is the rest)."""

    name = "smtp"

    def __init__(self, host: str, port: int, sender: str = DEFAULT_SENDER, *, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    def deliver(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = message.message_id
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise self._failure(min(codes), f"recipient refused: {error.recipients}") from error
        except smtplib.SMTPResponseException as error:
            raise self._failure(error.smtp_code, str(error.smtp_error)) from error
        except (smtplib.SMTPException, OSError) as error:
            raise self._failure(0, str(error) or type(error).__name__) from error

    def _failure(self, code: int, what: str) -> TransientFailure | Undeliverable:
        where = f"SMTP server at {self.host}:{self.port}"
        if code >= 500:
            return Undeliverable(f"{where} refused the message ({code}): {what}")
        return TransientFailure("notification", f"{where}: {what}" + (f" ({code})" if code else ""))


def open_channel(spec: str | None, data_dir: Path) -> FileChannel | SmtpChannel:
    """The channel ``spec`` names: None or "" (a file under ``data_dir``), ``file:///path/messages.jsonl``
    or ``smtp://host:port[?from=address]``."""
    if not spec:
        return FileChannel(data_dir / DEFAULT_FILE)
    parts = urlsplit(spec)
    if parts.scheme == "file" and parts.path:
        return FileChannel(Path(parts.path))
    if parts.scheme == "smtp" and parts.hostname:
        try:
            port = parts.port or 25
        except ValueError:
            raise ChannelError(f"bad port in the notification channel {spec!r}") from None
        sender = dict(parse_qsl(parts.query)).get("from", DEFAULT_SENDER)
        return SmtpChannel(parts.hostname, port, sender)
    raise ChannelError(
        f"unsupported notification channel {spec!r}: use file:///path or smtp://host:port?from=address"
    )
