"""Logging to a file for the time of a long command (scenarios, the report): what the engine and the bus
log while faults strike goes there, not over the progress bars; the command says how many warnings it holds.
"""

from __future__ import annotations

import logging
from pathlib import Path


class LogFile(logging.FileHandler):
    """The root logger's handler for the time of the run (appending), counting warnings and worse."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8", delay=True)
        self.path = path
        self.warnings = 0
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.setLevel(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings += record.levelno >= logging.WARNING
        super().emit(record)

    def __enter__(self) -> LogFile:
        root = logging.getLogger()
        self.level_before = root.level
        root.addHandler(self)
        root.setLevel(min(root.level or logging.WARNING, logging.INFO))
        return self

    def __exit__(self, *_: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self.level_before)
        self.close()
