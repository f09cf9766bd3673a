"""Errors of the HTTP layer itself, before a request reaches the engine or the bus: AWS's names and wording.

Each is an :class:`~stepdance.awserror.AwsError`, so the app turns it into ``{"__type", "message"}`` like any
error the clients raise; ``status`` is the HTTP status AWS answers it with (400 for every one of these).
"""

from __future__ import annotations

from stepdance.awserror import AwsError


class ApiError(AwsError):
    status = 400


class SerializationException(ApiError):
    """The body is not JSON, or a field has the wrong JSON type."""


class UnknownOperationException(ApiError):
    """``X-Amz-Target`` names no operation stepdance serves."""


class ValidationException(ApiError):
    """A field is missing or breaks a constraint of the operation's input shape (length, range, enum)."""


class RequestEntityTooLargeException(ApiError):
    """The body is larger than the server accepts."""


class MissingAuthenticationTokenException(ApiError):
    """Auth is on and the request carries no SigV4 ``Authorization`` header."""


class IncompleteSignatureException(ApiError):
    """The ``Authorization`` header or ``X-Amz-Date`` is malformed or lacks a part."""


class UnrecognizedClientException(ApiError):
    """The access key id is not one of the configured keys."""


class InvalidSignatureException(ApiError):
    """The signature does not match the request, or it is too old or too far in the future."""
