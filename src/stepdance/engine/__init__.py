"""The durable ASL runtime: :class:`Engine` advances executions; :class:`Client` is its boto3-shaped API.

::

    store = open_store("sqlite:///.stepdance/engine.db")
    async with Engine(store) as engine:
        engine.register("charge", charge)
        client = Client(engine)
        await client.create_state_machine(name="saga", definition=text, roleArn=role)
        ...
"""

from stepdance.engine.client import Client
from stepdance.engine.errors import StepFunctionsError
from stepdance.engine.handlers import TaskContext, TaskFailure, idempotency_key
from stepdance.engine.runtime import Engine
from stepdance.engine.sync import SyncClient

__all__ = [
    "Client",
    "Engine",
    "StepFunctionsError",
    "SyncClient",
    "TaskContext",
    "TaskFailure",
    "idempotency_key",
]
