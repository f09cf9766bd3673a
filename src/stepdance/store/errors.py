"""The one error family every store raises, whatever the backend.

::

    StoreError
     +-- StoreUnavailable           the database cannot be reached or is locked; retrying may help
     +-- NotFound
     |    +-- ExecutionDoesNotExist
     |    +-- StateMachineDoesNotExist
     |    +-- ActivityDoesNotExist
     |    +-- TaskDoesNotExist      no task carries this token
     +-- AlreadyExists
     |    +-- ExecutionAlreadyExists
     |    +-- StateMachineAlreadyExists
     |    +-- ActivityAlreadyExists
     +-- ConflictError              the row changed under the writer (stale version)
     |    +-- LeaseLost             another worker owns the execution now
     +-- TaskClosed                 the task behind a token already finished or was cancelled
     +-- ExecutionNotRedrivable     only FAILED, TIMED_OUT and ABORTED executions can be redriven
     +-- InvalidPageToken           a nextToken the store did not hand out

Driver errors are mapped to these in one place per backend (:func:`stepdance.store.sql.engine.mapped`).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of everything a store raises."""


class StoreUnavailable(StoreError):
    """The database is down, unreachable or busy; the operation may succeed when retried."""


class NotFound(StoreError):
    pass


class ExecutionDoesNotExist(NotFound):
    pass


class StateMachineDoesNotExist(NotFound):
    pass


class ActivityDoesNotExist(NotFound):
    pass


class TaskDoesNotExist(NotFound):
    pass


class AlreadyExists(StoreError):
    pass


class ExecutionAlreadyExists(AlreadyExists):
    pass


class StateMachineAlreadyExists(AlreadyExists):
    pass


class ActivityAlreadyExists(AlreadyExists):
    pass


class ConflictError(StoreError):
    """An optimistic check failed: the execution's version is not the one the writer read."""


class LeaseLost(ConflictError):
    """The execution is owned by another worker now (its lease expired and was taken over)."""


class TaskClosed(StoreError):
    """The task behind a token has already been completed, timed out or cancelled."""


class ExecutionNotRedrivable(StoreError):
    pass


class InvalidPageToken(StoreError):
    pass
