"""ASL error names and the one exception the pure language raises.

Every failure inside a state (a path that finds nothing, an intrinsic called wrongly, a JSONata expression
that returns nothing) is a :class:`StatesError` carrying AWS's error name and cause text. The interpreter
adds the "An error occurred while executing the state ..." prefix where AWS does, so helpers raise the bare
cause.
"""

from __future__ import annotations

ALL = "States.ALL"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"

# Errors that a States.ALL retrier or catcher does not match (AWS: "terminal" errors).
NOT_MATCHED_BY_ALL = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})

# Every predefined name; a Retry/Catch ErrorEquals may name any of them or any custom string.
PREDEFINED = frozenset(
    {
        ALL,
        HEARTBEAT_TIMEOUT,
        TIMEOUT,
        TASK_FAILED,
        PERMISSIONS,
        RESULT_PATH_MATCH_FAILURE,
        PARAMETER_PATH_FAILURE,
        QUERY_EVALUATION_ERROR,
        BRANCH_FAILED,
        NO_CHOICE_MATCHED,
        INTRINSIC_FAILURE,
        EXCEED_TOLERATED_FAILURE_THRESHOLD,
        ITEM_READER_FAILED,
        RESULT_WRITER_FAILED,
        RUNTIME,
        DATA_LIMIT_EXCEEDED,
    }
)


class StatesError(Exception):
    """A failure with an ASL error name (``States.Runtime``, a task's own error, ...) and a cause.

    ``location`` names the field being evaluated when AWS reports it (JSONata evaluation failures carry it
    in their ``EvaluationFailed`` event).
    """

    def __init__(self, error: str, cause: str | None = None, *, location: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        self.location = location


def matches(error_equals: list[str], error: str) -> bool:
    """Whether a Retry/Catch ``ErrorEquals`` list matches ``error`` under AWS's rules."""
    if error in error_equals:
        return True
    if ALL in error_equals:
        return error not in NOT_MATCHED_BY_ALL
    # AWS: States.TaskFailed is a wildcard for every known error except States.Timeout (and the terminal ones).
    return TASK_FAILED in error_equals and error != TIMEOUT and error not in NOT_MATCHED_BY_ALL
