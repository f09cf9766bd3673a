"""What an execution's expressions may observe beyond their variables, derived from the execution alone.

- ``sys.now()`` is the ``now`` of the transition;
- ``uuid.generate()`` is the n-th UUID of the execution: the first 16 bytes of SHA-256 over the execution's
  id and n, with the version-4 bits set (it looks like the random UUID Workflows returns, and a replay gets
  the same one, n being kept in the snapshot);
- ``sys.get_env`` reads the built-in variables Workflows documents (``GOOGLE_CLOUD_LOCATION``,
  ``GOOGLE_CLOUD_PROJECT_ID``, ``GOOGLE_CLOUD_PROJECT_NUMBER``, ``GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME``,
  ``GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID``, ``GOOGLE_CLOUD_WORKFLOW_ID``, ``GOOGLE_CLOUD_WORKFLOW_REVISION_ID``),
  derived from the execution's id, which may be a Workflows name
  (``projects/P/locations/L/workflows/W/executions/E``) or an ARN (``arn:aws:states:REGION:ACCOUNT:...``),
  and the user-defined ones given at the start; the built-ins are reserved and win.
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from collections.abc import Mapping
from typing import Any

REVISION = "000001-000"


def environment(info: Mapping[str, Any], user: Mapping[str, str]) -> dict[str, str]:
    execution = str(info.get("execution_arn", ""))
    project, location = "stepdance", "local"
    if execution.startswith("projects/"):
        parts = execution.split("/")
        project = parts[1] if len(parts) > 1 else project
        location = parts[3] if len(parts) > 3 else location
    elif execution.startswith("arn:"):
        parts = execution.split(":")
        location = parts[3] if len(parts) > 3 and parts[3] else location
        project = parts[4] if len(parts) > 4 and parts[4] else project
    number = project if project.isdigit() else str(zlib.crc32(project.encode()))
    built_in = {
        "GOOGLE_CLOUD_LOCATION": location,
        "GOOGLE_CLOUD_PROJECT_ID": project,
        "GOOGLE_CLOUD_PROJECT_NUMBER": number,
        "GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME": str(info.get("role_arn", "")),
        "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID": str(info.get("name", "")),
        "GOOGLE_CLOUD_WORKFLOW_ID": str(info.get("state_machine_name", "")),
        "GOOGLE_CLOUD_WORKFLOW_REVISION_ID": REVISION,
    }
    return {**user, **built_in}


def nth_uuid(execution: str, n: int) -> str:
    digest = hashlib.sha256(f"{execution}#uuid#{n}".encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))
