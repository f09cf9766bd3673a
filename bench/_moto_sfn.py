"""The moto side of ``engine_vs_moto``: moto's real ASL interpreter, not its static mock.

``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})`` routes Step Functions to moto's
parser backend, which interprets the definition in a thread per execution (the static mock only walks
canned statuses). An execution is timed two ways:

- ``boto3``: ``start_execution`` and ``describe_execution`` through a boto3 client, as a moto user does;
- ``interpreter``: the parser backend's ``start_execution`` called directly, no botocore in the way.

The ratios use whichever of the two was faster.

Completion is awaited by joining the execution's interpreter thread, so no polling delay is counted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench"


class MotoStepFunctions:
    def __init__(self, client: Any, backend: Any) -> None:
        self.client = client
        self.backend = backend
        self._names = iter(range(10**9))

    def create(self, name: str, definition: dict[str, Any]) -> str:
        reply = self.client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
        return str(reply["stateMachineArn"])

    def run_boto3(self, arn: str, input_text: str) -> str:
        with _joined():
            started = self.client.start_execution(
                stateMachineArn=arn, name=f"b{next(self._names)}", input=input_text
            )
        reply = self.client.describe_execution(executionArn=started["executionArn"])
        return _succeeded(reply["status"], reply.get("output"))

    def run_interpreter(self, arn: str, input_text: str) -> str:
        with _joined():
            execution = self.backend.start_execution(
                arn, name=f"i{next(self._names)}", execution_input=input_text
            )
        return _succeeded(execution.exec_status, execution.output)


@contextmanager
def moto_step_functions() -> Iterator[MotoStepFunctions]:
    import boto3
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        client = boto3.client("stepfunctions", region_name=REGION)
        yield MotoStepFunctions(client, stepfunctions_parser_backends[ACCOUNT][REGION])


@contextmanager
def _joined() -> Iterator[None]:
    """Wait, after the body, for the interpreter thread(s) the body started."""
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        if thread.name.endswith("(_execution_logic)"):
            thread.join()


def _succeeded(status: Any, output: Any) -> str:
    """The output as JSON text (the backend holds it decoded, the API returns it as text)."""
    if getattr(status, "value", status) != "SUCCEEDED":
        raise RuntimeError(f"moto execution ended {status}: {output}")
    return output if isinstance(output, str) else json.dumps(output)
