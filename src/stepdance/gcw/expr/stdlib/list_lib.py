"""The ``list`` module: new lists with one value added at the end (``concat``) or the front (``prepend``).

The value is added as one element even when it is itself a list; the input list is never modified.
"""

from __future__ import annotations

from typing import Any

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args


@builtin("list.concat", "objs", "val")
def concat(context: Context, objs: Any, val: Any) -> list[Any]:
    return [*args.list_value("list.concat", "objs", objs), val]


@builtin("list.prepend", "objs", "val")
def prepend(context: Context, objs: Any, val: Any) -> list[Any]:
    return [val, *args.list_value("list.prepend", "objs", objs)]


FUNCTIONS = [concat, prepend]
