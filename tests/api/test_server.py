"""The pure parts of ``stepdance serve``: its flags, its auth rule, its listening socket."""

from __future__ import annotations

import socket

import pytest

from stepdance.api.server import ServeError, _bound, check_auth, is_loopback, parse_keys, parse_stock


def test_keys_and_stock_are_parsed_with_errors_that_name_the_value() -> None:
    assert parse_keys(["A:s1"], {"STEPDANCE_API_KEYS": "B:s2, C:s:3"}) == {"A": "s1", "B": "s2", "C": "s:3"}
    with pytest.raises(ServeError, match="'nokey'"):
        parse_keys(["nokey"], {})
    assert parse_stock(["sku-a=5"]) == {"sku-a": 5}
    with pytest.raises(ServeError, match="'sku-a=many'"):
        parse_stock(["sku-a=many"])
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
    check_auth("127.0.0.1", {})
    check_auth("0.0.0.0", {"A": "s"})
    with pytest.raises(ServeError):
        check_auth("10.0.0.1", {})


def test_the_listening_socket_says_it_is_tcp() -> None:
    # asyncio disables Nagle only on sockets whose proto is IPPROTO_TCP; with proto 0 every answer waited
    # for the client's delayed ACK (40 ms a call, measured by bench/api.py)
    sock = _bound("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ServeError, match=r"cannot listen on 127\.0\.0\.1"):
            _bound("127.0.0.1", taken.getsockname()[1])
