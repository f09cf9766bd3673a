"""Refused patterns and events, with AWS's wording (messages AWS returned, as recorded in LocalStack's
validated snapshots, and event-ruler's for the rest)."""

from __future__ import annotations

import pytest

from stepdance.bus.patterns import InvalidEvent, compile_pattern, test_event_pattern
from tests.bus.patterns_helpers import ENVELOPE, event, reason

JSON_TOKENS = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}', "Unrecognized match type NUMERIC"),
        ('{"my_key": [{"EXISTS": true}]}', "Unrecognized match type EXISTS"),
        ('{"time": [{"prefix": 123}]}', "prefix match pattern must be a string"),
        ('{"FileName": [{"suffix": 123}]}', "suffix match pattern must be a string"),
        ('{"a": [{"cidr": "10.0.0.0/abc"}]}', "Malformed CIDR, mask bits must be an integer"),
        ('{"a": [{"cidr": "xx.11.xx/24"}]}', "Nonstandard IP address: xx.11.xx"),
        ('{"a": [{"cidr": "10.0.0.1"}]}', "Malformed CIDR, one '/' required"),
        ('{"a": [{"cidr": "10.0.0.1/32"}]}', "IPv4 mask bits must be < 32"),
        ('{"a": [{"cidr": "10.0.0.300/24"}]}', "Invalid IP address: 10.0.0.300"),
        ('{"a": [{"cidr": ["10.0.0.0/8"]}]}', "prefix match pattern must be a string"),
        ('{"a": [{"anything-but": {"suffix": ""}}]}', "Null prefix/suffix not allowed"),
        ('{"a": [{"anything-but": {"contains": "x"}}]}', "Unsupported anything-but pattern: contains"),
        ('{"a": [{"anything-but": true}]}', "Value of anything-but must be an array or single string/number value."),
        ('{"a": [{"anything-but": ["a", 1]}]}',
         "Inside anything but list, either all values are number or string, mixed type is not supported"),
        ('{"a": [{"anything-but": ["a", true]}]}', "Inside anything but list, start|null|boolean is not supported."),
        ('{"a": [{"anything-but": "a", "x": 1}]}', "Too many elements in numeric expression"),
        ('{"a": [{"numeric": [">", 10, "<", 5]}]}', "Bottom must be less than top"),
        ('{"a": [{"numeric": ["=", "5"]}]}', "Value of equals must be numeric"),
        ('{"a": [{"numeric": ["!", 5]}]}', "Unrecognized numeric range operator: !"),
        ('{"a": [{"numeric": [5]}]}', "Invalid member in numeric match: 5"),
        ('{"a": [{"numeric": [">", 1, 2]}]}', "Bad value in numeric range: 2"),
        ('{"a": [{"numeric": [">", 1, "<", 2, 3]}]}', "Too many terms in numeric range expression"),
        ('{"a": [{"numeric": ["<", 1, ">", 0]}]}', "Too many elements in numeric expression"),
        ('{"a": [{"exists": "yes"}]}', "exists match pattern must be either true or false."),
        ('{"a": [{"prefix": "x", "suffix": "y"}]}', "Only one key allowed in match expression"),
        ('{"a": [{"prefix": {"exists": true}}]}', "Unsupported prefix pattern: exists"),
        ('{"a": [{"wildcard": "a\\\\x"}]}', "Invalid escape character at pos 2"),
        ('{"a": [{"wildcard": "*:*:*:*:*:x"}]}',
         "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences "
         "after a wildcard character"),
        ('{"a": [{}]}', "Match expression name not found"),
        ('{"a": [["x"]]}', "Match value must be String, number, true, false, or null"),
        ('{"a": {}}', "Empty objects are not allowed"),
        ("{}", "Empty objects are not allowed"),
        ('{"$or": [{"a": ["1"]}]}', "There must have at least 2 Objects in $or relationship."),
        ('{"$or": {"a": ["1"]}}', "It must be an Array followed with $or."),
        ('{"$or": [{"a": ["1"]}, "b"]}', "Only JSON object is allowed in array of $or relationship."),
        ('{"$or": [{"numeric": ["1"]}, {"b": ["2"]}]}',
         "numeric is Ruler reserved fieldName which cannot be used inside $or."),
        ("", "Filter is not an object"),
        ("42", "Filter is not an object"),
    ],
)  # fmt: skip
def test_rule_violations_are_refused_with_aws_reason(pattern: str, expected: str) -> None:
    assert reason(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{"not": closed mark"}', f"Unrecognized token 'closed': was expecting {JSON_TOKENS}"),
        ('{"a": [tru]}', f"Unrecognized token 'tru': was expecting {JSON_TOKENS}"),
        ('{"a": [1,]}', f"Unexpected character (']' (code 93)): expected a valid value {JSON_TOKENS}"),
        ('{"a": [1] "b": [2]}', "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"),
        ('{"a": [1 2]}', "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"),
        ('{"a" [1]}', "Unexpected character ('[' (code 91)): was expecting a colon to separate field name and value"),
        ('{"a": [01]}', "Invalid numeric value: Leading zeroes not allowed"),
        ('{"a": [1.]}', "Unexpected character (']' (code 93)) in numeric value: Decimal point not followed by a digit"),
        ('{"a": ["x\\q"]}', "Unrecognized character escape 'q' (code 113)"),
        ('{"a": ["x\ny"]}',
         "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash to be included in "
         "string value"),
        ('{"a": [1]', 'Unexpected end-of-input: expected close marker for OBJECT (start marker at [Source: '
                      '(String)"{"a": [1]"; line: 1, column: 1])'),
        ('{"a": [1]]', "Unexpected close marker ']': expected '}' (for Object starting at [Source: "
                       '(String)"{"a": [1]]"; line: 1, column: 1])'),
        ("{'a': [1]}", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
    ],
)  # fmt: skip
def test_malformed_json_is_refused_with_jacksons_message(pattern: str, expected: str) -> None:
    assert reason(pattern) == expected


def test_the_first_problem_in_the_text_is_reported() -> None:
    assert reason('{"a": 1, "b": [tru]}') == '"a" must be an object or an array'
    assert reason('{"b": [tru], "a": 1}').startswith("Unrecognized token 'tru'")
    # the value after a field name is read with the name, so its syntax error comes first
    assert reason('{"$or": bad}').startswith("Unrecognized token 'bad'")


def test_text_after_the_pattern_is_not_read() -> None:
    assert compile_pattern('{"a": ["b"]} trailing').matches(event(a="b"))


def test_the_event_must_be_an_eventbridge_event() -> None:
    pattern = '{"source": ["test-source"]}'
    assert test_event_pattern(dict(ENVELOPE), pattern)
    for bad in ["plain string", '{"testEvent": "value"}', "[1]", '{"id": NaN}']:
        with pytest.raises(InvalidEvent, match=r"^Parameter Event is not valid\.$"):
            test_event_pattern(bad, pattern)
    for missing in ENVELOPE:
        without = {k: v for k, v in ENVELOPE.items() if k != missing}
        with pytest.raises(InvalidEvent):
            test_event_pattern(without, pattern)


def test_a_bad_event_is_reported_before_a_bad_pattern() -> None:
    with pytest.raises(InvalidEvent):
        test_event_pattern("plain string", "not a pattern")
