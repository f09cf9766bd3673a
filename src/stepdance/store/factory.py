"""Open a store from a URL: ``memory://``, ``sqlite:///path/to/file.db``, ``postgresql://user@host/db``.

A PostgreSQL URL may carry ``schema=`` (tables in a schema of that name, created if missing) and any URL
``prefix=`` (table names start with it); both are removed before connecting.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from stepdance.store.base import Store
from stepdance.store.errors import StoreError


def open_store(url: str, *, schema: str | None = None, prefix: str | None = None) -> Store:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    base, options = _options(url)
    schema = schema or options.get("schema")
    prefix = prefix if prefix is not None else options.get("prefix", "")
    if scheme == "memory":
        from stepdance.store.memory import MemoryStore

        return MemoryStore()
    if scheme == "sqlite":
        return _sqlite(base.split("://", 1)[1].removeprefix("/") or ":memory:", prefix)
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        return _postgres(base, schema, prefix)
    raise StoreError(f"Unsupported store URL {url!r}: use memory://, sqlite:///path or postgresql://...")


def _options(url: str) -> tuple[str, dict[str, str]]:
    """Split our options off the query string, leaving the rest of the URL exactly as written."""
    base, _, query_text = url.partition("?")
    query = dict(parse_qsl(query_text))
    options = {k: query.pop(k) for k in ("schema", "prefix") if k in query}
    return (f"{base}?{urlencode(query)}" if query else base), options


def _sqlite(path: str, prefix: str) -> Store:
    from stepdance.store.sql.engine import sqlite_engines
    from stepdance.store.sql.schema import build
    from stepdance.store.sql.store import SqlStore

    writer, reader = sqlite_engines(path)
    return SqlStore(writer, build(prefix=prefix), reader)


def _postgres(url: str, schema: str | None, prefix: str) -> Store:
    from stepdance.store.sql.engine import postgres_engines
    from stepdance.store.sql.schema import build
    from stepdance.store.sql.store import SqlStore

    writer, reader = postgres_engines(url)
    return SqlStore(writer, build(schema=schema, prefix=prefix), reader)
