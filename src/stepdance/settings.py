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

    @property
    def store(self) -> str:
        """The store URL, defaulting to a SQLite file in the data directory."""
        return self.store_url or f"sqlite:///{(self.data_dir / 'engine.db').resolve()}"

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
        )

    def with_store(self, url: str | None) -> Settings:
        """These settings with ``url`` as the store (a CLI flag beats the environment)."""
        return replace(self, store_url=url) if url else self
