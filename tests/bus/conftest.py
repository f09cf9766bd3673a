"""The bus fixtures (``tests.bus.core_fixtures``) for every test module of this folder."""

from tests.bus.core_fixtures import (
    bus,
    bus_name,
    catalog,
    clean_shared_servers,
    clock,
    events,
    settings,
    transport,
    transport_kind,
)

__all__ = [
    "bus",
    "bus_name",
    "catalog",
    "clean_shared_servers",
    "clock",
    "events",
    "settings",
    "transport",
    "transport_kind",
]
