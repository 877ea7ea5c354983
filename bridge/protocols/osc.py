"""Minimal OSC 1.0 encoding (messages and bundles), pure functions with cached prefixes.

Only what the sidecar sends: int32 'i', float32 'f', string 's'. Big-endian, strings
NUL-terminated and padded to 4 bytes, bundles with the 'immediately' time tag.
"""
from __future__ import annotations

import struct
from functools import lru_cache

BUNDLE_HEADER = b"#bundle\x00" + struct.pack(">Q", 1)  # time tag 1 = immediately
UDP_SAFE_PAYLOAD = 1472  # 1500-byte Ethernet MTU minus IPv4 (20) and UDP (8) headers


def osc_string(s: str) -> bytes:
    b = s.encode("utf-8") + b"\x00"
    return b + b"\x00" * (-len(b) % 4)


@lru_cache(maxsize=4096)
def prefix(address: str, typetags: str, *strings: str) -> bytes:
    """Address, type tags and leading string arguments: the constant part of a message."""
    return osc_string(address) + osc_string("," + typetags) + b"".join(osc_string(s) for s in strings)


def message(address: str, typetags: str = "", *args: int | float | str) -> bytes:
    """Encode one OSC message. Strings must come first in `typetags` (all we need)."""
    n_str = len(typetags) - len(typetags.lstrip("s"))
    head = prefix(address, typetags, *args[:n_str])
    rest = typetags[n_str:]
    if "s" in rest:
        raise ValueError("string arguments must come before numbers")
    return head + struct.pack(">" + rest, *args[n_str:]) if rest else head


def bundle(elements: list[bytes]) -> bytes:
    return BUNDLE_HEADER + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def pack_bundles(messages: list[bytes], max_size: int = UDP_SAFE_PAYLOAD) -> list[bytes]:
    """Group messages, in order, into as few bundles as fit in `max_size` bytes each."""
    packets: list[bytes] = []
    current: list[bytes] = []
    size = len(BUNDLE_HEADER)
    for m in messages:
        need = 4 + len(m)
        if len(BUNDLE_HEADER) + need > max_size:
            raise ValueError(f"OSC message of {len(m)} bytes cannot fit in a {max_size}-byte packet")
        if size + need > max_size:
            packets.append(bundle(current))
            current, size = [], len(BUNDLE_HEADER)
        current.append(m)
        size += need
    if current:
        packets.append(bundle(current))
    return packets
