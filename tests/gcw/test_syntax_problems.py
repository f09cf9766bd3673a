"""One definition per problem kind: the problem has its code, the line it is on, and its path."""

from __future__ import annotations

from textwrap import dedent

import pytest

from stepdance.gcw.syntax import Problem, SyntaxProblems, parse, validate

# (code, line, path, definition): the definition has exactly one problem of that code, there.
# fmt: off
CASES = [
    ("YAML_SYNTAX", 3, "", "main:\n  steps:\n    - a: [1, 2\n"),
    ("YAML_SYNTAX", 3, "", "- a:\n    assign:\n      - why: ${'because: reasons'}\n"),
    ("YAML_SYNTAX", 2, "", '{"main":\n  {"steps": [}}\n'),
    ("YAML_ALIAS", 1, "", "- &a {s: {steps: [*a]}}\n"),
    ("EMPTY", 1, "", "# nothing but a comment\n"),
    ("TOP_LEVEL", 1, "", "just a sentence\n"),
    ("DUPLICATE_KEY", 4, "main.steps[0].a.next", """\
        - a:
            return: 1
            next: end
            next: end
        """),
    ("MISSING_MAIN", 1, "", """\
        sub:
          steps:
            - a:
                return: 1
        """),
    ("TYPE", 2, "main.steps", "main:\n  steps: {a: {return: 1}}\n"),
    ("TYPE", 4, "main.steps[0].a.next", """\
        - a:
            assign:
              - x: 1
            next: ${x}
        """),
    ("TYPE", 2, "main.steps[0].a.raise", "- a:\n    raise: 42\n"),
    ("MISSING_KEY", 6, "sub", """\
        main:
          steps:
            - a:
                call: sub
                args: {x: 1}
        sub:
          params: [x]
        """),
    ("UNKNOWN_KEY", 3, "main.steps[0].a.asign", """\
        - a:
            call: sys.log
            asign:
              - x: 1
        """),
    ("EMPTY_LIST", 2, "main.steps", "main:\n  steps: []\n"),
    ("STEP_SHAPE", 3, "main.steps[1]", """\
- a:
    return: 1
- b: 1
  c: 2
"""),
    ("STEP_SHAPE", 1, "main.steps[0].a", "- a:\n"),
    ("STEP_NAME", 1, "main.steps[0].", "- '':\n    return: 1\n"),
    ("RESERVED_NAME", 3, "main.steps[1].end", """\
- a:
    next: end
- end:
    return: 1
"""),
    ("NO_KIND", 1, "main.steps[0].a", "- a: {}\n"),
    ("NO_KIND", 3, "main.steps[0].a.switch[0]", """\
        - a:
            switch:
              - condition: ${x > 1}
        """),
    ("CONFLICTING_KINDS", 5, "main.steps[0].a.return", """\
        - a:
            call: http.get
            args:
              url: https://example.com
            return: 1
        """),
    ("ORPHAN_KEY", 3, "main.steps[0].a.result", """\
        - a:
            assign: [x: 1]
            result: r
        """),
    ("ORPHAN_KEY", 3, "main.steps[0].a.except", "- a:\n    return: 1\n    except: {as: e}\n"),
    ("DUPLICATE_STEP", 5, "main.steps[1].b.steps[0].a", """\
        - a:
            assign: [x: 1]
        - b:
            steps:
              - a: {return: 2}
        """),
    ("UNKNOWN_NEXT", 3, "main.steps[0].charge.next", """\
        - charge:
            call: sys.log
            next: refnd
        - refund:
            return: 1
        """),
    ("NEXT_OUT_OF_SCOPE", 3, "main.steps[0].a.next", """\
        - a:
            assign: [x: 1]
            next: inner
        - b:
            steps:
              - inner:
                  return: 1
        """),
    ("NEXT_OUT_OF_SCOPE", 7, "main.steps[0].loop.for.steps[0].inner.next", """\
        - loop:
            for:
              value: v
              in: [1, 2]
              steps:
                - inner:
                    next: after
        - after:
            return: 1
        """),
    ("NEXT_OUT_OF_SCOPE", 8, "main.steps[0].p.parallel.branches[0].one.steps[0].x.next", """\
        - p:
            parallel:
              branches:
                - one:
                    steps:
                      - x:
                          assign: [a: 1]
                          next: y
                - two:
                    steps:
                      - y:
                          assign: [b: 1]
        """),
    ("BREAK_OUTSIDE_LOOP", 4, "main.steps[0].check.switch[0].next", """\
        - check:
            switch:
              - condition: ${x}
                next: break
        """),
    ("BREAK_OUTSIDE_LOOP", 9, "main.steps[0].loop.for.steps[0].p.parallel.branches[0].b.steps[0].c.next", """\
        - loop:
            for:
              value: v
              in: [1]
              steps:
                - p:
                    parallel:
                      branches:
                        - b: {steps: [c: {next: continue}]}
        """),
    ("UNKNOWN_CALL", 2, "main.steps[0].a.call", "- a:\n    call: http.fetch\n    args: {url: x}\n"),
    ("UNKNOWN_CALL", 2, "main.steps[0].a.call", "- a:\n    call: charge_card\n"),
    ("UNKNOWN_CALL", 2, "main.steps[0].a.call", "- a:\n    call: googleapis.pubsub\n"),
    ("UNKNOWN_CALL", 2, "main.steps[0].a.call", "- a:\n    call: http.default_retry\n"),
    ("MISSING_ARG", 5, "main.steps[0].a.args", """\
        main:
          steps:
            - a:
                call: charge
                args:
                  currency: EUR
        charge:
          params: [amount, currency: USD]
          steps:
            - done:
                return: ${amount}
        """),
    ("MISSING_ARG", 1, "main.steps[0].a", "- a:\n    call: http.get\n    result: r\n"),
    ("UNKNOWN_ARG", 6, "main.steps[0].a.args.amout", """\
        main:
          steps:
            - a:
                call: charge
                args:
                  amout: 3
                  amount: 3
        charge:
          params: [amount]
          steps:
            - done:
                return: ${amount}
        """),
    ("ASSIGN_SHAPE", 3, "main.steps[0].a.assign[0]", """\
        - a:
            assign:
              - x: 1
                y: 2
        """),
    ("ASSIGN_TARGET", 3, "main.steps[0].a.assign[0].1x", "- a:\n    assign:\n      - 1x: 1\n"),
    ("ASSIGN_TARGET", 3, "main.steps[0].a.assign[0].a[]", "- a:\n    assign:\n      - a[]: 1\n"),
    ("INVALID_NAME", 4, "main.steps[0].a.result", """\
        - a:
            call: sys.now
            args: {}
            result: my result
        """),
    ("INVALID_NAME", 3, "main.steps[0].l.for.value", """\
- l:
    for:
      value: 2v
      in: []
      steps: [s: {next: end}]
"""),
    ("PARAMS", 2, "main.params", """\
main:
  params: [a, b]
  steps:
    - s:
        return: ${a}
"""),
    ("PARAMS", 8, "sub.params[1]", """\
        main:
          steps:
            - s:
                call: sub
                args: {a: 1}
        sub:
          params: [a,
            a]
          steps:
            - s:
                return: ${a}
        """),
    ("FOR_SOURCE", 2, "main.steps[0].l.for", """\
        - l:
            for:
              value: v
              in: [1, 2]
              range: [1, 2]
              steps:
                - s:
                    next: continue
        """),
    ("FOR_SOURCE", 2, "main.steps[0].l.for", """\
- l:
    for:
      value: v
      steps: [s: {next: break}]
"""),
    ("FOR_RANGE", 4, "main.steps[0].l.for.range", """\
        - l:
            for:
              value: v
              range: [1, 2, 3]
              steps: [s: {next: break}]
        """),
    ("FOR_RANGE", 4, "main.steps[0].l.for.range", """\
        - l:
            for:
              value: v
              range: [1, "ten"]
              steps: [s: {next: break}]
        """),
    ("LOOP_VARIABLE", 6, "main.steps[0].outer.for.steps[0].inner", """\
        - outer:
            for:
              value: v
              in: [1, 2]
              steps:
                - inner:
                    for:
                      value: v
                      range: [1, 2]
                      steps: [s: {next: continue}]
        """),
    ("PARALLEL_SOURCE", 2, "main.steps[0].p.parallel", """\
        - p:
            parallel:
              shared: [x]
        """),
    ("PARALLEL_SOURCE", 2, "main.steps[0].p.parallel", """\
        - p:
            parallel:
              branches:
                - b: {steps: [s: {return: 1}]}
              for:
                value: v
                in: [1]
                steps: [t: {next: continue}]
        """),
    ("EXCEPTION_POLICY", 3, "main.steps[0].p.parallel.exception_policy", """\
        - p:
            parallel:
              exception_policy: unhandled
              branches:
                - b: {steps: [s: {assign: [x: 1]}]}
        """),
    ("SHARED", 4, "main.steps[0].p.parallel.shared[1]", """\
        - p:
            parallel:
              shared: [total,
                {a: 1}]
              branches:
                - b: {steps: [s: {assign: [total: 1]}]}
        """),
    ("CONCURRENCY_LIMIT", 3, "main.steps[0].p.parallel.concurrency_limit", """\
        - p:
            parallel:
              concurrency_limit: -2
              branches:
                - b: {steps: [s: {assign: [x: 1]}]}
        """),
    ("MISSING_KEY", 5, "main.steps[0].t.retry", """\
        - t:
            try:
              call: http.get
              args: {url: https://example.com}
            retry:
              max_retries: 3
              backoff: {initial_delay: 1, max_delay: 10, multiplier: 2}
        """),
    ("RETRY", 5, "main.steps[0].t.retry", """\
        - t:
            try:
              call: http.get
              args: {url: https://example.com}
            retry: http.default_retry
        """),
    ("RETRY", 7, "main.steps[0].t.retry.max_retries", """\
        - t:
            try:
              call: http.get
              args: {url: https://example.com}
            retry:
              predicate: ${http.default_retry_predicate}
              max_retries: -1
              backoff: {initial_delay: 1, max_delay: 10, multiplier: 2}
        """),
    ("CONDITION", 3, "main.steps[0].s.switch[0].condition", """\
        - s:
            switch:
              - condition: x > 1
                next: end
        """),
    ("UNBALANCED_EXPRESSION", 3, "main.steps[0].a.assign[0].total", """\
        - a:
            assign:
              - total: ${sum + (prices["a"] * 2)
        """),
    ("UNBALANCED_EXPRESSION", 5, "main.steps[0].a.args.body.text", """\
        - a:
            call: http.post
            args:
              url: "https://x"
              body: {text: "${'}' + x"}
        """),
    ("LIMIT", 2, "main.steps[0].a.assign", "- a:\n    assign:\n" + "".join(f"      - v{i}: {i}\n" for i in range(51))),
    ("LIMIT", 7, "main.steps[0].p1.parallel.branches[0].b1.steps[0].p2.parallel.branches[0].b2.steps[0].p3", """\
        - p1:
            parallel:
              branches:
                - b1:
                    steps:
                      - p2: {parallel: {branches: [b2: {steps: [
                          p3: {parallel: {branches: [b3: {steps: [x: {return: 1}]}]}}]}]}}
        """),
    ("FOR_IN_TRY", 3, "main.steps[0].t.try.for", """\
        - t:
            try:
              for:
                value: v
                in: [1]
                steps: [s: {assign: [x: 1]}]
            except:
              as: e
        """),
]
# fmt: on


@pytest.mark.parametrize(
    ("code", "line", "path", "text"), CASES, ids=[f"{case[0]}-{i}" for i, case in enumerate(CASES)]
)
def test_each_problem_has_its_code_line_and_path(code: str, line: int, path: str, text: str) -> None:
    problems = validate(dedent(text))
    assert [(p.line, p.path) for p in problems if p.code == code] == [(line, path)], problems
    with pytest.raises(SyntaxProblems) as raised:
        parse(dedent(text), "order.yaml")
    assert raised.value.problems == problems
    assert str(raised.value).startswith("order.yaml: ")


def test_a_definition_over_128_kb_is_too_large() -> None:
    text = "- a:\n    return: '" + "x" * (128 * 1024) + "'\n"
    assert [p.code for p in validate(text)] == ["TOO_LARGE"]


def test_nesting_too_deep_to_read_is_a_problem_not_a_crash() -> None:
    assert [p.code for p in validate("[" * 5000 + "]" * 5000)] == ["TOO_DEEP"]


def test_every_problem_is_found_not_only_the_first() -> None:
    text = dedent(
        """\
        - a:
            next: nowhere
        - b:
            call: http.fetch
        - c:
            next: break
        """
    )
    assert [(p.code, p.line) for p in validate(text)] == [
        ("UNKNOWN_NEXT", 2),
        ("UNKNOWN_CALL", 4),
        ("BREAK_OUTSIDE_LOOP", 6),
    ]


def test_a_problem_reads_as_line_path_message_and_code() -> None:
    problem = Problem("UNKNOWN_NEXT", "next names 'x'", 12, "main.steps[2].charge.next")
    assert str(problem) == "line 12: main.steps[2].charge.next: next names 'x' [UNKNOWN_NEXT]"
    assert str(Problem("EMPTY", "the definition is empty", None, "")) == "the definition is empty [EMPTY]"


def test_messages_suggest_the_likely_fix() -> None:
    text = dedent(
        """\
        - charge:
            call: sys.log
            next: refnd
        - refund:
            call: http.gett
            args: {url: x}
        """
    )
    first, second = validate(text)
    assert "did you mean 'refund'?" in first.message
    assert "did you mean http.get?" in second.message
    unknown = validate("- a:\n    asign: [x: 1]\n")[0]
    assert unknown.code == "UNKNOWN_KEY" and "did you mean 'assign'?" in unknown.message


def test_a_yaml_error_on_an_expression_line_hints_at_quoting() -> None:
    (problem,) = validate("- a:\n    assign:\n      - why: ${'because: reasons'}\n")
    assert "must be quoted" in problem.message


def test_jumps_that_are_allowed() -> None:
    text = dedent(
        """\
        - loop:
            for:
              value: v
              in: [1, 2]
              steps:
                - nested:
                    steps:
                      - check:
                          switch:
                            - condition: ${v == 1}
                              next: continue
                            - condition: ${v == 2}
                              steps:
                                - out:
                                    next: break
                      - sibling_of_parent:
                          next: last_in_loop
                - last_in_loop:
                    assign: [x: 1]
        - guarded:
            try:
              call: http.get
              args: {url: https://example.com}
            except:
              as: e
              steps:
                - give_up:
                    next: done
        - done:
            return: 1
        """
    )
    assert validate(text) == []
