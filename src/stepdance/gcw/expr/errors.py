"""The two error families of the expression language.

::

    Exception
    ├── ExprSyntaxError   the text inside ${...} is not an expression (raised by parse, like a deploy error)
    └── WorkflowsError    a runtime error as Workflows raises it; ``.error`` is the map an ``except`` sees

A ``WorkflowsError`` carries exactly what Workflows exposes to ``except: as: e``: a map with ``message`` and
``tags`` (``{"message": "...", "tags": ["KeyError", "LookupError"]}``). Lookup and arithmetic errors also
carry their parent tag, the way the runtime reports them, so ``'LookupError' in e.tags`` catches both
``KeyError`` and ``IndexError``.
"""

from __future__ import annotations

from typing import Any

# Parent tags follow the runtime's Python-style hierarchy (KeyError and IndexError are LookupErrors).
_PARENTS: dict[str, tuple[str, ...]] = {
    "KeyError": ("LookupError",),
    "IndexError": ("LookupError",),
    "ZeroDivisionError": ("ArithmeticError",),
}


class ExprSyntaxError(ValueError):
    """The expression text does not parse; ``column`` is 1-based within the text inside ``${...}``."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} (column {column})")
        self.message = message
        self.column = column


class WorkflowsError(Exception):
    """A runtime error carrying the error map Workflows hands to ``except``."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error

    @property
    def tags(self) -> list[str]:
        tags = self.error.get("tags", [])
        return list(tags) if isinstance(tags, list) else []

    @property
    def message(self) -> str:
        message = self.error.get("message", "")
        return message if isinstance(message, str) else str(message)

    @classmethod
    def tagged(cls, tag: str, message: str) -> WorkflowsError:
        return cls({"message": message, "tags": [tag, *_PARENTS.get(tag, ())]})


def type_error(message: str) -> WorkflowsError:
    return WorkflowsError.tagged("TypeError", message)


def value_error(message: str) -> WorkflowsError:
    return WorkflowsError.tagged("ValueError", message)


def key_error(message: str) -> WorkflowsError:
    return WorkflowsError.tagged("KeyError", message)


def index_error(message: str) -> WorkflowsError:
    return WorkflowsError.tagged("IndexError", message)


def zero_division_error(message: str = "division by zero") -> WorkflowsError:
    return WorkflowsError.tagged("ZeroDivisionError", message)


def resource_limit_error(message: str) -> WorkflowsError:
    return WorkflowsError.tagged("ResourceLimitError", message)


def recursion_error(message: str) -> WorkflowsError:
    return WorkflowsError.tagged("RecursionError", message)
