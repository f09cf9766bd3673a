"""ARNs and names, built and checked as Step Functions builds and checks them."""

from __future__ import annotations

import re

from stepdance.engine.errors import InvalidArn, InvalidName
from stepdance.settings import Settings

# AWS: 1-80 characters, none of whitespace, brackets, wildcards, special or control characters.
_NAME = re.compile(r"""[^\s<>{}\[\]?*"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}""")
_ARN = re.compile(r"arn:aws[a-z-]*:states:([a-z0-9-]*):(\d*):(stateMachine|execution|activity):(.+)")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidName(f"Invalid Name: '{name}'")
    return name


def make(settings: Settings, kind: str, *names: str) -> str:
    return ":".join(["arn:aws:states", settings.region, settings.account, kind, *names])


def check(arn: str, kind: str) -> str:
    """``arn`` if it names a resource of ``kind`` (stateMachine, execution, activity); InvalidArn else."""
    found = _ARN.fullmatch(arn or "")
    if found is None:
        raise InvalidArn(f"Invalid Arn: '{arn}'")
    if found.group(3) != kind:
        raise InvalidArn(f"Invalid Arn: 'Resource type not valid in this context: {found.group(3)}'")
    return arn


def state_machine_of(execution_arn: str) -> str:
    """The state machine ARN an execution ARN belongs to (``...:execution:machine:name``)."""
    prefix, _, rest = execution_arn.partition(":execution:")
    machine = rest.rsplit(":", 1)[0]
    return f"{prefix}:stateMachine:{machine}"


def execution_of(state_machine_arn: str, name: str) -> str:
    """The ARN of ``state_machine_arn``'s execution named ``name``."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
