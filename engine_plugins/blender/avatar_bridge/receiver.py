"""Receiving on a background thread, free of bpy: Blender's UI never waits on the network.

The thread decodes packets into `wire.Frame`s and keeps only the newest (`take()` hands it over
once); the main thread applies it on a timer. Bad packets are counted and the last reason kept
as one line, never raised per packet.
"""
from __future__ import annotations

import socket
import threading

from . import wire
from .ws_client import WebSocketClient, WebSocketError

RECONNECT_S = 1.0
POLL_S = 0.2  # how soon the thread notices stop()


class Receiver:
    """Base: newest-frame-wins hand-over, counters, status line, start/stop of the thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._frame: wire.Frame | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames = 0
        self.bad = 0
        self.last_error = ""
        self.status = "stopped"

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"avatar-bridge {type(self).__name__}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self.status = "stopped"

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def take(self) -> wire.Frame | None:
        """The newest frame since the last call, or None."""
        with self._lock:
            f, self._frame = self._frame, None
        return f

    def _publish(self, f: wire.Frame) -> None:
        with self._lock:
            self._frame = f
            self.frames += 1

    def _bad(self, reason: str) -> None:
        self.bad += 1
        self.last_error = reason

    def _run(self) -> None:
        raise NotImplementedError


class VmcReceiver(Receiver):
    """Listens for VMC (OSC over UDP) on host:port."""

    def __init__(self, host: str, port: int):
        super().__init__()
        self.host, self.port = host, port

    def _run(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as e:
            self.status = f"error: cannot listen on UDP {self.host}:{self.port} ({e.strerror or e}); another VMC receiver there?"
            sock.close()
            return
        sock.settimeout(POLL_S)
        self.status = f"listening on UDP {self.host}:{self.port}"
        vmc = wire.VmcAssembler()
        with sock:
            while not self._stop.is_set():
                try:
                    data = sock.recv(65535)
                except socket.timeout:
                    continue
                except OSError as e:
                    self._bad(f"receive failed: {e}")
                    continue
                try:
                    f = vmc.feed(wire.parse_packet(data))
                except wire.WireError as e:
                    self._bad(str(e))
                    continue
                if f is not None:
                    self._publish(f)


class WebSocketReceiver(Receiver):
    """Connects to the sidecar's WebSocket server (reconnecting every second) and reads frames."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self.reader = wire.JsonReader()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.status = f"connecting to {self.url}"
            try:
                ws = WebSocketClient(self.url, timeout=POLL_S * 5)
            except (OSError, WebSocketError) as e:
                self.status = f"cannot connect to {self.url} ({getattr(e, 'strerror', None) or e}); retrying"
                self._stop.wait(RECONNECT_S)
                continue
            ws.sock.settimeout(POLL_S)
            self.status = f"connected to {self.url}"
            try:
                self._read(ws)
            except WebSocketError as e:
                self.status = f"{e}; reconnecting"
                self.last_error = str(e)
            finally:
                ws.close()
            self._stop.wait(RECONNECT_S)

    def _read(self, ws: WebSocketClient) -> None:
        while not self._stop.is_set():
            try:
                text = ws.recv_text()
            except socket.timeout:
                continue
            except OSError as e:
                if isinstance(e, WebSocketError):
                    raise
                raise WebSocketError(f"connection lost ({e})") from None
            if text is None:
                continue
            try:
                f = self.reader.read(text)
            except wire.WireError as e:
                self._bad(str(e))
                continue
            if f is not None:
                self._publish(f)

