"""Names and ARNs as EventBridge checks and builds them, and the transport's topic and group names."""

from __future__ import annotations

import re

from stepdance.bus.errors import constraint
from stepdance.settings import Settings

DEFAULT_BUS = "default"
BUS_NAME = r"[/\.\-_A-Za-z0-9]+"
SIMPLE_NAME = r"[\.\-_A-Za-z0-9]+"  # rules, targets, archives, replays
_BUS_ARN = re.compile(r"arn:aws[\w-]*:events:[\w-]*:\d*:event-bus/(" + BUS_NAME + ")")
_ARCHIVE_ARN = re.compile(r"arn:aws[\w-]*:events:[\w-]*:\d*:archive/(" + SIMPLE_NAME + ")")
_RULE_ARN = re.compile(r"arn:aws[\w-]*:events:[\w-]*:\d*:rule/(?:(" + BUS_NAME + ")/)?(" + SIMPLE_NAME + ")")


def check(value: str, where: str, pattern: str, max_length: int) -> str:
    """``value`` when it fits AWS's modelled pattern and length; ValidationException in AWS's words else."""
    if not isinstance(value, str) or not value:
        raise constraint(value, where, "Member must have length greater than or equal to 1")
    if len(value) > max_length:
        raise constraint(value, where, f"Member must have length less than or equal to {max_length}")
    if not re.fullmatch(pattern, value):
        raise constraint(value, where, f"Member must satisfy regular expression pattern: {pattern}")
    return value


def bus_name(name_or_arn: str | None) -> str:
    """The bus an ``EventBusName`` parameter names (a name or an ARN); ``default`` when omitted."""
    if name_or_arn is None or name_or_arn == "":
        return DEFAULT_BUS
    found = _BUS_ARN.fullmatch(name_or_arn)
    if found:
        return found.group(1)
    return check(name_or_arn, "eventBusName", BUS_NAME, 1600)


def bus_of_arn(arn: str) -> str | None:
    found = _BUS_ARN.fullmatch(arn or "")
    return found.group(1) if found else None


def archive_of_arn(arn: str) -> str | None:
    found = _ARCHIVE_ARN.fullmatch(arn or "")
    return found.group(1) if found else None


def rule_of_arn(arn: str) -> tuple[str, str] | None:
    """(bus, rule) of a rule ARN."""
    found = _RULE_ARN.fullmatch(arn or "")
    return (found.group(1) or DEFAULT_BUS, found.group(2)) if found else None


def _prefix(settings: Settings) -> str:
    return f"arn:aws:events:{settings.region}:{settings.account}"


def bus_arn(settings: Settings, bus: str) -> str:
    return f"{_prefix(settings)}:event-bus/{bus}"


def rule_arn(settings: Settings, bus: str, rule: str) -> str:
    return (
        f"{_prefix(settings)}:rule/{rule}" if bus == DEFAULT_BUS else f"{_prefix(settings)}:rule/{bus}/{rule}"
    )


def archive_arn(settings: Settings, archive: str) -> str:
    return f"{_prefix(settings)}:archive/{archive}"


def replay_arn(settings: Settings, replay: str) -> str:
    return f"{_prefix(settings)}:replay/{replay}"


def handler_arn(settings: Settings, name: str) -> str:
    """The target ARN of a Python handler registered as ``name`` (a Lambda function ARN)."""
    return f"arn:aws:lambda:{settings.region}:{settings.account}:function:{name}"


# Transport names: the transports make any name safe for their servers; '/' cannot occur in rule names or
# target ids, so it joins them unambiguously.


def topic(bus: str) -> str:
    """The transport topic every event of ``bus`` is published on."""
    return f"events/{bus}"


def target_group(rule: str, target_id: str) -> str:
    """The consumer group of one target: its consumers, in any process, share the group's messages."""
    return f"target/{rule}/{target_id}"


ARCHIVE_GROUP = "archive"
