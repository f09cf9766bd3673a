"""Google Cloud's APIs over the engine: the Workflows Executions API, served over gRPC.

Importing this package needs nothing beyond stepdance; serving needs the ``gcp`` extra (grpcio and
google-cloud-workflows), imported only when :func:`start_executions_server` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepdance.engine.client import Client
    from stepdance.gcp.executions_grpc import ExecutionsServer

__all__ = ["GcpUnavailable", "start_executions_server"]


class GcpUnavailable(RuntimeError):
    """The ``gcp`` extra is not installed."""


async def start_executions_server(client: Client, host: str = "127.0.0.1", port: int = 0) -> ExecutionsServer:
    """Serve the Workflows Executions API for ``client``'s engine on ``host:port`` (0: a free port), on the
    running loop; ``await server.stop(grace)`` ends it."""
    try:
        from stepdance.gcp import executions_grpc
    except ImportError as error:
        raise GcpUnavailable(
            f"the Workflows Executions API needs the 'gcp' extra (pip install 'stepdance[gcp]'): {error}"
        ) from error
    return await executions_grpc.start_executions_server(client, host, port)
