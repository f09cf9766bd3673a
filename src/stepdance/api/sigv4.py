"""Server-side check of AWS Signature Version 4 on requests to our AWS JSON-protocol endpoints.

:func:`verify` takes a request as received (method, raw path and query, headers, body) and the configured
access keys, and returns the access key id that signed it or raises one of the errors in
:mod:`stepdance.api.errors`, worded as AWS words them. It checks the ``Authorization: AWS4-HMAC-SHA256`` header,
the ``X-Amz-Date`` (or ``Date``) clock skew, that the credential scope's date is the request's date, that the
key is known, that ``X-Amz-Content-Sha256`` (when sent) is the body's hash, and finally the signature itself,
recomputed by botocore over exactly the headers the client listed in ``SignedHeaders``. Any region and service
in the scope is accepted: the scope is part of what is signed, so it is used as given.

Not verified: presigned URLs (``X-Amz-Signature`` in the query string) are not accepted at all; an
``X-Amz-Security-Token`` is signed over like any header but not checked against anything (session
credentials are not modelled); chunked streaming payloads (``STREAMING-...`` content hashes, as S3 uploads
use) are refused; ``UNSIGNED-PAYLOAD`` is accepted, which leaves the body unprotected, as it does on AWS.
SigV4a (``AWS4-ECDSA-P256-SHA256``) is refused.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

from stepdance.api.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_TIMESTAMP_SHAPE = re.compile(r"\d{8}T\d{6}Z")
_SCOPE_TERMINATOR = "aws4_request"


@dataclass(frozen=True)
class _Authorization:
    """The parts of an ``Authorization: AWS4-HMAC-SHA256 ...`` header."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def verify(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, str],
    *,
    now: float,
    max_skew_seconds: float = 300.0,
) -> str:
    """Check the request's SigV4 signature and return the access key id that made it.

    ``path`` and ``query`` are as sent on the wire (ASGI's ``raw_path`` and ``query_string``), not
    percent-decoded; ``keys`` maps access key id to secret access key; ``now`` is epoch seconds.
    """
    received = _by_lower_name(headers)
    header = _first(received, "authorization")
    if header is None or not header.strip():
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    auth = _parse_authorization(header)
    timestamp = _request_timestamp(received, header)
    _check_skew(timestamp, now, max_skew_seconds)
    if auth.date != timestamp[:8]:
        raise InvalidSignatureException(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{auth.date}' != '{timestamp[:8]}', from '{timestamp}'."
        )
    secret = keys.get(auth.access_key)
    if secret is None:
        raise UnrecognizedClientException("The security token included in the request is invalid.")
    content_sha256 = _first(received, "x-amz-content-sha256")
    _check_content_sha256(content_sha256, body)
    expected = _signature(
        auth,
        secret,
        timestamp,
        _signed_header_map(received, auth.signed_headers),
        AWSRequest(
            method=method,
            url="http://stepdance" + path,
            headers={} if content_sha256 is None else {"X-Amz-Content-SHA256": content_sha256},
            data=body,
            params=parse_qsl(query, keep_blank_values=True),
        ),
    )
    # Compared as bytes: compare_digest refuses non-ASCII str, and a forged header may carry any.
    if not hmac.compare_digest(expected.encode(), auth.signature.encode()):
        raise InvalidSignatureException(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details."
        )
    return auth.access_key


def _parse_authorization(header: str) -> _Authorization:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported Authorization type '{algorithm}': only {ALGORITHM} (Signature Version 4) "
            f"is accepted. Authorization={header}"
        )
    params = _parameters(header, rest)
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if problems:
        raise IncompleteSignatureException(" ".join(problems) + f" Authorization={header}")
    signed_headers = tuple(name for name in params["SignedHeaders"].lower().split(";") if name)
    if "host" not in signed_headers:
        raise IncompleteSignatureException(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    access_key, date, region, service = _credential(params["Credential"])
    return _Authorization(access_key, date, region, service, signed_headers, params["Signature"])


def _parameters(header: str, rest: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in (part.strip() for part in rest.split(",")):
        if not part:
            continue
        name, equals, value = part.partition("=")
        if not equals:
            raise IncompleteSignatureException(
                f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )
        params[name.strip()] = value.strip()
    return params


def _credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{credential}'"
        )
    access_key, date, region, service, terminator = parts
    if terminator != _SCOPE_TERMINATOR:
        raise IncompleteSignatureException(
            f"Credential should be scoped with a valid terminator: '{_SCOPE_TERMINATOR}', not '{terminator}'."
        )
    return access_key, date, region, service


def _request_timestamp(received: Mapping[str, list[str]], authorization: str) -> str:
    value = _first(received, "x-amz-date") or _first(received, "date")
    if value is None:
        raise IncompleteSignatureException(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            f"Authorization={authorization}"
        )
    return _timestamp(value)


def _timestamp(value: str) -> str:
    """The request time as SigV4's ``YYYYMMDDTHHMMSSZ``, from ``X-Amz-Date`` or an RFC 1123 ``Date``."""
    value = value.strip()
    if _TIMESTAMP_SHAPE.fullmatch(value):
        try:
            return datetime.strptime(value, _TIMESTAMP).strftime(_TIMESTAMP)
        except ValueError:
            pass  # the right shape but no such day or hour
    else:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            pass
        else:
            # "-0000" parses as a naive time, and botocore's own Date header ends in "-0000": it is UTC.
            return _format(parsed.replace(tzinfo=parsed.tzinfo or UTC).timestamp())
    raise IncompleteSignatureException(
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )


def _check_skew(timestamp: str, now: float, max_skew_seconds: float) -> None:
    signed_at = calendar.timegm(datetime.strptime(timestamp, _TIMESTAMP).timetuple())
    window = _duration(max_skew_seconds)
    if signed_at < now - max_skew_seconds:
        raise InvalidSignatureException(
            f"Signature expired: {timestamp} is now earlier than {_format(now - max_skew_seconds)} "
            f"({_format(now)} - {window})"
        )
    if signed_at > now + max_skew_seconds:
        raise InvalidSignatureException(
            f"Signature not yet current: {timestamp} is still later than {_format(now + max_skew_seconds)} "
            f"({_format(now)} + {window})"
        )


def _format(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime(_TIMESTAMP)


def _duration(seconds: float) -> str:
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min."
    return f"{seconds:g} sec."


def _check_content_sha256(value: str | None, body: bytes) -> None:
    if value is None or value == UNSIGNED_PAYLOAD:
        return
    if value.startswith("STREAMING-"):
        raise InvalidSignatureException(
            f"Chunked streaming payloads are not supported (x-amz-content-sha256: {value}); "
            "send the whole body and its SHA-256."
        )
    if value != hashlib.sha256(body).hexdigest():
        raise InvalidSignatureException(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )


def _signed_header_map(received: Mapping[str, list[str]], names: tuple[str, ...]) -> Any:
    signed = HTTPHeaders()
    for name in names:
        if name not in received:
            raise InvalidSignatureException(
                f"The request signature we calculated does not match the signature you provided: "
                f"signed header '{name}' is not in the request."
            )
        for value in received[name]:
            signed[name] = value  # an HTTPMessage appends, so a repeated header keeps every value
    return signed


def _signature(auth: _Authorization, secret: str, timestamp: str, signed: Any, request: Any) -> str:
    signer = _ReceivedSigV4(Credentials(auth.access_key, secret), auth.service, auth.region, signed)
    # add_auth would stamp the request with a fresh date; the client's own time is what it signed.
    request.context["timestamp"] = timestamp
    canonical_request = signer.canonical_request(request)
    return str(signer.signature(signer.string_to_sign(request, canonical_request), request))


class _ReceivedSigV4(SigV4Auth):  # type: ignore[misc]  # botocore ships no type hints
    """botocore's SigV4 over the headers the client said it signed, exactly as they arrived.

    botocore's own choice of headers would drop some a client may sign (``user-agent``, ``expect``) and
    invent a ``host`` from the URL when it is absent, so both sides would disagree on what was signed.
    """

    def __init__(self, credentials: Any, service_name: str, region_name: str, signed: Any) -> None:
        super().__init__(credentials, service_name, region_name)
        self._signed = signed

    def headers_to_sign(self, request: Any) -> Any:
        return self._signed


def _by_lower_name(headers: Mapping[str, str]) -> dict[str, list[str]]:
    # items(), not keys(): starlette's Headers yields a repeated header once per value there.
    received: dict[str, list[str]] = {}
    for name, value in headers.items():
        received.setdefault(name.lower(), []).append(value)
    return received


def _first(received: Mapping[str, list[str]], name: str) -> str | None:
    values = received.get(name)
    return values[0] if values else None
