"""Whether an error says a database could not be reached or dropped the connection (a server restarting, a
network cut): nothing half-done was committed, and the loops that meet it wait and try again, logging one
line rather than a traceback."""

from __future__ import annotations

import logging

from sqlalchemy import exc

from stepdance.store.errors import StoreUnavailable


def away(error: BaseException) -> bool:
    """``error`` is a database being unreachable, not a mistake in what was asked."""
    return isinstance(error, exc.OperationalError | exc.InterfaceError | StoreUnavailable)


def first_line(error: BaseException) -> str:
    """The driver's own message, first line (SQLAlchemy's adds the statement and a link)."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(error).__name__])[0]


def log_failure(log: logging.Logger, error: BaseException, what: str, then: str) -> None:
    """``what`` failed with ``error``, and ``then`` happens: one warning line for a database that is away,
    the traceback for anything else (a bug)."""
    if away(error):
        log.warning("%s: %s; %s", what, first_line(error), then)
    else:
        log.error("%s failed; %s", what, then, exc_info=error)
