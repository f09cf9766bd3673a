"""The Workflows Executions API served over gRPC, so that Google's own ``ExecutionsClient`` drives the engine.

No generated stubs: the service is a generic handler whose (de)serialisers are the proto-plus messages of
``google-cloud-workflows`` (install the ``gcp`` extra). Every answer other than OK is a gRPC status with
Google's code and a short message; an unexpected error is logged here and answered INTERNAL, never with a
traceback.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.cloud.workflows.executions_v1 import types

from stepdance.engine.client import Client
from stepdance.engine.errors import StepFunctionsError
from stepdance.gcp.executions import (
    ApiError,
    ExecutionName,
    WorkflowName,
    check_listing,
    engine_input,
    execution_fields,
    from_engine,
    not_active,
    page_size,
    parse_execution,
    parse_workflow,
    view_of,
)
from stepdance.gcp.grpc_status import abort

SERVICE = "google.cloud.workflows.executions.v1.Executions"


class ExecutionsService:
    """One method per RPC; each maps the request onto the engine's Step Functions client."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.settings = client.settings

    async def create_execution(self, request: types.CreateExecutionRequest) -> types.Execution:
        workflow = parse_workflow(request.parent)
        input_text = engine_input(request.execution.argument)
        revision_id = await self._revision(workflow, missing_ok=False)
        name = workflow.execution(str(uuid.uuid4()))
        started = await self._engine(
            workflow.resource,
            self.client.start_execution(
                stateMachineArn=workflow.state_machine_arn(self.settings),
                name=name.execution_id,
                input=input_text,
            ),
        )
        described = {"status": "RUNNING", "startDate": started["startDate"], "input": input_text}
        fields = execution_fields(name, described, revision_id=revision_id)
        return types.Execution(fields, call_log_level=request.execution.call_log_level)

    async def get_execution(self, request: types.GetExecutionRequest) -> types.Execution:
        name = parse_execution(request.name)
        described = await self._describe(name)
        revision_id = await self._revision(name.workflow, missing_ok=True)
        view = view_of(request.view.name, "FULL")
        return types.Execution(execution_fields(name, described, view=view, revision_id=revision_id))

    async def list_executions(self, request: types.ListExecutionsRequest) -> types.ListExecutionsResponse:
        workflow = parse_workflow(request.parent)
        view = view_of(request.view.name, "BASIC")
        check_listing(request.filter, request.order_by)
        revision_id = await self._revision(workflow, missing_ok=False)
        page = await self._engine(
            workflow.resource,
            self.client.list_executions(
                stateMachineArn=workflow.state_machine_arn(self.settings),
                maxResults=page_size(request.page_size, view),
                nextToken=request.page_token or None,
            ),
        )
        names = [workflow.execution(item["name"]) for item in page["executions"]]
        # The engine lists without input and output; FULL asks for them (at most 100 a page).
        items = page["executions"]
        if view == "FULL":
            items = await asyncio.gather(*(self._describe(name) for name in names))
        executions = [
            execution_fields(name, item, view=view, revision_id=revision_id)
            for name, item in zip(names, items, strict=True)
        ]
        return types.ListExecutionsResponse(executions=executions, next_page_token=page.get("nextToken", ""))

    async def cancel_execution(self, request: types.CancelExecutionRequest) -> types.Execution:
        name = parse_execution(request.name)
        arn = name.execution_arn(self.settings)
        if (status := (await self._describe(name))["status"]) != "RUNNING":
            raise not_active(name, status)
        stopped = await self._engine(name.resource, self.client.stop_execution(executionArn=arn))
        described = await self._describe(name)
        if described["status"] not in ("RUNNING", "ABORTED"):
            raise not_active(name, described["status"])  # it ended on its own before the stop
        if described["status"] == "RUNNING":
            # The stop is durable but its owner has not applied it yet: answer as it will be, as Google does.
            described = {**described, "status": "ABORTED", "stopDate": stopped["stopDate"]}
        revision_id = await self._revision(name.workflow, missing_ok=True)
        return types.Execution(execution_fields(name, described, revision_id=revision_id))

    async def _describe(self, name: ExecutionName) -> dict[str, Any]:
        arn = name.execution_arn(self.settings)
        return await self._engine(name.resource, self.client.describe_execution(executionArn=arn))

    async def _revision(self, workflow: WorkflowName, *, missing_ok: bool) -> str:
        """The workflow's current revision id; an execution kept after its workflow was deleted has none."""
        arn = workflow.state_machine_arn(self.settings)
        try:
            described = await self._engine(
                workflow.resource, self.client.describe_state_machine(stateMachineArn=arn)
            )
        except ApiError as error:
            if missing_ok and error.code == "NOT_FOUND":
                return ""
            raise
        return str(described.get("revisionId") or "")

    async def _engine(self, resource: str, call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        try:
            return await call
        except StepFunctionsError as error:
            raise from_engine(error, resource) from None


def _rpc(
    method: Callable[[Any], Awaitable[Any]],
) -> Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]:
    async def answer(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await method(request)
        except Exception as error:
            await abort(context, error, f"Workflows Executions API: {method.__name__}")

    return answer


def handler(service: ExecutionsService) -> grpc.GenericRpcHandler:
    """The generic handler of the Executions service, named as in Google's proto."""

    def unary(method: Callable[[Any], Awaitable[Any]], request: Any, response: Any) -> Any:
        return grpc.unary_unary_rpc_method_handler(
            _rpc(method),
            request_deserializer=request.deserialize,
            response_serializer=response.serialize,
        )

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "CreateExecution": unary(service.create_execution, types.CreateExecutionRequest, types.Execution),
            "GetExecution": unary(service.get_execution, types.GetExecutionRequest, types.Execution),
            "ListExecutions": unary(
                service.list_executions, types.ListExecutionsRequest, types.ListExecutionsResponse
            ),
            "CancelExecution": unary(service.cancel_execution, types.CancelExecutionRequest, types.Execution),
        },
    )


@dataclass
class ExecutionsServer:
    """A running server; ``port`` is the bound one (ask for port 0 to get a free one)."""

    server: grpc.aio.Server
    host: str
    port: int

    async def stop(self, grace: float | None = 1.0) -> None:
        await self.server.stop(grace)


async def start_executions_server(client: Client, host: str = "127.0.0.1", port: int = 0) -> ExecutionsServer:
    """Serve the Executions API for ``client``'s engine on ``host:port``, without TLS, on the running loop."""
    # without SO_REUSEPORT (grpc's default is on): a second server on a taken port must fail, not share it
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((handler(ExecutionsService(client)),))
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind the Workflows Executions API to {host}:{port}")
    await server.start()
    return ExecutionsServer(server, host, bound)
