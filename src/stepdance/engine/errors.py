"""The client's exceptions, named and worded as AWS Step Functions names and words them.

Each carries ``response`` shaped like botocore's ``ClientError.response``, so code written against boto3
(``error.response["Error"]["Code"]``) reads them unchanged. Store errors become these in exactly one place,
:func:`from_store`.
"""

from __future__ import annotations

from stepdance import store
from stepdance.awserror import AwsError


class StepFunctionsError(AwsError):
    """Base class; the error code is the class name, as in AWS's ``__type``."""


class ActivityDoesNotExist(StepFunctionsError):
    pass


class ExecutionAlreadyExists(StepFunctionsError):
    pass


class ExecutionDoesNotExist(StepFunctionsError):
    pass


class ExecutionNotRedrivable(StepFunctionsError):
    pass


class InvalidArn(StepFunctionsError):
    pass


class InvalidDefinition(StepFunctionsError):
    pass


class InvalidExecutionInput(StepFunctionsError):
    pass


class InvalidName(StepFunctionsError):
    pass


class InvalidOutput(StepFunctionsError):
    pass


class InvalidToken(StepFunctionsError):
    pass


class StateMachineAlreadyExists(StepFunctionsError):
    pass


class StateMachineDoesNotExist(StepFunctionsError):
    pass


class StateMachineTypeNotSupported(StepFunctionsError):
    pass


class TaskDoesNotExist(StepFunctionsError):
    pass


class TaskTimedOut(StepFunctionsError):
    pass


class ValidationException(StepFunctionsError):
    pass


class ServiceUnavailable(StepFunctionsError):
    """The store cannot be reached; the call may succeed when retried."""


def from_store(error: store.StoreError, subject: str = "") -> StepFunctionsError:
    """The AWS error for a store error about ``subject`` (an arn, a token)."""
    match error:
        case store.ExecutionDoesNotExist():
            return ExecutionDoesNotExist(f"Execution Does Not Exist: '{subject}'")
        case store.StateMachineDoesNotExist():
            return StateMachineDoesNotExist(f"State Machine Does Not Exist: '{subject}'")
        case store.ActivityDoesNotExist():
            return ActivityDoesNotExist(f"Activity Does Not Exist: '{subject}'")
        case store.ExecutionAlreadyExists():
            return ExecutionAlreadyExists(f"Execution Already Exists: '{subject}'")
        case store.StateMachineAlreadyExists():
            return StateMachineAlreadyExists(f"State Machine Already Exists: '{subject}'")
        case store.TaskDoesNotExist():
            return InvalidToken("Invalid Token: 'Invalid token'")
        case store.TaskClosed():
            return TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
        case store.ExecutionNotRedrivable():
            return ExecutionNotRedrivable(f"Execution is not redrivable: '{subject}'")
        case store.InvalidPageToken():
            return InvalidToken(f"Invalid Token: '{subject}'")
        case store.StoreUnavailable():
            return ServiceUnavailable(str(error))
    return StepFunctionsError(str(error))
