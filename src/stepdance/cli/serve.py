"""``stepdance serve``: the AWS-compatible API (Step Functions and EventBridge) over the three designs.

Point boto3 at it with ``endpoint_url`` (docs/aws.md)::

    stepdance serve                              # http://127.0.0.1:8080, no auth (loopback only)
    stepdance serve --host 0.0.0.0 --access-key AKIDLOCAL:secret   # beyond loopback, SigV4 is required
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from stepdance.api.server import ServeError, TriggerSet, faults_of, parse_keys, parse_stock, serve
from stepdance.engine.arns import make
from stepdance.gcp.eventarc_file import TriggerFileError, read_triggers
from stepdance.order.deployment import DeploymentError
from stepdance.order.designs.orchestrated import Orchestrated
from stepdance.order.designs.workflows_saga import WorkflowsSaga
from stepdance.settings import Settings

SAGA = Orchestrated.machine_name
WORKFLOWS_SAGA = WorkflowsSaga.machine_name


def serve_cmd(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (beyond loopback needs keys)."
    ),
    port: int = typer.Option(8080, "--port", help="Port to listen on (0: any free port)."),
    access_key: list[str] = typer.Option(
        [], "--access-key", help="ID:SECRET an AWS client signs with (repeatable); turns SigV4 auth on."
    ),
    handlers: str = typer.Option(
        None, "--handlers", help="Module whose register(engine) (or HANDLERS dict) serves task resources."
    ),
    faults: Path = typer.Option(
        None,
        "--faults",
        help="A scenario file whose error and latency faults the services suffer while serving.",
    ),
    stock: list[str] = typer.Option(
        [], "--stock", help="SKU=UNITS to stock when the inventory has never seen the SKU (repeatable)."
    ),
    grpc_port: int = typer.Option(
        8081,
        "--grpc-port",
        help="Port of Cloud Workflows' Executions API over gRPC (0: any free port; -1: not served).",
    ),
    triggers: Path = typer.Option(
        None,
        "--triggers",
        help="A JSON or YAML file of Eventarc triggers to create or replace (docs/gcp.md).",
    ),
    pubsub_port: int = typer.Option(
        8085,
        "--pubsub-port",
        help="Port of Google Pub/Sub over the bus, gRPC (PUBSUB_EMULATOR_HOST; 0: any free port; -1: not served).",
    ),
) -> None:
    """Serve the Step Functions and EventBridge APIs (AWS's JSON protocol) until Ctrl-C."""
    console = Console(stderr=True, soft_wrap=True)
    settings = Settings.from_env()
    try:
        keys = parse_keys(access_key)
        levels = parse_stock(stock) if stock else None
        injected = faults_of(faults) if faults is not None else None
        trigger_set = None
        if triggers is not None:
            documents, pointers = read_triggers(triggers)
            trigger_set = TriggerSet(str(triggers), documents, pointers)

        def ready(bound: int) -> None:
            auth = f"SigV4, {len(keys)} access key(s)" if keys else "no auth: loopback only"
            url = f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
            console.print(f"stepdance serving the Step Functions and EventBridge APIs on {url} ({auth})")
            console.print(f"  data: {settings.data_dir.resolve()}; boto3: endpoint_url='{url}'")
            console.print(f"  orchestrated saga: start_execution on {make(settings, 'stateMachine', SAGA)}")
            console.print("  choreographed saga: put_events of OrderCreated from 'orders' on the default bus")
            if trigger_set is not None:
                console.print(
                    f"  Eventarc triggers: {len(trigger_set.documents)} from {trigger_set.source}"
                    " (stepdance triggers list)"
                )
            console.print("  Ctrl-C stops it; docs/aws.md says what it serves")

        def pubsub_ready(bound: int) -> None:
            where = f"{host if not keys else '127.0.0.1'}:{bound}"
            console.print(
                f"  Google Pub/Sub (gRPC, no TLS) on {where}: PUBSUB_EMULATOR_HOST={where}; docs/gcp.md"
            )

        def grpc_ready(bound: int) -> None:
            workflow = f"projects/local/locations/us-central1/workflows/{WORKFLOWS_SAGA}"
            console.print(
                f"  Cloud Workflows Executions API (gRPC, no TLS) on {host if not keys else '127.0.0.1'}:{bound}: "
                f"create_execution(parent='{workflow}', ...); docs/cloud-workflows.md"
            )

        asyncio.run(
            serve(
                settings,
                host=host,
                port=port,
                keys=keys,
                stock=levels,
                on_ready=ready,
                handlers=handlers,
                faults=injected,
                grpc_port=None if grpc_port < 0 else grpc_port,
                on_grpc=grpc_ready,
                pubsub_port=None if pubsub_port < 0 else pubsub_port,
                on_pubsub=pubsub_ready,
                triggers=trigger_set,
            )
        )
    except (ServeError, DeploymentError, TriggerFileError) as error:
        console.print(f"error: {error}", markup=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass
