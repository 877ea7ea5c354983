"""A minimal RFC 6455 WebSocket client on the standard library (Blender's Python has no
`websockets`): opening handshake, masked client frames, text messages in (fragments joined),
ping answered with pong, close answered and reported. Blocking with a timeout: run it on a thread.
"""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
from urllib.parse import urlsplit

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 8 << 20  # the sidecar's frames are a few kB; previews (not asked for) stay well under this
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class WebSocketError(OSError):
    """Handshake refused, protocol broken, or the server closed; str(e) is one line."""


class WebSocketClosed(WebSocketError):
    pass


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def encode_frame(opcode: int, payload: bytes, mask: bytes | None = None, fin: bool = True) -> bytes:
    """A client frame (always masked, as RFC 6455 5.3 requires of clients)."""
    mask = mask or os.urandom(4)
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class WebSocketClient:
    def __init__(self, url: str, timeout: float = 3.0):
        u = urlsplit(url)
        if u.scheme != "ws" or not u.hostname:
            raise WebSocketError(f"expected a ws://host:port URL, got {url!r} (wss is not supported)")
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self._buf = b""
        self._kind: int | None = None  # the message being reassembled from fragments (kept across timeouts)
        self._parts: list[bytes] = []
        try:
            self._handshake(u.hostname, u.port or 80, (u.path or "/") + (f"?{u.query}" if u.query else ""))
        except BaseException:
            self.sock.close()
            raise

    def _handshake(self, host: str, port: int, target: str) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self._buf:
            chunk = self.sock.recv(4096)
            if not chunk or len(self._buf) > 65536:
                raise WebSocketError("server closed the connection during the handshake")
            self._buf += chunk
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if len(lines[0].split()) < 2 or lines[0].split()[1] != "101":
            raise WebSocketError(f"handshake refused: {lines[0]}")
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        if headers.get("sec-websocket-accept") != accept_key(key):
            raise WebSocketError("handshake: wrong Sec-WebSocket-Accept")

    def _fill(self, n: int) -> None:
        """Buffer at least n bytes; a timeout leaves what was buffered in place (no desync)."""
        while len(self._buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self._buf)))
            if not chunk:
                raise WebSocketClosed("connection lost")
            self._buf += chunk

    def _frame(self) -> tuple[bool, int, bytes]:
        self._fill(2)
        b0, b1 = self._buf[0], self._buf[1]
        if b1 & 0x80:
            raise WebSocketError("server sent a masked frame")
        if b0 & 0x70:
            raise WebSocketError("frame uses reserved bits (no extension was agreed)")
        n, head = b1 & 0x7F, 2
        if n == 126:
            self._fill(4)
            (n,), head = struct.unpack_from(">H", self._buf, 2), 4
        elif n == 127:
            self._fill(10)
            (n,), head = struct.unpack_from(">Q", self._buf, 2), 10
        if n > MAX_MESSAGE:
            raise WebSocketError(f"frame of {n} bytes is over the {MAX_MESSAGE}-byte limit")
        self._fill(head + n)
        payload, self._buf = self._buf[head:head + n], self._buf[head + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv_text(self) -> str | None:
        """The next text message (None for a binary one); socket.timeout when none came in time."""
        while True:
            fin, op, payload = self._frame()
            if op == OP_PING:
                self.send(OP_PONG, payload)
            elif op == OP_PONG:
                pass
            elif op == OP_CLOSE:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                try:
                    self.send(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                raise WebSocketClosed(f"server closed the connection (code {code}"
                                      f"{': ' + payload[2:].decode('utf-8', 'replace') if len(payload) > 2 else ''})")
            elif op in (OP_TEXT, OP_BINARY, OP_CONT):
                if op != OP_CONT:
                    self._kind, self._parts = op, []
                elif self._kind is None:
                    raise WebSocketError("continuation frame without a first fragment")
                self._parts.append(payload)
                if sum(map(len, self._parts)) > MAX_MESSAGE:
                    raise WebSocketError(f"message over the {MAX_MESSAGE}-byte limit")
                if fin:
                    data, kind = b"".join(self._parts), self._kind
                    self._kind, self._parts = None, []
                    if kind == OP_BINARY:
                        return None
                    try:
                        return data.decode("utf-8")
                    except UnicodeDecodeError:
                        raise WebSocketError("text message is not UTF-8") from None
            else:
                raise WebSocketError(f"unknown opcode {op}")

    def send(self, opcode: int, payload: bytes) -> None:
        self.sock.sendall(encode_frame(opcode, payload))

    def send_text(self, text: str) -> None:
        self.send(OP_TEXT, text.encode("utf-8"))

    def close(self, code: int = 1000) -> None:
        try:
            self.send(OP_CLOSE, struct.pack(">H", code))
        except OSError:
            pass
        self.sock.close()
