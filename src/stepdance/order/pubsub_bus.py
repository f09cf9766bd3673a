"""``--bus pubsub``: the bus's events through Google Pub/Sub's API, served by an endpoint of the run's own.

The deployment starts stepdance's Pub/Sub endpoint on a free loopback port, over the embedded SQLite log
(``<data dir>/pubsub.db``) and the bus catalog, and points the bus at it as ``pubsub://127.0.0.1:PORT``:
every event crosses the gRPC API as a Pub/Sub message, topics and subscriptions included, exactly as it
would with ``pubsub://`` pointed at a ``stepdance serve`` or another emulator.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import replace

from stepdance.bus.catalog import open_catalog
from stepdance.bus.transports import open_transport
from stepdance.settings import Settings

SHORTHAND = ("pubsub", "pubsub://")


def wants_own_endpoint(settings: Settings) -> bool:
    return settings.bus_url in SHORTHAND


async def with_own_endpoint(settings: Settings, stack: AsyncExitStack) -> Settings:
    """``settings`` with the bus at a Pub/Sub endpoint started here (stopped with ``stack``)."""
    from stepdance.gcp.pubsub_grpc import start_pubsub_server  # the gcp extra, only when asked for

    catalog = open_catalog(settings.catalog)
    stack.callback(catalog.close)
    transport = open_transport(f"sqlite:///{(settings.data_dir / 'pubsub.db').resolve()}")
    stack.push_async_callback(transport.close)
    server = await start_pubsub_server(catalog, transport)
    stack.push_async_callback(server.stop, 1.0)
    return replace(settings, bus_url=f"pubsub://127.0.0.1:{server.port}")
