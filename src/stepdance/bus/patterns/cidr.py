"""IP addresses and CIDR blocks, with event-ruler's rules for what counts as an address.

A string counts as an address when it looks like one (four dotted decimal groups, or hex digits and colons)
and parses; an exact pattern value that is an address matches the same address however it is written. A
CIDR block ``a/n`` covers the addresses from ``a`` itself (not ``a`` masked) to ``a`` with its host bits
set, which is what AWS compiles it to.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

IPV4_SHAPE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
IPV6_SHAPE = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")
IPV4_MAPPED = bytes(10) + b"\xff\xff"
INT32_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class IpRange:
    """Addresses of one family (``size`` 4 or 16 bytes) from ``low`` to ``high`` inclusive."""

    size: int
    low: int
    high: int

    def contains(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        address = address_if_possible(value)
        return address is not None and address[0] == self.size and self.low <= address[1] <= self.high


def _looks_like_address(text: str) -> bool:
    return IPV4_SHAPE.fullmatch(text) is not None or IPV6_SHAPE.fullmatch(text) is not None


def _parse(text: str) -> tuple[int, int]:
    """(size, value) of an address that looks like one; ValueError if it does not parse."""
    if IPV4_SHAPE.fullmatch(text):
        parts = [int(part) for part in text.split(".")]
        if any(part > 255 for part in parts):
            raise ValueError(text)
        return 4, int.from_bytes(bytes(parts), "big")
    packed = ipaddress.IPv6Address(text).packed
    if packed.startswith(IPV4_MAPPED):  # Java's InetAddress hands these back as IPv4 addresses
        return 4, int.from_bytes(packed[12:], "big")
    return 16, int.from_bytes(packed, "big")


def address_if_possible(text: str) -> tuple[int, int] | None:
    if not _looks_like_address(text):
        return None
    try:
        return _parse(text)
    except ValueError:
        return None


def exact_address(text: str) -> IpRange | None:
    """The one-address range an exact pattern string stands for, if it is an address."""
    address = address_if_possible(text)
    return None if address is None else IpRange(address[0], address[1], address[1])


def cidr(text: str) -> IpRange:
    """The range of a ``cidr`` operand; ValueError with AWS's reason when malformed."""
    parts = text.split("/")
    while parts and parts[-1] == "" and len(parts) > 1:  # Java's split drops trailing empty strings
        parts.pop()
    if len(parts) != 2:
        raise ValueError("Malformed CIDR, one '/' required")
    if not re.fullmatch(r"[+-]?[0-9]+", parts[1]) or abs(int(parts[1])) > INT32_MAX:
        raise ValueError("Malformed CIDR, mask bits must be an integer")
    bits = int(parts[1])
    if bits < 0:
        raise ValueError("Malformed CIDR, mask bits must not be negative")
    size, base = _address_for_cidr(parts[0])
    if size == 4 and bits > 31:
        raise ValueError("IPv4 mask bits must be < 32")
    if size == 16 and bits > 127:
        raise ValueError("IPv6 mask bits must be < 128")
    host = (1 << (size * 8 - bits)) - 1
    return IpRange(size, base, base | host)


def _address_for_cidr(text: str) -> tuple[int, int]:
    if not _looks_like_address(text):
        raise ValueError(f"Nonstandard IP address: {text}")
    try:
        return _parse(text)
    except ValueError:
        raise ValueError(f"Invalid IP address: {text}") from None
