"""A process armed at a crash point dies by SIGKILL at the armed hit, not before; unarmed, nothing happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

SCRIPT = (
    "from stepdance.order import crashpoints\n"
    "crashpoints.reach('after_charge_before_ack', 2)\n"
    "print('alive after 2', flush=True)\n"
    "crashpoints.reach('after_reserve_before_ack', 5)\n"
    "crashpoints.reach('after_charge_before_ack')\n"
    "print('alive after 3', flush=True)\n"
)


def _run(crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STEPDANCE_CRASH_AT"}
    if crash_at is not None:
        env["STEPDANCE_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_armed_hit_kills_the_process() -> None:
    done = _run("after_charge_before_ack:3")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout == "alive after 2\n"


def test_a_batch_crossing_the_armed_hit_kills_it() -> None:
    assert _run("after_charge_before_ack:2").returncode == -signal.SIGKILL


def test_unarmed_or_armed_elsewhere_nothing_happens() -> None:
    assert _run(None).stdout == "alive after 2\nalive after 3\n"
    assert _run("after_charge_before_ack:4").returncode == 0


def test_an_unknown_point_is_refused() -> None:
    done = _run("somewhere:1")
    assert done.returncode == 1 and "unknown point 'somewhere'" in done.stderr
