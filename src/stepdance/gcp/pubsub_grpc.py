"""Google Pub/Sub served over gRPC, so that Google's own ``google-cloud-pubsub`` clients (pointed at it with
``PUBSUB_EMULATOR_HOST``) publish and subscribe through the bus.

As for the Executions API (:mod:`.executions_grpc`): generic handlers named as in Google's proto, with the
proto-plus messages as (de)serialisers; an answer other than OK is a gRPC status with Pub/Sub's code and
message; an unexpected error is logged and answered INTERNAL, never with a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.pubsub_v1 import types

from stepdance.bus.catalog import Catalog
from stepdance.bus.transports import Transport
from stepdance.gcp.grpc_status import abort
from stepdance.gcp.pubsub_broker import Broker
from stepdance.gcp.pubsub_catalog import PubSubCatalog
from stepdance.gcp.pubsub_service import PubSubService

PUBLISHER, SUBSCRIBER = "google.pubsub.v1.Publisher", "google.pubsub.v1.Subscriber"
EMPTY = b""  # google.protobuf.Empty, serialised: the answer of the RPCs that return nothing


def _unary(method: Callable[[Any], Awaitable[Any]], request: Any, response: Any) -> grpc.RpcMethodHandler:
    async def answer(message: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            result = await method(message)
        except Exception as error:
            await abort(context, error, f"Pub/Sub: {method.__name__}")
        return EMPTY if result is None else result

    serializer = (lambda m: m) if response is None else response.serialize
    return grpc.unary_unary_rpc_method_handler(
        answer, request_deserializer=request.deserialize, response_serializer=serializer
    )


def _streaming_pull(service: PubSubService) -> grpc.RpcMethodHandler:
    async def stream(
        requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        try:
            first = await anext(requests, None)
            if first is None:
                return
            async for response in service.streaming_pull(first, requests):
                yield response
        except Exception as error:
            await abort(context, error, "Pub/Sub: StreamingPull")

    return grpc.stream_stream_rpc_method_handler(
        stream,
        request_deserializer=types.StreamingPullRequest.deserialize,
        response_serializer=types.StreamingPullResponse.serialize,
    )


def handlers(service: PubSubService) -> tuple[grpc.GenericRpcHandler, grpc.GenericRpcHandler]:
    publisher = grpc.method_handlers_generic_handler(
        PUBLISHER,
        {
            "CreateTopic": _unary(service.create_topic, types.Topic, types.Topic),
            "GetTopic": _unary(service.get_topic, types.GetTopicRequest, types.Topic),
            "ListTopics": _unary(service.list_topics, types.ListTopicsRequest, types.ListTopicsResponse),
            "DeleteTopic": _unary(service.delete_topic, types.DeleteTopicRequest, None),
            "ListTopicSubscriptions": _unary(
                service.list_topic_subscriptions,
                types.ListTopicSubscriptionsRequest,
                types.ListTopicSubscriptionsResponse,
            ),
            "Publish": _unary(service.publish, types.PublishRequest, types.PublishResponse),
        },
    )
    subscriber = grpc.method_handlers_generic_handler(
        SUBSCRIBER,
        {
            "CreateSubscription": _unary(service.create_subscription, types.Subscription, types.Subscription),
            "GetSubscription": _unary(
                service.get_subscription, types.GetSubscriptionRequest, types.Subscription
            ),
            "UpdateSubscription": _unary(
                service.update_subscription, types.UpdateSubscriptionRequest, types.Subscription
            ),
            "ListSubscriptions": _unary(
                service.list_subscriptions, types.ListSubscriptionsRequest, types.ListSubscriptionsResponse
            ),
            "DeleteSubscription": _unary(service.delete_subscription, types.DeleteSubscriptionRequest, None),
            "Pull": _unary(service.pull, types.PullRequest, types.PullResponse),
            "Acknowledge": _unary(service.acknowledge, types.AcknowledgeRequest, None),
            "ModifyAckDeadline": _unary(service.modify_ack_deadline, types.ModifyAckDeadlineRequest, None),
            "StreamingPull": _streaming_pull(service),
        },
    )
    return publisher, subscriber


@dataclass
class PubSubServer:
    """A running server; ``port`` is the bound one."""

    server: grpc.aio.Server
    service: PubSubService
    host: str
    port: int

    async def stop(self, grace: float | None = 1.0) -> None:
        await self.server.stop(grace)
        await self.service.stop()


async def start_pubsub_server(
    catalog: Catalog, transport: Transport, host: str = "127.0.0.1", port: int = 0
) -> PubSubServer:
    """Serve Pub/Sub over the bus's ``catalog`` database and ``transport`` on ``host:port`` (no TLS)."""
    service = PubSubService(PubSubCatalog(catalog), Broker(transport))
    await service.start()
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers(handlers(service))
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        await service.stop()
        raise OSError(f"cannot bind the Pub/Sub API to {host}:{port}")
    await server.start()
    return PubSubServer(server, service, host, bound)
