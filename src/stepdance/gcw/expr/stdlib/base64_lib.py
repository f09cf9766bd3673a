"""The ``base64`` module: bytes to standard Base64 text and back, padded with ``=`` unless ``padding`` is false."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import value_error
from stepdance.gcw.expr.functions import builtin
from stepdance.gcw.expr.stdlib import args
from stepdance.gcw.expr.values import checked_string


@builtin("base64.encode", "data", "padding", required=1)
def encode(context: Context, data: Any, padding: Any = True) -> str:
    raw = args.bytes_value("base64.encode", "data", data)
    text = base64.b64encode(raw).decode("ascii")
    return checked_string(text if args.boolean("base64.encode", "padding", padding) else text.rstrip("="))


@builtin("base64.decode", "data", "padding", required=1)
def decode(context: Context, data: Any, padding: Any = True) -> bytes:
    text = args.string("base64.decode", "data", data)
    if not args.boolean("base64.decode", "padding", padding):
        if "=" in text:
            raise value_error("base64.decode: padding characters found but padding is false")
        text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise value_error("base64.decode: data is not valid Base64") from None


FUNCTIONS = [encode, decode]
