"""Where the shared conformance corpus lives: ``<repo>/../shared/conformance``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance"


def corpus_folder(name: str) -> Path:
    """The corpus sub-folder, or skip the test saying where it was looked for."""
    folder = CORPUS / name
    if not folder.is_dir():
        pytest.skip(f"the conformance corpus is not at {folder}")
    return folder


def reference_checker() -> ModuleType | None:
    """The corpus's own ``check.py``, imported by path (tests only use it, as the reference), or None."""
    path = CORPUS / "check.py"
    spec = importlib.util.spec_from_file_location("conformance_reference_check", path)
    if not path.is_file() or spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
