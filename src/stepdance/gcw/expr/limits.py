"""Resource limits, so hostile input ends in a Workflows error rather than a Python crash.

Workflows documents a limit on expression length and a maximum string length (256 KB) on its quotas page;
the figure of 400 characters for expressions is the one a third-party emulator reports, as the stored copy
of the quotas page did not show it (``parse`` takes ``max_length`` to override it). The depth limits are
ours: Workflows documents none for expressions, and they only need to keep well inside Python's recursion
limit, since the parser and the evaluator are recursive.
"""

from __future__ import annotations

MAX_EXPRESSION_LENGTH = 400
MAX_STRING_BYTES = 256 * 1024
MAX_PARSE_NESTING = 32
MAX_TREE_DEPTH = 200
MAX_VALUE_DEPTH = 256

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
