"""The standard library usable inside expressions, one module per library, gathered by name.

``FUNCTIONS`` maps each dotted name to its declaration; ``VALUES`` holds the named non-function values
(retry policies); ``BLOCKING`` lists the library calls that exist only as ``call:`` steps (they wait, log or
do HTTP), which the interpreter performs and expressions may not call.
"""

from __future__ import annotations

from typing import Any

from stepdance.gcw.expr.functions import Builtin
from stepdance.gcw.expr.stdlib import (
    base64_lib,
    builtins,
    http_lib,
    json_lib,
    list_lib,
    map_lib,
    math_lib,
    retry_lib,
    sys_lib,
    text,
    time_lib,
    uuid_lib,
)

_MODULES = [builtins, text, json_lib, base64_lib, math_lib, list_lib, map_lib, time_lib, uuid_lib, sys_lib]
_MODULES += [http_lib, retry_lib]

FUNCTIONS: dict[str, Builtin] = {
    function.name: function for module in _MODULES for function in module.FUNCTIONS
}
VALUES: dict[str, Any] = {**http_lib.VALUES, **retry_lib.VALUES}
BLOCKING = frozenset(
    {
        "sys.sleep",
        "sys.sleep_until",
        "sys.log",
        "http.get",
        "http.post",
        "http.put",
        "http.patch",
        "http.delete",
        "http.request",
        "events.await_callback",
        "events.create_callback_endpoint",
    }
)
