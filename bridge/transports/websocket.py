"""The WebSocket server: frames out to every client, control messages in.

Runs its own asyncio loop on a thread; the pipeline thread never waits on it. Each client has
a one-slot mailbox for frames (a slow client skips frames, counted, and never delays the
pipeline or other clients) plus an ordered queue for hellos, replies and frames that carry trigger
events, which are never dropped (a skipped frame must not swallow a one-shot trigger).
Browser pages may connect only from loopback origins, so a random web site open in the user's
browser cannot reconfigure the sidecar through ws://127.0.0.1.
"""
from __future__ import annotations

import asyncio
import errno
import hmac
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..errors import TransportError
from ..protocols.jsonframe import Control, ControlError, parse_control, reply

log = logging.getLogger("avatar_bridge.websocket")

LOOPBACK_ORIGIN = re.compile(r"^https?://(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$")
CONTROL_RATE = 20  # control messages per second per client
MAX_MESSAGE = 65536
MAX_ORDERED = 1024  # queued messages per client beyond which event frames fall back to the mailbox


class _Client:
    __slots__ = ("conn", "frame", "preview", "wants_preview", "ordered", "wake", "dropped", "sent", "tokens", "token_t")

    def __init__(self, conn: ServerConnection):
        self.conn = conn
        self.frame: str | None = None
        self.preview: str | None = None
        self.wants_preview = False
        self.ordered: deque[str] = deque()
        self.wake = asyncio.Event()
        self.dropped = 0
        self.sent = 0
        self.tokens = float(CONTROL_RATE)
        self.token_t = time.monotonic()

    def allow_control(self) -> bool:
        now = time.monotonic()
        self.tokens = min(CONTROL_RATE, self.tokens + (now - self.token_t) * CONTROL_RATE)
        self.token_t = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class WebSocketServer:
    def __init__(self, host: str, port: int, hello: str, submit_control: Callable[[Control, Future], None],
                 token: str = "", pages: dict[str, tuple[str, bytes]] | None = None):
        """`pages` maps HTTP paths to (content type, body): plain GETs on the same port get them."""
        self.host = host
        self._pages = pages or {}
        self.port = port
        self._token = token
        self._hello = hello
        self._submit = submit_control
        self._clients: set[_Client] = set()
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="websocket", daemon=True)
        self.frames_dropped = 0
        self.rejected_controls = 0

    @property
    def client_count(self) -> int:
        return len(self._clients)

    @property
    def preview_wanted(self) -> bool:
        return any(c.wants_preview for c in list(self._clients))

    def start(self) -> None:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
        try:
            fut.result(timeout=10)
        except OSError as e:
            self.stop()
            if e.errno == errno.EADDRINUSE:
                raise TransportError(f"WebSocket port {self.port} on {self.host} is already in use (another "
                                     "avatar-bridge?): stop that program or pass --ws HOST:PORT with a free port") from None
            raise TransportError(f"cannot listen for WebSocket on {self.host}:{self.port} ({e.strerror}): "
                                 "pass --ws HOST:PORT with an address of this machine") from None

    async def _serve(self) -> None:
        self._server = await serve(self._handle, self.host, self.port, origins=[None, LOOPBACK_ORIGIN],
                                   process_request=self._process_request, max_size=MAX_MESSAGE, compression=None,
                                   ping_interval=10, ping_timeout=10,
                                   open_timeout=3)  # a browser's idle preconnect must not hold up stop()
        if self.port == 0:
            self.port = next(iter(self._server.sockets)).getsockname()[1]

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        denied = self._check_token(conn, request)
        if denied is not None:
            return denied
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        page = self._pages.get(urlsplit(request.path).path)
        if page is None:
            return _plain(404, "Not Found", b"not found\n")
        ctype, body = page
        return Response(200, "OK", Headers([("Content-Type", ctype), ("Content-Length", str(len(body))),
                                            ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]), body)

    def _check_token(self, conn: ServerConnection, request: Request) -> Response | None:
        if not self._token:
            return None
        given = parse_qs(urlsplit(request.path).query).get("token", [""])[0]
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            given = auth[7:]
        if hmac.compare_digest(given.encode(), self._token.encode()):
            return None
        log.warning("refused a WebSocket client from %s: missing or wrong token", conn.remote_address[0])
        return _plain(401, "Unauthorized", b"avatar-bridge: missing or wrong token (add ?token=... to the URL)\n")

    async def _handle(self, conn: ServerConnection) -> None:
        client = _Client(conn)
        client.ordered.append(self._hello)
        client.wake.set()
        self._clients.add(client)
        sender = asyncio.create_task(self._send_loop(client))
        try:
            async for raw in conn:
                await self._on_message(client, raw)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            sender.cancel()

    async def _on_message(self, client: _Client, raw: str | bytes) -> None:
        if not client.allow_control():
            self.rejected_controls += 1
            self._queue(client, reply(None, None, False, f"rate limit: at most {CONTROL_RATE} control messages per second"))
            return
        try:
            control = parse_control(raw)
        except ControlError as e:
            self.rejected_controls += 1
            self._queue(client, reply(e.id, None, False, str(e)))
            return
        if control.command == "subscribe":  # per connection: answered here, not by the pipeline
            client.wants_preview = control.args["preview"]
            self._queue(client, reply(control.id, "subscribe", True, f"preview {'on' if client.wants_preview else 'off'}"))
            return
        fut: Future = Future()
        self._submit(control, fut)
        try:
            ok, message = await asyncio.wait_for(asyncio.wrap_future(fut), timeout=10)
        except TimeoutError:
            ok, message = False, "the pipeline did not answer within 10 s (is it stalled on the source?)"
        self._queue(client, reply(control.id, control.command, ok, message))

    def _queue(self, client: _Client, text: str) -> None:
        client.ordered.append(text)
        client.wake.set()

    async def _send_loop(self, client: _Client) -> None:
        try:
            while True:
                await client.wake.wait()
                client.wake.clear()
                while client.ordered:
                    await client.conn.send(client.ordered.popleft())
                if client.frame is not None:
                    frame, client.frame = client.frame, None
                    await client.conn.send(frame)
                    client.sent += 1
                if client.preview is not None:
                    preview, client.preview = client.preview, None
                    await client.conn.send(preview)
        except ConnectionClosed:
            pass

    # --- called from the pipeline thread -------------------------------------------------
    def publish_frame(self, text: str, has_events: bool = False) -> None:
        """`has_events`: the frame carries trigger events, so every client gets it, in order."""
        self._loop.call_soon_threadsafe(self._set_frame, text, has_events)

    def _set_frame(self, text: str, has_events: bool = False) -> None:
        for c in self._clients:
            if c.frame is not None:  # superseded by this newer frame
                c.dropped += 1
                self.frames_dropped += 1
                c.frame = None
            if has_events and len(c.ordered) < MAX_ORDERED:
                c.ordered.append(text)
            else:
                c.frame = text
            c.wake.set()

    def publish_preview(self, text: str) -> None:
        self._loop.call_soon_threadsafe(self._set_preview, text)

    def _set_preview(self, text: str) -> None:
        for c in self._clients:
            if c.wants_preview:
                c.preview = text
                c.wake.set()

    def publish_hello(self, text: str) -> None:
        self._loop.call_soon_threadsafe(self._set_hello, text)

    def _set_hello(self, text: str) -> None:
        self._hello = text
        for c in self._clients:
            c.frame = None  # a frame encoded for the old channels must not follow the new hello
            self._queue(c, text)

    def stop(self) -> None:
        if not self._loop.is_running():
            return

        async def _close() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(_close(), self._loop).result(timeout=5)
        except Exception:  # noqa: BLE001 - shutting down anyway
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


def _plain(status: int, reason: str, body: bytes) -> Response:
    return Response(status, reason, Headers([("Content-Type", "text/plain; charset=utf-8"),
                                             ("Content-Length", str(len(body)))]), body)
