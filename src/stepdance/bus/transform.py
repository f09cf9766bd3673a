"""What a target receives: the event, a constant ``Input``, the part at ``InputPath``, or the text an
``InputTransformer`` makes; checked at PutTargets as EventBridge checks them. Pure.

The result is the text EventBridge would send (a JSON document for everything but a text template), or
``None`` when an InputPath selects nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stepdance.asl.jsonpath import MISSING as PATH_MISSING
from stepdance.asl.jsonpath import CompiledPath, JsonPathSyntaxError, compile_path, find
from stepdance.asl.scope import Scope
from stepdance.bus import template
from stepdance.bus.errors import ValidationException, constraint

RULE_ARN = "aws.events.rule-arn"
RULE_NAME = "aws.events.rule-name"
INGESTION_TIME = "aws.events.event.ingestion-time"
EVENT = "aws.events.event"
EVENT_JSON = "aws.events.event.json"
PREDEFINED = frozenset({RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON})
MAX_VARIABLES = 100
VARIABLE_NAME = r"[A-Za-z0-9\_\-]+"
_SCOPE = Scope()


@dataclass(frozen=True, slots=True)
class Delivered:
    """What the transformation sees of one delivery besides the event."""

    rule_arn: str
    rule_name: str
    ingestion_time: str  # ISO 8601, milliseconds


@dataclass(frozen=True, slots=True)
class TargetInput:
    """A target's input settings, compiled. ``render`` makes the text the target receives."""

    constant: str | None = None
    path: CompiledPath | None = None
    paths_map: Mapping[str, CompiledPath] = field(default_factory=dict)
    input_template: str | None = None

    @classmethod
    def parse(cls, target: Mapping[str, Any]) -> TargetInput:
        target_id = target.get("Id")
        given = [name for name in ("Input", "InputPath", "InputTransformer") if target.get(name) is not None]
        if len(given) > 1:
            raise ValidationException(
                f"Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}."
            )
        if "Input" in given:
            return cls(constant=_json_constant(target["Input"]))
        if "InputPath" in given:
            return cls(path=_path(target["InputPath"], "InputPath"))
        if "InputTransformer" in given:
            return _transformer(target["InputTransformer"], target_id)
        return cls()

    @property
    def whole_event(self) -> bool:
        """True when the target receives the event itself (no Input, InputPath or InputTransformer)."""
        return self.constant is None and self.path is None and self.input_template is None

    def render(self, event: dict[str, Any], event_text: str, delivered: Delivered | None) -> str | None:
        """The target's input; ``delivered`` is read only with an input template, which needs it."""
        if self.constant is not None:
            return self.constant
        if self.path is not None:
            found = find(self.path, event, _SCOPE)
            return None if found is PATH_MISSING else _compact(found)
        if self.input_template is not None:
            if delivered is None:
                raise ValueError("an input template needs the delivery's rule and ingestion time")
            return template.render(self.input_template, self._values(event, delivered))
        return event_text

    def _values(self, event: dict[str, Any], delivered: Delivered) -> dict[str, Any]:
        values: dict[str, Any] = {
            RULE_ARN: delivered.rule_arn,
            RULE_NAME: delivered.rule_name,
            INGESTION_TIME: delivered.ingestion_time,
            EVENT: _event_without_detail(event, delivered.ingestion_time),
            EVENT_JSON: event,
        }
        for name, path in self.paths_map.items():
            found = find(path, event, _SCOPE)
            values[name] = template.MISSING if found is PATH_MISSING else found
        return values


def _transformer(shape: Any, target_id: Any) -> TargetInput:
    if not isinstance(shape, Mapping) or not isinstance(shape.get("InputTemplate"), str):
        raise constraint(shape, "inputTransformer.inputTemplate", "Member must not be null")
    paths = shape.get("InputPathsMap") or {}
    if len(paths) > MAX_VARIABLES:
        raise constraint(
            paths, "inputTransformer.inputPathsMap", "Member must have length less than or equal to 100"
        )
    compiled = {}
    for name, path in paths.items():
        if not isinstance(name, str) or not re.fullmatch(VARIABLE_NAME, name):
            raise ValidationException(f"InputPathsMap contains invalid key {name}.")
        compiled[name] = _path(path, f"InputPathsMap key {name}")
    text = shape["InputTemplate"]
    for placeholder in template.placeholders(text):
        if placeholder not in compiled and placeholder not in PREDEFINED:
            raise ValidationException(
                f"InputTemplate for target {target_id} contains invalid placeholder {placeholder}."
            )
    return TargetInput(paths_map=compiled, input_template=text)


def _path(text: Any, what: str) -> CompiledPath:
    if not isinstance(text, str):
        raise ValidationException(f"{what} is not a valid JSON path: {text!r}")
    try:
        compiled = compile_path(text)
    except JsonPathSyntaxError as error:
        raise ValidationException(f"{what} is not a valid JSON path: {text} ({error})") from None
    if compiled.root != "$":
        raise ValidationException(f"{what} is not a valid JSON path: {text} (it must start with $)")
    return compiled


def _json_constant(text: Any) -> str:
    try:
        json.loads(text)
    except (TypeError, ValueError):
        raise ValidationException(f"Input is not valid JSON: {text!r}") from None
    return str(text)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _event_without_detail(event: Mapping[str, Any], ingestion_time: str) -> dict[str, Any]:
    """``aws.events.event``: the envelope without ``detail``, ``detail-type`` spelled ``detailType`` and
    ``time`` the ingestion time, in the order AWS writes them."""
    shown = {
        "id": event.get("id"),
        "account": event.get("account"),
        "detailType": event.get("detail-type"),
        "time": ingestion_time,
        "source": event.get("source"),
        "region": event.get("region"),
        "resources": event.get("resources"),
        "version": event.get("version"),
    }
    shown.update(
        {k: v for k, v in event.items() if k not in shown and k not in ("detail", "detail-type", "time")}
    )
    return shown
