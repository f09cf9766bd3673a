"""The two ways EventBridge refuses a pattern test: a bad pattern or a bad event, each with AWS's wording."""

from __future__ import annotations

REASON_PREFIX = "Event pattern is not valid. Reason: "


class InvalidEventPattern(ValueError):
    """``InvalidEventPatternException``: ``message`` is AWS's first line, ``Event pattern is not valid. Reason:
    ...``."""

    code = "InvalidEventPatternException"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.message = REASON_PREFIX + reason
        super().__init__(self.message)


class InvalidEvent(ValueError):
    """``ValidationException``: the event given to TestEventPattern is not an EventBridge event."""

    code = "ValidationException"

    def __init__(self) -> None:
        self.message = "Parameter Event is not valid."
        super().__init__(self.message)
