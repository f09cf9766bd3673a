"""Random small arithmetic workflows against the same program evaluated directly in Python: assignments,
switches, loops and sleeps (each sleep one more transition through JSON), 64-bit overflow included."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.gcw.test_machine_support import run

NAMES = ("x", "y", "z")
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}

operand = st.one_of(st.sampled_from(NAMES), st.integers(-9, 9))
assign_op = st.tuples(
    st.just("assign"), st.sampled_from(NAMES), operand, st.sampled_from(sorted(OPS)), operand
)
switch_op = st.tuples(
    st.just("switch"), st.sampled_from(NAMES), st.integers(-20, 20), st.sampled_from(NAMES), operand
)
loop_op = st.tuples(st.just("loop"), st.integers(0, 4), st.sampled_from(NAMES), st.sampled_from(sorted(OPS)))
sleep_op = st.tuples(st.just("sleep"))
program = st.lists(st.one_of(assign_op, switch_op, loop_op, sleep_op), min_size=1, max_size=8)


class Overflow(Exception):
    pass


def _value(env: dict[str, int], term: Any) -> int:
    return env[term] if isinstance(term, str) else int(term)


def _checked(value: int) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise Overflow
    return value


def evaluate(ops: list[tuple[Any, ...]], env: dict[str, int]) -> dict[str, int]:
    for op in ops:
        if op[0] == "assign":
            _, target, left, sign, right = op
            env[target] = _checked(OPS[sign](_value(env, left), _value(env, right)))
        elif op[0] == "switch":
            _, name, bound, target, term = op
            if env[name] > bound:
                env[target] = _value(env, term)
        elif op[0] == "loop":
            _, count, target, sign = op
            for i in range(1, count + 1):
                env[target] = _checked(OPS[sign](env[target], i))
    return env


def _term(term: Any) -> str:
    return term if isinstance(term, str) else f"({term})"


def render(ops: list[tuple[Any, ...]]) -> str:
    lines = ["main:", "  params: [args]", "  steps:", "    - init:", "        assign:"]
    lines += [f"          - {name}: ${{args.{name}}}" for name in NAMES]
    for at, op in enumerate(ops):
        lines.append(f"    - s{at}:")
        if op[0] == "assign":
            _, target, left, sign, right = op
            lines += ["        assign:", f"          - {target}: ${{{_term(left)} {sign} {_term(right)}}}"]
        elif op[0] == "switch":
            _, name, bound, target, term = op
            lines += [
                "        switch:",
                f"          - condition: ${{{name} > ({bound})}}",
                "            assign:",
                f"              - {target}: ${{{_term(term)}}}",
            ]
        elif op[0] == "loop":
            _, count, target, sign = op
            lines += [
                "        for:",
                "          value: i",
                f"          range: [1, {count}]",
                "          steps:",
                f"            - s{at}_body:",
                "                assign:",
                f"                  - {target}: ${{{target} {sign} i}}",
            ]
        else:
            lines += ["        call: sys.sleep", "        args: {seconds: 1}"]
    lines += ["    - done:", "        return: {x: '${x}', y: '${y}', z: '${z}'}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@example(ops=[("assign", "x", "x", "*", "x")] * 7, start={"x": 5, "y": 0, "z": 0})  # 5 ** 128 overflows
@given(program, st.fixed_dictionaries({name: st.integers(-5, 5) for name in NAMES}))
def test_the_interpreter_computes_what_python_computes(
    ops: list[tuple[Any, ...]], start: dict[str, int]
) -> None:
    outcome = run(render(ops), start)
    try:
        expected = evaluate(ops, dict(start))
    except Overflow:
        assert (outcome.status, outcome.error) == ("FAILED", "ValueError"), outcome.cause
        return
    assert outcome.status == "SUCCEEDED", outcome.cause
    assert outcome.result == expected
    sleeps = sum(op[0] == "sleep" for op in ops)
    assert outcome.steps == 1 + sleeps  # one transition to start, one per sleep
