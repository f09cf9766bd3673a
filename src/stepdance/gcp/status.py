"""The one error shape of stepdance's Google APIs: an answer other than OK, named by its gRPC status code."""

from __future__ import annotations


class GoogleApiError(Exception):
    """``code`` is the gRPC status code's name (``NOT_FOUND``, ``INVALID_ARGUMENT``...), ``message`` the
    status details, worded as the Google API words them, so the serving module maps it in one line."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
