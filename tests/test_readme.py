"""The README's Quick start is what CI runs: its first command sets up and runs ``stepdance demo``, its
second is the test command ``.ci/run`` ends in; and the demo command works from a fresh directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the Quick start has a sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_quick_start_is_two_commands_setup_and_demo_then_the_tests() -> None:
    first, second = _quick_start()
    assert "pip install" in first and first.endswith(".venv/bin/stepdance demo")
    assert second == "scripts/test"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install --quiet -e '.[dev]'" in ci and ci.rstrip().endswith("exec scripts/test")


def test_the_demo_command_runs_from_a_fresh_directory(tmp_path: Path) -> None:
    command = _quick_start()[0].rsplit("&&", 1)[1].split()  # ".venv/bin/stepdance demo"
    assert command == [".venv/bin/stepdance", "demo"]
    executable = Path(sys.executable).parent / "stepdance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPDANCE_")}
    done = subprocess.run(
        [str(executable), "demo", "--orders", "60", "--report", "none"],  # the report: tests/cli/test_demo.py
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / ".stepdance" / "demo" / "hybrid" / "engine.db").exists()
