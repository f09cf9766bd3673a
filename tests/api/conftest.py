from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.served import Served, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server per test module (starting one takes about a second); tests name what they create
    uniquely, so they do not see each other's resources."""
    with serving(tmp_path_factory.mktemp("served"), "--handlers", "tests.api.user_handlers") as server:
        yield server


@pytest.fixture(scope="module")
def sfn(served: Served) -> object:
    return served.client("stepfunctions", read_timeout=70)


@pytest.fixture(scope="module")
def events(served: Served) -> object:
    return served.client("events")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
