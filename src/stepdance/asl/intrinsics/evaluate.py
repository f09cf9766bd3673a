"""Evaluating a parsed intrinsic call against a state's input, the context object and the variables.

Failures are ``States.Runtime`` with the cause AWS writes: a path argument that finds nothing (also an
index past the end, which a plain ``"x.$"`` reference would read as null) names the whole expression and
the argument; arguments a function cannot take give "Invalid arguments in States.X".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepdance.asl import errors
from stepdance.asl.errors import StatesError
from stepdance.asl.intrinsics.invocation import InvalidArguments, Invocation
from stepdance.asl.intrinsics.parser import (
    Call,
    IntrinsicSyntaxError,
    Literal,
    Node,
    PathArg,
    parse_intrinsic,
)
from stepdance.asl.intrinsics.registry import FUNCTIONS
from stepdance.asl.jsonpath import MISSING, find
from stepdance.asl.jsontext import to_json
from stepdance.asl.scope import Scope


def evaluate_intrinsic(expression: str, value: Any, scope: Scope) -> Any:
    """Evaluate ``States.X(...)``; parsed calls are cached."""
    try:
        call = parse_intrinsic(expression)
    except IntrinsicSyntaxError as exc:
        raise StatesError(
            errors.RUNTIME, f"The value '{expression}' is not a valid intrinsic function: {exc}"
        ) from None
    return evaluate_call(call, expression, value, scope)


def evaluate_call(call: Call, expression: str, value: Any, scope: Scope) -> Any:
    """Evaluate an already parsed call; ``expression`` is its text, quoted in error causes."""
    return _Evaluator(expression, value, scope).call(call)


class _Evaluator:
    __slots__ = ("expression", "scope", "value")

    def __init__(self, expression: str, value: Any, scope: Scope) -> None:
        self.expression = expression
        self.value = value
        self.scope = scope

    def node(self, node: Node) -> Any:
        return _NODES[type(node)](self, node)

    def literal(self, node: Literal) -> Any:
        return node.value

    def path(self, node: PathArg) -> Any:
        found = find(node.path, self.value, self.scope)
        if found is MISSING:
            # A $$ argument is reported as the equivalent $ path, as Step Functions does.
            shown = "$" + node.text[2:] if node.path.root == "$$" else node.text
            raise StatesError(
                errors.RUNTIME,
                f"The function '{self.expression}' had the following error: The JsonPath argument for the "
                f"field '{shown}' could not be found in the input '{to_json(self.value)}'",
            )
        return found

    def call(self, call: Call) -> Any:
        signature = FUNCTIONS[call.name]
        try:
            count = len(call.args)
            if count < signature.min_args or (signature.max_args is not None and count > signature.max_args):
                raise InvalidArguments
            args = [self.node(arg) for arg in call.args]
            return signature.function(Invocation(call, args, self.scope))
        except InvalidArguments as exc:
            reason = exc.reason or f"Invalid arguments in {call.name}"
            raise StatesError(
                errors.RUNTIME,
                f"There was an error while evaluating the intrinsic function: {self.expression}. {reason}",
            ) from None


_NODES: dict[type, Callable[[_Evaluator, Any], Any]] = {
    Literal: _Evaluator.literal,
    PathArg: _Evaluator.path,
    Call: _Evaluator.call,
}
