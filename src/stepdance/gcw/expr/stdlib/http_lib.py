"""The expression-usable part of ``http``: the default retry predicates and policies.

``http.default_retry_predicate`` retries 429, 502, 503 and 504, and any ConnectionError,
ConnectionFailedError and TimeoutError (its reference page). The non-idempotent variant retries only what
cannot have reached the target twice: 429, 503 and ConnectionFailedError. An error that is not a map
(a workflow may ``raise`` a string) matches neither. The requests themselves (``http.get``, ``http.post``...)
are blocking calls the interpreter performs.
"""

from __future__ import annotations

from typing import Any

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib.retry_lib import DEFAULT_BACKOFF, RetryPolicy
from stepdance.gcw.expr.values import FunctionRef, is_int

_IDEMPOTENT_CODES = frozenset({429, 502, 503, 504})
_IDEMPOTENT_TAGS = frozenset({"ConnectionError", "ConnectionFailedError", "TimeoutError"})
_NON_IDEMPOTENT_CODES = frozenset({429, 503})
_NON_IDEMPOTENT_TAGS = frozenset({"ConnectionFailedError"})


def _matches(e: Any, codes: frozenset[int], tags: frozenset[str]) -> bool:
    if not isinstance(e, dict):
        return False
    code = e.get("code")
    if is_int(code) and code in codes:
        return True
    error_tags = e.get("tags")
    return isinstance(error_tags, list) and any(isinstance(t, str) and t in tags for t in error_tags)


@builtin("http.default_retry_predicate", "e")
def default_retry_predicate(context: Context, e: Any) -> bool:
    return _matches(e, _IDEMPOTENT_CODES, _IDEMPOTENT_TAGS)


@builtin("http.default_retry_predicate_non_idempotent", "e")
def default_retry_predicate_non_idempotent(context: Context, e: Any) -> bool:
    return _matches(e, _NON_IDEMPOTENT_CODES, _NON_IDEMPOTENT_TAGS)


FUNCTIONS = [default_retry_predicate, default_retry_predicate_non_idempotent]
VALUES: dict[str, Any] = {
    "http.default_retry": RetryPolicy(FunctionRef("http.default_retry_predicate"), 5, DEFAULT_BACKOFF),
    "http.default_retry_non_idempotent": RetryPolicy(
        FunctionRef("http.default_retry_predicate_non_idempotent"), 5, DEFAULT_BACKOFF
    ),
}
