"""What every part of the client shares: the bus, catalog calls with store errors mapped, existence checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from stepdance.bus.errors import bus_not_found, internal, rule_not_found
from stepdance.bus.runtime import Bus
from stepdance.store.errors import StoreError

T = TypeVar("T")


class Calls:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.settings = bus.settings
        self.catalog = bus.catalog

    async def _store(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await self.bus.store(fn, *args, **kwargs)
        except StoreError as error:
            raise internal(error) from error

    async def _require_bus(self, name: str) -> None:
        if await self._store(self.catalog.get_bus, name) is None:
            raise bus_not_found(name)

    async def _require_rule(self, bus: str, rule: str) -> None:
        await self._require_bus(bus)
        if await self._store(self.catalog.get_rule, bus, rule) is None:
            raise rule_not_found(rule, bus)
