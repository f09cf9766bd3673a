"""What the dashboard works with: the clients the API serves, the services' data, the designs (for the demo
workload), and its guard: the API's access keys (HTTP Basic in a browser: the key id and its secret) and a
token every form carries, so another site cannot make a browser act here."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.templating import Jinja2Templates

from stepdance.order.designs.base import Design, Services
from stepdance.settings import Settings

HERE = Path(__file__).parent


def templates() -> Jinja2Templates:
    """The pages' templates: Starlette's Jinja2 environment autoescapes every value in .html templates."""
    found = Jinja2Templates(directory=str(HERE / "templates"))
    found.env.filters["when"] = lambda at: datetime.fromtimestamp(float(at), UTC).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    return found


@dataclass
class DemoRun:
    """The demo workload started from the dashboard: per design, its result once decided."""

    orders: int = 0
    started: float = 0.0
    running: bool = False
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str = ""


@dataclass
class Dashboard:
    sfn: Any  # stepdance.engine.Client
    events: Any  # stepdance.bus.Client
    services: Services
    settings: Settings
    designs: Mapping[str, Design]
    keys: Mapping[str, str] = field(default_factory=dict)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    demo: DemoRun = field(default_factory=DemoRun)
    # the last order page's traces, with the span files' (name, size, mtime) they were read from
    traces: dict[str, tuple[tuple[tuple[str, int, int], ...], list[Any]]] = field(default_factory=dict)
    templates: Jinja2Templates = field(default_factory=lambda: templates())
    triggers: Any = None  # stepdance.gcp.eventarc_triggers.Triggers: the Eventarc triggers page

    def refused(self, request: Request) -> Response | None:
        """None when the request may see the dashboard; else the 401 that asks the browser to log in."""
        if not self.keys:
            return None
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                key_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                key_id, secret = "", ""
            known = self.keys.get(key_id)
            if known is not None and hmac.compare_digest(known.encode(), secret.encode()):
                return None
        return PlainTextResponse(
            "The dashboard needs the API's access key: the key id as user name, its secret as password.",
            401,
            headers={"WWW-Authenticate": 'Basic realm="stepdance", charset="UTF-8"'},
        )

    def forged(self, request: Request, token: str) -> bool:
        """Whether a form was not sent by a page of this dashboard (wrong token, or another origin)."""
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host", ""):
            return True
        return not hmac.compare_digest(token.encode(), self.csrf.encode())
