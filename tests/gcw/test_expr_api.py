"""The public surface of ``stepdance.gcw.expr`` and the promises it makes about purity."""

from __future__ import annotations

import ast
import pathlib

import stepdance.gcw.expr as expr

EXPECTED = {
    "Backoff",
    "Context",
    "Expr",
    "ExprSyntaxError",
    "FunctionRef",
    "RetryPolicy",
    "WorkflowsError",
    "call_function",
    "evaluate",
    "expression_text",
    "interpolate",
    "parse",
    "parse_value",
}

PACKAGE = pathlib.Path(expr.__file__).parent


def test_exported_members() -> None:
    assert set(expr.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(expr, name) is not None


def _walk() -> list[tuple[pathlib.Path, ast.AST]]:
    return [
        (path, node)
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
    ]


def test_no_python_eval_of_user_text() -> None:
    builtins = {"eval", "exec", "compile", "__import__"}
    found = [
        (path.name, ast.unparse(node))
        for path, node in _walk()
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in builtins)
        or (isinstance(node, ast.Attribute) and node.attr == "literal_eval")
    ]
    assert found == []


def test_pure_no_clock_randomness_environment_or_io() -> None:
    # Time, identifiers, randomness and the environment come from the Context, never from the process.
    impure_modules = {
        "os",
        "time",
        "uuid",
        "random",
        "secrets",
        "socket",
        "subprocess",
        "httpx",
        "urllib.request",
    }
    imports = [
        (path.name, name)
        for path, node in _walk()
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        )
        if name in impure_modules
    ]
    assert imports == []
    clock_calls = [
        (path.name, ast.unparse(node))
        for path, node in _walk()
        if isinstance(node, ast.Attribute)
        and node.attr in {"now", "utcnow", "today", "fromtimestamp"}
        and isinstance(node.value, ast.Name)
        and node.value.id in {"datetime", "date"}
    ]
    assert clock_calls == []
    opens = [
        (path.name, "open") for path, node in _walk() if isinstance(node, ast.Name) and node.id == "open"
    ]
    assert opens == []
