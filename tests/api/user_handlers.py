"""A user's own task handlers, loaded by ``stepdance serve --handlers tests.api.user_handlers``: what a
Lambda function behind a state machine would be."""

from __future__ import annotations

from typing import Any


def greet(event: dict[str, Any]) -> dict[str, Any]:
    return {"greeting": f"hello {event['name']}"}


HANDLERS = {"arn:aws:lambda:us-east-1:123456789012:function:greet": greet}
