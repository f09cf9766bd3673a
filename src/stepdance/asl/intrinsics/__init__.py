"""The 18 intrinsic functions of JSONPath states (``States.Format``, ``States.ArrayRange``, ...).

``is_intrinsic(text)`` tells whether a ``.$`` value is written as a call; ``evaluate_intrinsic`` parses
(once, cached) and evaluates it. The parser lives in :mod:`.parser`, one small function per intrinsic in
:mod:`.arrays`, :mod:`.text`, :mod:`.json_functions` and :mod:`.numbers`, dispatched by :mod:`.registry`.
"""

from stepdance.asl.intrinsics.evaluate import evaluate_call, evaluate_intrinsic
from stepdance.asl.intrinsics.parser import Call, IntrinsicSyntaxError, is_intrinsic, parse_intrinsic

__all__ = [
    "Call",
    "IntrinsicSyntaxError",
    "evaluate_call",
    "evaluate_intrinsic",
    "is_intrinsic",
    "parse_intrinsic",
]
