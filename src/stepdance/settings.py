"""Settings from ``STEPDANCE_*`` environment variables, with defaults that need nothing installed.

==============================  ==========================================  ==========================
variable                        meaning                                     default
==============================  ==========================================  ==========================
STEPDANCE_DATA_DIR              where embedded stores keep their files      ``.stepdance``
STEPDANCE_STORE                 the engine's store URL: ``sqlite:///path``,  ``sqlite:///<data dir>/
                                ``postgresql://...``, ``memory://``           engine.db``
STEPDANCE_LEASE_SECONDS         how long a worker owns executions without   ``5``
                                renewing; a dead worker's executions are
                                taken over this long after it died
STEPDANCE_POLL_SECONDS          how often a worker looks for signals other  ``0.2``
                                processes queued (task results, stops) and
                                activity workers look for new tasks
STEPDANCE_REGION                the region in ARNs                          ``us-east-1``
STEPDANCE_ACCOUNT               the account id in ARNs                      ``123456789012``
STEPDANCE_HANDLER_THREADS       threads running synchronous task handlers   ``32``
STEPDANCE_CLAIM_BATCH           how many unowned executions a worker takes  ``100``
                                at a time (smaller spreads them over more
                                workers)
STEPDANCE_BUS                   the event bus's transport: ``sqlite:///``,  ``sqlite:///<data dir>/
                                ``nats://``, ``redis://``, ``amqp://``,      bus.db``
                                ``pubsub://host:port`` (Pub/Sub's API), or
                                ``pubsub`` (an endpoint of the run's own)
STEPDANCE_CATALOG               the bus's catalog (buses, rules, targets,   ``sqlite:///<data dir>/
                                dead letters): ``sqlite:///`` or             catalog.db``
                                ``postgresql://...``
STEPDANCE_SERVICES              the order services' databases: SQLite       SQLite files in the data
                                files in a directory, or a schema per       directory
                                service on ``postgresql://...``
STEPDANCE_ACK_WAIT_SECONDS      how long a bus consumer may hold a delivery ``60``
                                without acking it before the transport
                                gives it to another consumer (a killed
                                consumer's deliveries come back after it)
STEPDANCE_RETRY_SCALE           multiplies every retry wait: the engine's   ``1``
                                Retry back-offs and the bus's redelivery
                                back-off (``0.05`` makes a 1 s wait 50 ms:
                                scenarios and tests that exhaust a retry
                                budget in seconds); never for production
STEPDANCE_TRACING               ``off`` records no spans                    ``on``: JSON lines under
                                                                            ``<data dir>/traces``
STEPDANCE_OTLP_ENDPOINT         send spans over OTLP/HTTP instead of to      unset (OpenTelemetry's
                                files (``http://collector:4318``)           ``OTEL_EXPORTER_OTLP_
                                                                            ENDPOINT`` works too)
STEPDANCE_CLOUDEVENTS           ``binary`` or ``structured``: every HTTP     ``off``: the event as
                                target receives its events as CloudEvents   EventBridge sends it
                                in that HTTP content mode
==============================  ==========================================  ==========================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path(".stepdance")
    store_url: str = ""
    lease_seconds: float = 5.0
    poll_seconds: float = 0.2
    region: str = "us-east-1"
    account: str = "123456789012"
    handler_threads: int = 32
    claim_batch: int = 100
    bus_url: str = ""
    catalog_url: str = ""
    services_url: str = ""
    retry_scale: float = 1.0
    ack_wait_seconds: float = 60.0
    tracing: bool = True
    cloudevents: str = ""  # "", "binary" or "structured": how HTTP targets receive events

    @property
    def store(self) -> str:
        """The store URL, defaulting to a SQLite file in the data directory."""
        return self.store_url or f"sqlite:///{(self.data_dir / 'engine.db').resolve()}"

    @property
    def bus(self) -> str:
        """The bus's transport URL, defaulting to the SQLite log in the data directory."""
        return self.bus_url or f"sqlite:///{(self.data_dir / 'bus.db').resolve()}"

    @property
    def catalog(self) -> str:
        """The bus catalog's URL, defaulting to a SQLite file in the data directory."""
        return self.catalog_url or f"sqlite:///{(self.data_dir / 'catalog.db').resolve()}"

    @property
    def services(self) -> str | None:
        """The services' database URL; None: a SQLite file per service in the data directory."""
        return self.services_url or None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str) -> str | None:
            value = env.get(f"STEPDANCE_{name}")
            return value if value else None

        return cls(
            data_dir=Path(get("DATA_DIR") or defaults.data_dir),
            store_url=get("STORE") or "",
            lease_seconds=float(get("LEASE_SECONDS") or defaults.lease_seconds),
            poll_seconds=float(get("POLL_SECONDS") or defaults.poll_seconds),
            region=get("REGION") or defaults.region,
            account=get("ACCOUNT") or defaults.account,
            handler_threads=int(get("HANDLER_THREADS") or defaults.handler_threads),
            claim_batch=int(get("CLAIM_BATCH") or defaults.claim_batch),
            bus_url=get("BUS") or "",
            catalog_url=get("CATALOG") or "",
            services_url=get("SERVICES") or "",
            retry_scale=float(get("RETRY_SCALE") or defaults.retry_scale),
            ack_wait_seconds=float(get("ACK_WAIT_SECONDS") or defaults.ack_wait_seconds),
            tracing=_switch("STEPDANCE_TRACING", get("TRACING"), defaults.tracing),
            cloudevents=_mode("STEPDANCE_CLOUDEVENTS", get("CLOUDEVENTS")),
        )

    def to_env(self) -> dict[str, str]:
        """The ``STEPDANCE_*`` variables that give these settings to another process (``from_env``'s
        inverse; URLs left to their defaults stay unset)."""
        env = {
            "STEPDANCE_DATA_DIR": str(self.data_dir),
            "STEPDANCE_LEASE_SECONDS": str(self.lease_seconds),
            "STEPDANCE_POLL_SECONDS": str(self.poll_seconds),
            "STEPDANCE_REGION": self.region,
            "STEPDANCE_ACCOUNT": self.account,
            "STEPDANCE_HANDLER_THREADS": str(self.handler_threads),
            "STEPDANCE_CLAIM_BATCH": str(self.claim_batch),
            "STEPDANCE_RETRY_SCALE": str(self.retry_scale),
            "STEPDANCE_ACK_WAIT_SECONDS": str(self.ack_wait_seconds),
            "STEPDANCE_TRACING": "on" if self.tracing else "off",
        }
        if self.cloudevents:
            env["STEPDANCE_CLOUDEVENTS"] = self.cloudevents
        for name, url in (
            ("STORE", self.store_url),
            ("BUS", self.bus_url),
            ("CATALOG", self.catalog_url),
            ("SERVICES", self.services_url),
        ):
            if url:
                env[f"STEPDANCE_{name}"] = url
        return env

    def with_store(self, url: str | None) -> Settings:
        """These settings with ``url`` as the store (a CLI flag beats the environment)."""
        return replace(self, store_url=url) if url else self

    def with_urls(
        self,
        *,
        store: str | None = None,
        bus: str | None = None,
        catalog: str | None = None,
        services: str | None = None,
        data_dir: Path | None = None,
    ) -> Settings:
        """These settings with the given URLs (CLI flags beat the environment; None keeps the setting)."""
        changes: dict[str, object] = {}
        for name, value in (
            ("store_url", store),
            ("bus_url", bus),
            ("catalog_url", catalog),
            ("services_url", services),
        ):
            if value:
                changes[name] = value
        if data_dir is not None:
            changes["data_dir"] = data_dir
        return replace(self, **changes)  # type: ignore[arg-type]


def _switch(name: str, value: str | None, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("on", "true", "1", "yes"):
        return True
    if value.lower() in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{name} is on or off, not {value!r}")


def _mode(name: str, value: str | None) -> str:
    if value is None or value.lower() == "off":
        return ""
    if value.lower() in ("binary", "structured"):
        return value.lower()
    raise ValueError(f"{name} is binary, structured or off, not {value!r}")
