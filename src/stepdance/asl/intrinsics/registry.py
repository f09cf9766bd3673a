"""The intrinsic functions by name, with how many arguments each takes (``None``: no upper bound)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from stepdance.asl.intrinsics import arrays, json_functions, numbers, text
from stepdance.asl.intrinsics.invocation import Invocation


class Signature(NamedTuple):
    function: Callable[[Invocation], Any]
    min_args: int
    max_args: int | None


FUNCTIONS: dict[str, Signature] = {
    "States.Format": Signature(text.format_string, 1, None),
    "States.StringToJson": Signature(json_functions.string_to_json, 1, 1),
    "States.JsonToString": Signature(json_functions.json_to_string, 1, 1),
    "States.Array": Signature(arrays.array_of, 0, None),
    "States.ArrayPartition": Signature(arrays.array_partition, 2, 2),
    "States.ArrayContains": Signature(arrays.array_contains, 2, 2),
    "States.ArrayRange": Signature(arrays.array_range, 3, 3),
    "States.ArrayGetItem": Signature(arrays.array_get_item, 2, 2),
    "States.ArrayLength": Signature(arrays.array_length, 1, 1),
    "States.ArrayUnique": Signature(arrays.array_unique, 1, 1),
    "States.Base64Encode": Signature(text.base64_encode, 1, 1),
    "States.Base64Decode": Signature(text.base64_decode, 1, 1),
    "States.Hash": Signature(text.hash_of, 2, 2),
    "States.JsonMerge": Signature(json_functions.json_merge, 3, 3),
    "States.MathRandom": Signature(numbers.math_random, 2, 3),
    "States.MathAdd": Signature(numbers.math_add, 2, 2),
    "States.StringSplit": Signature(text.string_split, 2, 2),
    "States.UUID": Signature(numbers.uuid4, 0, 0),
}
