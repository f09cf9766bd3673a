"""What a ``call`` step may name besides the definition's own subworkflows: the standard library's
functions and the connectors (``googleapis.SERVICE.VERSION.RESOURCE...METHOD``).

The library is listed module by module, so that ``http.fetch`` is reported as unknown rather than taken on
trust; connectors are too many to list (one per Google API method), so only their shape is checked.
"""

from __future__ import annotations

import difflib

CONNECTOR_PREFIX = "googleapis."
CONNECTOR_MIN_PARTS = 4  # googleapis.pubsub.v1.projects.topics.publish: service, version, method at least

# The standard library's functions, by module (the retry policies, http.default_retry and
# retry.default_backoff, are values to put in retry:, not functions to call).
LIBRARY: dict[str, tuple[str, ...]] = {
    "base64": ("decode", "encode"),
    "events": ("await_callback", "create_callback_endpoint"),
    "experimental.executions": ("map", "run"),
    "hash": ("compute_checksum", "compute_hmac"),
    "http": (
        "delete",
        "get",
        "patch",
        "post",
        "put",
        "request",
        "default_retry_predicate",
        "default_retry_predicate_non_idempotent",
    ),
    "json": ("decode", "encode", "encode_to_string"),
    "list": ("concat", "prepend"),
    "map": ("delete", "get", "merge", "merge_nested"),
    "math": ("abs", "floor", "max", "min"),
    "retry": ("always", "never"),
    "sys": ("get_env", "log", "now", "sleep", "sleep_until"),
    "text": (
        "decode",
        "encode",
        "find_all",
        "find_all_regex",
        "match_regex",
        "replace_all",
        "replace_all_regex",
        "split",
        "substring",
        "to_lower",
        "to_upper",
        "url_decode",
        "url_encode",
        "url_encode_plus",
    ),
    "time": ("format", "parse"),
    "uuid": ("generate",),
}
POLICIES = ("http.default_retry", "http.default_retry_non_idempotent", "retry.default_backoff")

# Arguments a library function cannot do without.
REQUIRED_ARGS: dict[str, tuple[str, ...]] = {
    "http.get": ("url",),
    "http.post": ("url",),
    "http.put": ("url",),
    "http.patch": ("url",),
    "http.delete": ("url",),
    "http.request": ("method", "url"),
    "sys.sleep": ("seconds",),
    "sys.sleep_until": ("time",),
    "events.await_callback": ("callback",),
}


def is_library(function: str) -> bool:
    """Whether ``function`` is a library function or a connector (known or not): it has a module."""
    return "." in function


def library_problem(function: str) -> str | None:
    """Why ``function`` (which has a dot) cannot be called, or None if it can."""
    if function.startswith(CONNECTOR_PREFIX):
        if len(function.split(".")) < CONNECTOR_MIN_PARTS or "" in function.split("."):
            return (
                f"{function!r} is not a connector call: a connector is named "
                "googleapis.SERVICE.VERSION.RESOURCE.METHOD (googleapis.pubsub.v1.projects.topics.publish)"
            )
        return None
    if function in POLICIES:
        return f"{function!r} is a retry policy, not a function: use it as retry: ${{{function}}}"
    module, _, name = function.rpartition(".")
    if module not in LIBRARY:
        modules = ", ".join(sorted(LIBRARY))
        return (
            f"{function!r} is not in the standard library (modules: {modules}, and googleapis.* connectors)"
        )
    if name in LIBRARY[module]:
        return None
    close = difflib.get_close_matches(name, LIBRARY[module], n=1)
    guess = f"; did you mean {module}.{close[0]}?" if close else ""
    return f"{module} has no function {name!r} (it has {', '.join(LIBRARY[module])}){guess}"
