"""Evaluating a parsed expression against variables, with everything non-deterministic from the context.

Names resolve to variables first; a name (or dotted name such as ``http.default_retry``) that is not a
variable denotes a library value or a function. ``m.key`` and ``m["key"]`` need a map and an existing key
(KeyError); ``l[i]`` needs a list, an integer index and ``0 <= i < len(l)`` (IndexError); ``and``/``or``
take booleans and short-circuit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stepdance.gcw.expr import operators
from stepdance.gcw.expr.calls import call_function, library_value
from stepdance.gcw.expr.context import Context
from stepdance.gcw.expr.errors import (
    index_error,
    key_error,
    recursion_error,
    resource_limit_error,
    type_error,
)
from stepdance.gcw.expr.nodes import (
    Attribute,
    Binary,
    Call,
    Expr,
    Index,
    ListLiteral,
    Literal,
    Logical,
    MapLiteral,
    Name,
    Unary,
    dotted_name,
)
from stepdance.gcw.expr.values import is_int, type_name


def evaluate(expr: Expr, scope: Mapping[str, Any], context: Context) -> Any:
    """The value of ``expr``; raises WorkflowsError (never a Python RecursionError or MemoryError)."""
    try:
        return _Evaluator(scope, context).eval(expr)
    except RecursionError:
        raise recursion_error("maximum recursion depth exceeded while evaluating an expression") from None
    except MemoryError:
        raise resource_limit_error("memory limit exceeded while evaluating an expression") from None


class _Evaluator:
    def __init__(self, scope: Mapping[str, Any], context: Context) -> None:
        self._scope = scope
        self._context = context
        self._dispatch: dict[type[Expr], Callable[[Any], Any]] = {
            Literal: self._literal,
            Name: self._name,
            Attribute: self._attribute,
            Index: self._index,
            Call: self._call,
            Unary: self._unary,
            Binary: self._binary,
            Logical: self._logical,
            ListLiteral: self._list,
            MapLiteral: self._map,
        }

    def eval(self, node: Expr) -> Any:
        return self._dispatch[type(node)](node)

    def _literal(self, node: Literal) -> Any:
        return node.value

    def _name(self, node: Name) -> Any:
        if node.name in self._scope:
            return self._scope[node.name]
        return library_value(node.name, self._context)

    def _attribute(self, node: Attribute) -> Any:
        name = dotted_name(node)
        if name is not None and name.split(".", 1)[0] not in self._scope:
            return library_value(name, self._context)
        target = self.eval(node.target)
        if not isinstance(target, dict):
            raise type_error(f"cannot read attribute '{node.name}' of {type_name(target)} (expected a map)")
        return _lookup(target, node.name)

    def _index(self, node: Index) -> Any:
        target = self.eval(node.target)
        index = self.eval(node.index)
        if isinstance(target, dict):
            if not isinstance(index, str):
                raise type_error(f"map keys are strings, not {type_name(index)}")
            return _lookup(target, index)
        if isinstance(target, list):
            if not is_int(index):
                raise type_error(f"list indices must be integers, not {type_name(index)}")
            if not 0 <= index < len(target):
                raise index_error(f"list index out of range: {index} (list has {len(target)} elements)")
            return target[index]
        raise type_error(f"'{type_name(target)}' value is not subscriptable (expected a list or map)")

    def _call(self, node: Call) -> Any:
        args = [self.eval(arg) for arg in node.args]
        return call_function(node.function, args, self._context)

    def _unary(self, node: Unary) -> Any:
        operand = self.eval(node.operand)
        return operators.negate(operand) if node.op == "-" else operators.logical_not(operand)

    def _binary(self, node: Binary) -> Any:
        left = self.eval(node.left)
        return operators.binary(node.op, left, self.eval(node.right))

    def _logical(self, node: Logical) -> bool:
        left = operators.require_bool(node.op, self.eval(node.left))
        if left is (node.op == "or"):
            return left
        return operators.require_bool(node.op, self.eval(node.right))

    def _list(self, node: ListLiteral) -> list[Any]:
        return [self.eval(item) for item in node.items]

    def _map(self, node: MapLiteral) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.entries:
            key = self.eval(key_node)
            if not isinstance(key, str):
                raise type_error(f"map keys must be strings, not {type_name(key)}")
            result[key] = self.eval(value_node)
        return result


def _lookup(mapping: dict[str, Any], key: str) -> Any:
    try:
        return mapping[key]
    except KeyError:
        raise key_error(f"key not found: {key}") from None
