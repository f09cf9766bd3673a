"""The expression-usable part of ``sys``: ``sys.now()`` and ``sys.get_env(name, default)``.

Both read the context, so a replay sees the values the first run saw. ``sys.sleep``, ``sys.sleep_until`` and
``sys.log`` are blocking ``call:`` steps with side effects; the interpreter performs them, and an expression
that calls them is refused (see ``stdlib.BLOCKING``).
"""

from __future__ import annotations

from typing import Any

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args


@builtin("sys.now")
def now(context: Context) -> float:
    return float(context.now())


@builtin("sys.get_env", "name", "default", required=1)
def get_env(context: Context, name: Any, default: Any = None) -> Any:
    return context.env.get(args.string("sys.get_env", "name", name), default)


FUNCTIONS = [now, get_env]
