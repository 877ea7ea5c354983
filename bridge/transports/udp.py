"""A UDP datagram sender that never blocks the pipeline and never error-loops.

When nothing listens on the target port, the OS may report ICMP 'port unreachable' on the
next send; that is normal for a sidecar started before its engine, so it is counted and
reported once, not raised.
"""
from __future__ import annotations

import logging
import socket

from ..errors import TransportError

log = logging.getLogger("avatar_bridge.udp")


class UdpSender:
    def __init__(self, host: str, port: int, name: str):
        self.name = name
        self.address = (host, port)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except socket.gaierror as e:
            raise TransportError(f"{name}: cannot resolve host {host!r} ({e.strerror}); use an IP address "
                                 "such as 127.0.0.1") from None
        family, _, _, _, sockaddr = infos[0]
        self.address = sockaddr
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.packets = 0
        self.errors = 0
        self._warned = False

    def send(self, packets: list[bytes]) -> None:
        for p in packets:
            try:
                self.sock.sendto(p, self.address)
                self.packets += 1
            except (BlockingIOError, ConnectionRefusedError, OSError) as e:
                self.errors += 1
                if not self._warned:
                    self._warned = True
                    log.warning("%s: sending to %s:%s failed (%s); will keep trying quietly",
                                self.name, self.address[0], self.address[1], e.__class__.__name__)

    def close(self) -> None:
        self.sock.close()
