"""The client's exceptions, named and worded as Amazon EventBridge names and words them.

::

    EventsError                         (``response`` shaped like botocore's ClientError.response)
     +-- ValidationException             a parameter breaks a constraint
     +-- InvalidEventPatternException    the matcher's message (``Event pattern is not valid. Reason: ...``)
     +-- ResourceNotFoundException       no bus, rule, archive or replay by that name
     +-- ResourceAlreadyExistsException
     +-- LimitExceededException
     +-- IllegalStatusException          e.g. cancelling a replay that already finished
     +-- InternalException               the store or the transport failed; the call may be retried

Store and transport errors become these in one place, :func:`internal`.
"""

from __future__ import annotations

from typing import Any

from stepdance.awserror import AwsError


class EventsError(AwsError):
    """Base class; the error code is the class name, as in AWS's ``__type``."""


class ValidationException(EventsError):
    pass


class InvalidEventPatternException(EventsError):
    pass


class ResourceNotFoundException(EventsError):
    pass


class ResourceAlreadyExistsException(EventsError):
    pass


class LimitExceededException(EventsError):
    pass


class IllegalStatusException(EventsError):
    pass


class InternalException(EventsError):
    """The bus's store or transport failed; retrying the call may succeed."""


def internal(error: Exception) -> InternalException:
    return InternalException(f"{type(error).__name__}: {error}")


def constraint(value: Any, where: str, rule: str) -> ValidationException:
    """AWS's wording for a parameter that breaks a modelled constraint."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: {rule}"
    )


def bus_not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Event bus {name} does not exist.")


def rule_not_found(rule: str, bus: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Rule {rule} does not exist on EventBus {bus}.")
