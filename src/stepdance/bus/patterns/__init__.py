"""The EventBridge event-pattern language, pure: compile a pattern once, match events against it, and route
events through many rules at once.

```
pattern = compile_pattern('{"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}')
pattern.matches(event)                       # -> bool
rules = RuleIndex(); rules.add("big-orders", pattern); rules.match(event)   # -> ["big-orders"]
test_event_pattern(event_text, pattern_text)  # the TestEventPattern API, with its checks
```

Invalid patterns raise ``InvalidEventPattern`` whose message is AWS's (``Event pattern is not valid. Reason:
...``); an event TestEventPattern would refuse raises ``InvalidEvent``.
"""

from stepdance.bus.patterns.errors import InvalidEvent, InvalidEventPattern
from stepdance.bus.patterns.index import RuleIndex
from stepdance.bus.patterns.match import Pattern, compile_pattern
from stepdance.bus.patterns.testpattern import parse_event, test_event_pattern

__all__ = [
    "InvalidEvent",
    "InvalidEventPattern",
    "Pattern",
    "RuleIndex",
    "compile_pattern",
    "parse_event",
    "test_event_pattern",
]
