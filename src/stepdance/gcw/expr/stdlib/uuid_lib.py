"""The ``uuid`` module: ``uuid.generate()``, a random version-4 UUID, taken from the context (replayable)."""

from __future__ import annotations

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.functions import builtin


@builtin("uuid.generate")
def generate(context: Context) -> str:
    return str(context.uuid4())


FUNCTIONS = [generate]
