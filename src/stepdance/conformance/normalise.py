"""Normalise a raw execution history the way LocalStack normalised the recorded one (README, "Normalisation
of the expected histories"), so that the two can be compared.

The document is ``{"events": [...]}`` as GetExecutionHistory returns it; an event's own ``timestamp`` may be
anything (a datetime, an ISO string, epoch seconds): it is masked whatever it holds.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stepdance.conformance.locate import locate
from stepdance.conformance.parallel import reorder_branch_events
from stepdance.conformance.texts import (
    TextReplacements,
    mask_date_times,
    starts_with_date_time,
    starts_with_uuid,
)

Transformer = Mapping[str, Any]

_FIXED_FIELDS = (
    ("$..SdkHttpMetadata..Date", "date"),
    ("$..SdkResponseMetadata..RequestId", "RequestId"),
    *(
        (f"$..{name}", name)
        for name in ("X-Amzn-Trace-Id", "x-amz-crc32", "x-amzn-RequestId", "x-amzn-requestid")
    ),
)
# A JSON object in single quotes closing a cause: "... with input '{...}'".
_QUOTED_JSON_IN_CAUSE = re.compile(r".*'(\{.*\})'")


class _EventTime:
    """Stands for an event's own timestamp until the in-place masking step."""

    def __repr__(self) -> str:
        return "timestamp"


_EVENT_TIME = _EventTime()


@dataclass(frozen=True, slots=True)
class Names:
    """The engine-side names LocalStack replaced by placeholders."""

    partition: str | None = None
    region: str | None = None
    account: str | None = None
    state_machine: str | None = None
    execution: str | None = None
    role_arn: str | None = None

    @classmethod
    def from_arns(
        cls, state_machine_arn: str | None, execution_arn: str | None, role_arn: str | None = None
    ) -> Names:
        """``arn:<partition>:states:<region>:<account>:stateMachine:<name>`` and
        ``...:execution:<state machine>:<execution>``."""
        sm_parts = state_machine_arn.split(":") if state_machine_arn else []
        ex_parts = execution_arn.split(":") if execution_arn else []
        parts = ex_parts or sm_parts or (role_arn.split(":") if role_arn else [])
        return cls(
            partition=_part(parts, 1),
            region=_part(ex_parts or sm_parts, 3),
            account=_part(parts, 4),
            state_machine=sm_parts[-1] if sm_parts else _part(ex_parts, 6),
            execution=ex_parts[-1] if ex_parts else None,
            role_arn=role_arn,
        )


def _part(parts: list[str], index: int) -> str | None:
    return parts[index] if len(parts) > index and parts[index] else None


def normalise(
    document: dict[str, Any],
    transformers: Sequence[Transformer] = (),
    names: Names | None = None,
    *,
    parallel: bool = False,
) -> dict[str, Any]:
    """The normalised copy of ``document``; the argument is left untouched."""
    names = names or Names()
    doc = _sorted_keys(document)  # a copy: every dict and list is rebuilt
    _visit(doc, lambda k, v: isinstance(v, str) and v.startswith("{"), _parse_json_text)
    events = doc.get("events") if isinstance(doc.get("events"), list) else []
    for event in events:
        if isinstance(event, dict) and "timestamp" in event:
            event["timestamp"] = _EVENT_TIME
    texts = TextReplacements()
    _blank_fixed_fields(doc)
    _visit(doc, _is_cause_with_json, lambda d, k: texts.reference(_cause_json(d[k]) or "", "json-input"))
    for transformer in transformers:
        _TRANSFORMERS[transformer["type"]](doc, transformer, texts, names)
    if parallel:
        reorder_branch_events(events)
    _register_names(texts, names)
    _visit(doc, _is_uuid_id, lambda d, k: texts.reference(d[k], "uuid"))
    texts.function(mask_date_times)
    _visit(doc, _is_unmasked_timestamp, _set("timestamp"))
    return dict(texts.apply(doc))


# --------------------------------------------------------------------------- walking


Match = Callable[[str, Any], bool]
Apply = Callable[[dict[str, Any], str], None]


def _visit(node: dict[str, Any], match: Match, apply: Apply) -> None:
    """Apply to every matching object entry, depth-first through objects and the objects directly inside
    arrays; a matched entry's value is not descended into."""
    for key, value in list(node.items()):
        if match(key, value):
            apply(node, key)
        elif isinstance(value, dict):
            _visit(value, match, apply)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _visit(item, match, apply)


def _set(replacement: Any) -> Apply:
    def apply(node: dict[str, Any], key: str) -> None:
        node[key] = replacement

    return apply


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _parse_json_text(node: dict[str, Any], key: str) -> None:
    with contextlib.suppress(ValueError):
        node[key] = json.loads(node[key])


# --------------------------------------------------------------------------- matchers


def _is_cause_with_json(key: str, value: Any) -> bool:
    return key == "cause" and isinstance(value, str) and _cause_json(value) is not None


def _cause_json(cause: str) -> str | None:
    match = _QUOTED_JSON_IN_CAUSE.match(cause)
    if match is None:
        return None
    try:
        json.loads(match[1])
    except ValueError:
        return None
    return match[1]


def _is_uuid_id(key: str, value: Any) -> bool:
    return isinstance(value, str) and key.lower().endswith("id") and starts_with_uuid(value)


def _is_unmasked_timestamp(key: str, value: Any) -> bool:
    return "timestamp" in key.lower() and not (isinstance(value, str) and starts_with_date_time(value))


# --------------------------------------------------------------------------- replacements


def _blank_fixed_fields(doc: dict[str, Any]) -> None:
    for path, replacement in _FIXED_FIELDS:
        for container, key in locate(doc, path):
            container[key] = replacement


def _register_names(texts: TextReplacements, names: Names) -> None:
    if names.account:
        texts.literal(names.account, "111111111111")
    if names.region:
        texts.literal(names.region, "<region>")
    if names.partition:
        texts.literal(f"arn:{names.partition}:", "arn:<partition>:")


TransformerHandler = Callable[[dict[str, Any], Transformer, TextReplacements, Names], None]


def _role_arn(doc: dict[str, Any], t: Transformer, texts: TextReplacements, names: Names) -> None:
    if names.role_arn:
        texts.literal(names.role_arn, "snf_role_arn")


def _state_machine_name(doc: dict[str, Any], t: Transformer, texts: TextReplacements, names: Names) -> None:
    if names.state_machine:
        texts.literal(names.state_machine, t["replacement"])


def _execution_name(doc: dict[str, Any], t: Transformer, texts: TextReplacements, names: Names) -> None:
    if names.execution:
        texts.literal(names.execution, t["replacement"])


def _jsonpath(doc: dict[str, Any], t: Transformer, texts: TextReplacements, names: Names) -> None:
    for container, key in locate(doc, t["path"]):
        if not t.get("reference", True):
            container[key] = t["replacement"]
        elif isinstance(container[key], str):
            texts.reference(container[key], t["replacement"])


def _regex(doc: dict[str, Any], t: Transformer, texts: TextReplacements, names: Names) -> None:
    texts.pattern(t["pattern"], t["replacement"])


def _key_value(doc: dict[str, Any], t: Transformer, texts: TextReplacements, names: Names) -> None:
    def matches(key: str, value: Any) -> bool:
        return key == t["key"] and value is not None and value != ""

    def by_reference(node: dict[str, Any], key: str) -> None:
        if isinstance(node[key], str):
            texts.reference(node[key], t["replacement"])

    _visit(doc, matches, by_reference if t.get("reference", True) else _set(t["replacement"]))


_TRANSFORMERS: dict[str, TransformerHandler] = {
    "role_arn": _role_arn,
    "state_machine_name": _state_machine_name,
    "execution_name": _execution_name,
    "jsonpath": _jsonpath,
    "regex": _regex,
    "key_value": _key_value,
}
