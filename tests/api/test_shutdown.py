"""``stepdance serve`` stops gracefully on SIGTERM, even with an activity worker long-polling it."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from tests.api.served import serving


def test_sigterm_answers_the_long_polls_and_exits(tmp_path: Path) -> None:
    with serving(tmp_path / "data") as served:
        sfn = served.client("stepfunctions", read_timeout=70)
        activity = sfn.create_activity(name="slow-worker")["activityArn"]
        answers: list[dict[str, Any]] = []
        polling = threading.Event()

        def poll() -> None:
            polling.set()
            try:
                answer = sfn.get_activity_task(activityArn=activity, workerName="w")
            except Exception as error:  # SIGTERM came before the poll reached the server: it was cut
                answers.append({"cut": type(error).__name__})
            else:
                answers.append({k: v for k, v in answer.items() if k != "ResponseMetadata"})

        worker = threading.Thread(target=poll)
        worker.start()
        polling.wait(10)
        served.process.send_signal(signal.SIGTERM)
        # a graceful stop (exit 0: uvicorn no longer raises the signal again before the engine has stopped);
        # how the poll itself is ended is tests/engine's test_ending_the_polls_...
        assert served.process.wait(timeout=15) == 0
        worker.join(15)
        assert len(answers) == 1 and answers[0] in ({}, {"cut": answers[0].get("cut")})
