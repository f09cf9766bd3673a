"""SigV4 verification against requests signed by botocore itself, as boto3 and the AWS CLI sign them."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials
from starlette.datastructures import Headers

from stepdance.api.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)
from stepdance.api.sigv4 import verify

SIGNED_AT = datetime(2026, 12, 7, 0, 0, 0)
NOW = calendar.timegm(SIGNED_AT.timetuple())
KEYS = {"AKIDEXAMPLE": "secret", "AKIDOTHER": "other-secret"}
URL = "http://127.0.0.1:8080/"
ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:Order"
BODY = b'{"stateMachineArn": "' + ARN.encode() + b'", "input": "{}"}'
STEP_FUNCTIONS = {
    "X-Amz-Target": "AWSStepFunctions.StartExecution",
    "Content-Type": "application/x-amz-json-1.0",
}
MISMATCH = "The request signature we calculated does not match the signature you provided."


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The clock botocore's signers read, so every signature is made at SIGNED_AT.
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: SIGNED_AT)


@dataclass(frozen=True)
class Sent:
    """A request as it reaches the server."""

    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def with_header(self, name: str, value: str) -> Sent:
        return replace(self, headers={**self.headers, name: value})

    def without_header(self, name: str) -> Sent:
        return replace(self, headers={k: v for k, v in self.headers.items() if k != name})


def sign(
    body: bytes = BODY,
    *,
    headers: Mapping[str, str] = STEP_FUNCTIONS,
    params: Mapping[str, str] | None = None,
    service: str = "states",
    region: str = "us-east-1",
    key: str = "AKIDEXAMPLE",
    secret: str = "secret",
    signer: type[Any] = SigV4Auth,
) -> Sent:
    request = AWSRequest(method="POST", url=URL, data=body, headers=dict(headers), params=dict(params or {}))
    signer(Credentials(key, secret), service, region).add_auth(request)
    return on_the_wire(request.prepare())


def on_the_wire(prepared: Any) -> Sent:
    url = urlsplit(prepared.url)
    # The HTTP client (urllib3) adds Host from the URL, which is what botocore signed for it.
    headers = {"host": url.netloc}
    for name, value in prepared.headers.items():
        headers[name.lower()] = value.decode() if isinstance(value, bytes) else value
    return Sent(url.path, url.query, headers, prepared.body or b"")


def check(sent: Sent, *, now: float = NOW, headers: Mapping[str, str] | None = None) -> str:
    return verify(
        "POST", sent.path, sent.query, sent.headers if headers is None else headers, sent.body, KEYS, now=now
    )


def test_a_request_signed_as_boto3_signs_it_passes_and_names_its_key() -> None:
    sent = sign()
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target," in sent.headers["authorization"]
    assert check(sent) == "AKIDEXAMPLE"
    assert check(sign(key="AKIDOTHER", secret="other-secret")) == "AKIDOTHER"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: replace(s, body=s.body.replace(b"{}", b"[]")), id="body"),
        pytest.param(
            lambda s: s.with_header("x-amz-target", "AWSStepFunctions.StopExecution"), id="signed-header"
        ),
        pytest.param(lambda s: s.with_header("host", "127.0.0.1:8081"), id="host"),
        pytest.param(lambda s: replace(s, path="/other"), id="path"),
        pytest.param(lambda s: replace(s, query="a=1"), id="query"),
    ],
)
def test_a_changed_request_fails(tamper: Any) -> None:
    with pytest.raises(InvalidSignatureException, match=MISMATCH):
        check(tamper(sign()))


def test_headers_that_were_not_signed_may_change() -> None:
    sent = sign().with_header("user-agent", "something else").with_header("x-amzn-trace-id", "Root=1-2-3")
    assert check(sent) == "AKIDEXAMPLE"


def test_a_wrong_secret_fails() -> None:
    with pytest.raises(InvalidSignatureException, match=MISMATCH):
        check(sign(secret="not-the-secret"))


def test_an_unknown_key_is_unrecognized() -> None:
    with pytest.raises(
        UnrecognizedClientException, match=r"^The security token included in the request is invalid\.$"
    ):
        check(sign(key="AKIDUNKNOWN"))


@pytest.mark.parametrize("value", [None, "", "  "])
def test_no_authorization_is_a_missing_token(value: str | None) -> None:
    sent = sign().without_header("authorization")
    if value is not None:
        sent = sent.with_header("authorization", value)
    with pytest.raises(MissingAuthenticationTokenException, match=r"^Missing Authentication Token$"):
        check(sent)


@pytest.mark.parametrize("part", ["Credential", "SignedHeaders", "Signature"])
def test_an_authorization_without_a_part_is_incomplete(part: str) -> None:
    sent = sign()
    algorithm, _, rest = sent.headers["authorization"].partition(" ")
    kept = ", ".join(p for p in rest.split(", ") if not p.startswith(part + "="))
    with pytest.raises(
        IncompleteSignatureException, match=f"^Authorization header requires '{part}' parameter"
    ):
        check(sent.with_header("authorization", f"{algorithm} {kept}"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "AWS4-HMAC-SHA256 ",
            "AWS4-ECDSA-P256-SHA256 ",
            "Unsupported Authorization type 'AWS4-ECDSA-P256-SHA256'",
        ),
        ("/us-east-1/", "/", "Credential must have exactly 5 slash-delimited elements"),
        ("/aws4_request", "/aws5_request", "valid terminator: 'aws4_request', not 'aws5_request'"),
        ("SignedHeaders=", "SignedHeaders", "'SignedHeaders.*' not a valid key=value pair"),
        ("content-type;host;", "content-type;", "'Host' or ':authority' must be a 'SignedHeader'"),
    ],
)
def test_a_malformed_authorization_is_incomplete(old: str, new: str, message: str) -> None:
    sent = sign()
    with pytest.raises(IncompleteSignatureException, match=message):
        check(sent.with_header("authorization", sent.headers["authorization"].replace(old, new)))


def test_a_request_without_a_date_is_incomplete() -> None:
    with pytest.raises(
        IncompleteSignatureException, match="requires existence of either a 'X-Amz-Date' or a 'Date'"
    ):
        check(sign().without_header("x-amz-date"))


@pytest.mark.parametrize("date", ["2026-12-07T00:00:00Z", "20261307T000000Z", "yesterday"])
def test_a_malformed_date_is_incomplete(date: str) -> None:
    with pytest.raises(IncompleteSignatureException, match="Date must be in ISO-8601 'basic format'"):
        check(sign().with_header("x-amz-date", date))


def test_a_signature_older_than_the_skew_has_expired() -> None:
    assert check(sign(), now=NOW + 300) == "AKIDEXAMPLE"
    with pytest.raises(InvalidSignatureException) as raised:
        check(sign(), now=NOW + 301)
    assert raised.value.message == (
        "Signature expired: 20261207T000000Z is now earlier than 20261207T000001Z (20261207T000501Z - 5 min.)"
    )


def test_a_signature_from_the_future_is_not_yet_current() -> None:
    assert check(sign(), now=NOW - 300) == "AKIDEXAMPLE"
    with pytest.raises(InvalidSignatureException) as raised:
        check(sign(), now=NOW - 301)
    assert raised.value.message == (
        "Signature not yet current: 20261207T000000Z is still later than 20261206T235959Z "
        "(20261206T235459Z + 5 min.)"
    )


def test_the_skew_is_configurable() -> None:
    sent = sign()
    with pytest.raises(InvalidSignatureException, match=r"\(20261207T000131Z - 90 sec\.\)$"):
        verify(
            "POST", sent.path, sent.query, sent.headers, sent.body, KEYS, now=NOW + 91, max_skew_seconds=90
        )


def test_a_scope_date_other_than_the_request_date_fails() -> None:
    sent = sign().with_header("x-amz-date", "20261208T000000Z")
    with pytest.raises(InvalidSignatureException, match="'20261207' != '20261208', from '20261208T000000Z'"):
        check(sent, now=NOW + 86400)


def test_a_content_sha256_that_is_not_the_body_hash_fails() -> None:
    good = sign(headers={**STEP_FUNCTIONS, "X-Amz-Content-SHA256": hashlib.sha256(BODY).hexdigest()})
    assert check(good) == "AKIDEXAMPLE"
    bad = sign(headers={**STEP_FUNCTIONS, "X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()})
    with pytest.raises(InvalidSignatureException, match="'x-amz-content-sha256' header does not match"):
        check(bad)


def test_an_unsigned_payload_leaves_the_body_unchecked() -> None:
    sent = sign(headers={**STEP_FUNCTIONS, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert check(replace(sent, body=b"{}")) == "AKIDEXAMPLE"


def test_a_streaming_payload_is_refused() -> None:
    sent = sign(headers={**STEP_FUNCTIONS, "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"})
    with pytest.raises(InvalidSignatureException, match="Chunked streaming payloads are not supported"):
        check(sent)


def test_a_signed_header_missing_from_the_request_fails() -> None:
    with pytest.raises(InvalidSignatureException, match="signed header 'x-amz-target' is not in the request"):
        check(sign().without_header("x-amz-target"))


def test_header_names_are_matched_in_any_case() -> None:
    sent = sign()
    assert check(sent, headers={name.upper(): value for name, value in sent.headers.items()}) == "AKIDEXAMPLE"
    assert check(sent, headers={name.title(): value for name, value in sent.headers.items()}) == "AKIDEXAMPLE"


def test_starlette_headers_with_a_repeated_header_pass() -> None:
    request = AWSRequest(method="POST", url=URL, data=BODY, headers=STEP_FUNCTIONS)
    request.headers["X-Custom"] = "one"
    request.headers["X-Custom"] = "two"  # an HTTPMessage appends: botocore signs "x-custom:one,two"
    SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), "states", "us-east-1").add_auth(request)
    # Built from the HTTPMessage, not the prepared request, whose dict would keep only the last value.
    raw = [(b"host", b"127.0.0.1:8080")]
    raw += [(name.lower().encode(), value.encode()) for name, value in request.headers.items()]
    assert [value for name, value in raw if name == b"x-custom"] == [b"one", b"two"]
    assert verify("POST", "/", "", Headers(raw=raw), BODY, KEYS, now=NOW) == "AKIDEXAMPLE"
    with pytest.raises(InvalidSignatureException, match=MISMATCH):
        verify(
            "POST",
            "/",
            "",
            Headers(raw=[item for item in raw if item != (b"x-custom", b"one")]),
            BODY,
            KEYS,
            now=NOW,
        )


def test_a_query_string_is_signed_over_in_canonical_form() -> None:
    sent = sign(params={"b": "two words", "a": "x/y+z", "empty": ""})
    assert sent.query == "b=two+words&a=x%2Fy%2Bz&empty="
    assert check(sent) == "AKIDEXAMPLE"


def test_any_service_and_region_in_the_scope_pass() -> None:
    events = {"X-Amz-Target": "AWSEvents.PutEvents", "Content-Type": "application/x-amz-json-1.1"}
    sent = sign(b'{"Entries": []}', headers=events, service="events", region="eu-west-1")
    assert "/20261207/eu-west-1/events/aws4_request," in sent.headers["authorization"]
    assert check(sent) == "AKIDEXAMPLE"


def test_a_date_header_may_stand_in_for_x_amz_date() -> None:
    sent = sign(headers={**STEP_FUNCTIONS, "Date": "set by the signer"})
    assert "x-amz-date" not in sent.headers
    assert sent.headers["date"] == "Mon, 07 Dec 2026 00:00:00 -0000"
    assert check(sent) == "AKIDEXAMPLE"
    with pytest.raises(InvalidSignatureException, match=MISMATCH):  # the same time, but signed as written
        check(sent.with_header("date", "Mon, 07 Dec 2026 00:00:00 GMT"))
    with pytest.raises(InvalidSignatureException, match="Signature expired: 20261206T235000Z"):
        check(sent.with_header("date", "Sun, 06 Dec 2026 23:50:00 GMT"))


class _SignsUserAgent(SigV4Auth):  # type: ignore[misc]
    """Like SDKs other than botocore, which may sign headers botocore never does."""

    def headers_to_sign(self, request: Any) -> Any:
        headers = super().headers_to_sign(request)
        headers["user-agent"] = request.headers["User-Agent"]
        return headers


def test_headers_botocore_would_not_sign_are_checked_when_the_client_signed_them() -> None:
    sent = sign(headers={**STEP_FUNCTIONS, "User-Agent": "aws-sdk-other/1.0"}, signer=_SignsUserAgent)
    assert ";user-agent;" in sent.headers["authorization"]
    assert check(sent) == "AKIDEXAMPLE"
    with pytest.raises(InvalidSignatureException, match=MISMATCH):
        check(sent.with_header("user-agent", "aws-sdk-other/2.0"))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self) -> Iterator[bytes]:
        yield self._body


def test_what_a_real_botocore_client_sends_passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    # No profile or config file of the machine running the tests may change what the client does.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SFN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    client = botocore.session.get_session().create_client(
        "stepfunctions",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    captured: list[Any] = []

    def send(request: Any, **kwargs: Any) -> AWSResponse:
        captured.append(request)
        return AWSResponse(request.url, 200, {}, _Raw(b'{"executionArn": "arn", "startDate": 0}'))

    client.meta.events.register("before-send", send)
    client.start_execution(stateMachineArn=ARN, input="{}")

    (request,) = captured
    sent = on_the_wire(request)
    assert sent.headers["x-amz-target"] == "AWSStepFunctions.StartExecution"
    assert "Credential=AKIDEXAMPLE/20261207/us-east-1/states/aws4_request" in sent.headers["authorization"]
    assert check(sent) == "AKIDEXAMPLE"
    with pytest.raises(InvalidSignatureException, match=MISMATCH):
        check(replace(sent, body=sent.body.replace(b"{}", b"[]")))
