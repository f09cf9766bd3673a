"""Where the shared conformance corpus lives: ``<repo>/../shared/conformance``."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance"


def corpus_folder(name: str) -> Path:
    """The corpus sub-folder, or skip the test saying where it was looked for."""
    folder = CORPUS / name
    if not folder.is_dir():
        pytest.skip(f"the conformance corpus is not at {folder}")
    return folder
