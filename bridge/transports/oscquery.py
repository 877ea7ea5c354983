"""VRChat avatar discovery over OSCQuery, on background threads (never on the frame path).

OSCQuery (github.com/Vidvox/OSCQueryProposal) as VRChat implements it (docs.vrchat.com "OSCQuery",
github.com/vrchat-community/osc/wiki/OSCQuery):

- VRChat advertises its HTTP server over mDNS as `VRChat-Client-XXXXXX._oscjson._tcp.local.`;
  `GET /?HOST_INFO` there gives the OSC address it listens on (OSC_IP, OSC_PORT) and `GET /avatar`
  the current avatar: `change` (its id) and `parameters`, a tree whose leaves carry FULL_PATH,
  TYPE (f, i, T) and ACCESS.
- VRChat in turn browses `_oscjson._tcp` for apps, reads their trees and sends the `/avatar`
  messages they list to their OSC port. So we advertise `AvatarBridge-XXXXXX` on `_oscjson._tcp`
  (a tiny HTTP server: a tree with `/avatar/change`, and HOST_INFO naming our UDP port) and on
  `_osc._udp`, listen on that UDP port, and read the avatar again whenever `/avatar/change` arrives.
  The tree also lists VRChat's tracking status outputs (vrchat_avatar.STATUS_OUTPUTS), so VRChat
  tells us whether the user has eye or face tracking and whether the avatar uses its Face Tracking.

`AvatarDiscovery` calls `on_avatar(osc_address, avatar)` from its own thread each time it has read
an avatar, and `on_status(key, value)` for each status bool that arrives; until then (or if nothing
answers) the caller keeps its fallback.
"""
from __future__ import annotations

import json
import logging
import queue
import secrets
import socket
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..protocols.vrchat_avatar import STATUS_OUTPUTS, Avatar, parse_avatar

log = logging.getLogger("avatar_bridge.oscquery")

OSCJSON = "_oscjson._tcp.local."
OSC_UDP = "_osc._udp.local."
VRCHAT_PREFIX = "VRChat-Client-"
AVATAR_CHANGE = "/avatar/change"
HTTP_TIMEOUT_S = 2.0
WAIT_S = 3.0  # no VRChat by then: say so once (and keep listening)


def osc_messages(packet: bytes) -> list[tuple[str, str]]:
    """(address, type tags) of each OSC message in a datagram (a message or a bundle, nested or not);
    enough for `/avatar/change` and for bools, whose value is their type tag (T or F)."""
    if packet.startswith(b"#bundle\x00"):
        out, i = [], 16
        while i + 4 <= len(packet):
            (n,) = struct.unpack_from(">i", packet, i)
            out += osc_messages(packet[i + 4:i + 4 + n])
            i += 4 + max(n, 0)
        return out
    end = packet.find(b"\x00")
    if not packet.startswith(b"/") or end <= 0:
        return []
    tags_at = (end + 4) & ~3
    tags_end = packet.find(b"\x00", tags_at)
    tags = packet[tags_at:tags_end].decode("ascii", "replace") if tags_end > tags_at else ""
    return [(packet[:end].decode("utf-8", "replace"), tags.removeprefix(","))]


def _add_node(root: dict, address: str, node: dict) -> None:
    parent = root
    *dirs, leaf = [p for p in address.split("/") if p]
    for i, d in enumerate(dirs):
        parent = parent["CONTENTS"].setdefault(d, {"FULL_PATH": "/" + "/".join(dirs[:i + 1]), "ACCESS": 0,
                                                   "CONTENTS": {}})
    parent["CONTENTS"][leaf] = {"FULL_PATH": address, **node}


def our_tree(name: str, osc_port: int) -> tuple[dict, dict]:
    """(our OSCQuery root node, our HOST_INFO): we accept `/avatar/change` (a string) and VRChat's
    tracking status bools over UDP."""
    root = {"FULL_PATH": "/", "ACCESS": 0, "DESCRIPTION": "avatar-bridge", "CONTENTS": {}}
    _add_node(root, AVATAR_CHANGE, {"ACCESS": 2, "TYPE": "s",
                                    "DESCRIPTION": "the avatar id; we then read the avatar's parameters again"})
    for address in STATUS_OUTPUTS:
        _add_node(root, address, {"ACCESS": 2, "TYPE": "T", "DESCRIPTION": "VRChat's tracking status"})
    host_info = {"NAME": name, "OSC_IP": "127.0.0.1", "OSC_PORT": osc_port, "OSC_TRANSPORT": "UDP",
                 "EXTENSIONS": {"ACCESS": True, "VALUE": False, "TYPE": True, "DESCRIPTION": True}}
    return root, host_info


def _node_at(root: dict, path: str) -> dict | None:
    node = root
    for part in [p for p in path.split("/") if p]:
        node = (node.get("CONTENTS") or {}).get(part)
        if node is None:
            return None
    return node


def _http_server(root: dict, host_info: dict) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path, _, query = self.path.partition("?")
            node = host_info if query == "HOST_INFO" else _node_at(root, path)
            body = json.dumps(node).encode() if node is not None else b""
            self.send_response(200 if node is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as r:
        return json.loads(r.read().decode("utf-8"))


class AvatarDiscovery:
    """Finds VRChat, reads its avatar, follows `/avatar/change`. `fallback_address` is where VRChat
    listens if its HOST_INFO does not say. Binding our sockets may raise OSError."""

    def __init__(self, on_avatar: Callable[[tuple[str, int], Avatar], None], fallback_address: tuple[str, int],
                 on_status: Callable[[str, bool], None] = lambda key, value: None):
        self.on_avatar = on_avatar
        self.on_status = on_status
        self.fallback_address = fallback_address
        self.name = f"AvatarBridge-{secrets.token_hex(3).upper()}"
        self._events: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._vrchat: str | None = None  # VRChat's HTTP base URL once found
        self._vrchat_name = ""
        self._zc = None
        self._started = False
        self._threads: list[threading.Thread] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.25)
        self.osc_port = self.udp.getsockname()[1]
        self.http = _http_server(*our_tree(self.name, self.osc_port))
        self.http_port = self.http.server_address[1]

    def start(self) -> None:
        self._started = True
        for target, name in ((lambda: self.http.serve_forever(0.1), "oscquery-http"), (self._listen, "oscquery-osc"),
                             (self._work, "oscquery")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                packet = self.udp.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            for address, tags in osc_messages(packet):
                if address == AVATAR_CHANGE:
                    self._events.put("change")
                elif address in STATUS_OUTPUTS and tags in ("T", "F"):
                    self.on_status(STATUS_OUTPUTS[address], tags == "T")

    def _on_service(self, zeroconf, service_type: str, name: str, state_change) -> None:
        if name.startswith(VRCHAT_PREFIX) and state_change.name in ("Added", "Updated"):
            self._events.put(("found", name))

    def _start_mdns(self) -> None:
        from zeroconf import InterfaceChoice, IPVersion, ServiceBrowser, ServiceInfo, Zeroconf
        self._zc = Zeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)  # loopback included
        ServiceBrowser(self._zc, OSCJSON, handlers=[self._on_service])
        loopback = [socket.inet_aton("127.0.0.1")]
        services = [ServiceInfo(OSCJSON, f"{self.name}.{OSCJSON}", port=self.http_port, addresses=loopback),
                    ServiceInfo(OSC_UDP, f"{self.name}.{OSC_UDP}", port=self.osc_port, addresses=loopback)]

        def advertise() -> None:  # probing takes seconds: not in the way of finding VRChat
            for info in services:
                if self._stop.is_set():
                    return
                try:
                    self._zc.register_service(info, allow_name_change=True)
                except Exception as e:  # noqa: BLE001 (zeroconf raises several kinds; none may stop the sidecar)
                    if not self._stop.is_set():  # closing while probing is no failure
                        log.warning("OSCQuery: could not advertise %s (%s); VRChat will not tell us of avatar "
                                    "changes", info.name, e)
                    return
        threading.Thread(target=advertise, name="oscquery-advertise", daemon=True).start()  # not joined: close() ends it

    def _work(self) -> None:
        try:
            self._start_mdns()
        except Exception as e:  # noqa: BLE001
            log.warning("OSCQuery discovery unavailable (%s); sending every parameter to %s:%s", e,
                        *self.fallback_address)
            return
        waited = False
        while not self._stop.is_set():
            try:
                event = self._events.get(timeout=None if waited else WAIT_S)
            except queue.Empty:
                waited = True
                if self._vrchat is None:
                    log.info("no VRChat OSCQuery service answered within %.0f s; sending every parameter to "
                             "%s:%s (and still listening for VRChat)", WAIT_S, *self.fallback_address)
                continue
            if event is None:
                return
            try:
                if isinstance(event, tuple):
                    if event[1] != self._vrchat_name and self._resolve(event[1]):
                        self._read_avatar()
                elif self._vrchat is not None:
                    self._read_avatar()
            except Exception as e:  # noqa: BLE001 (this thread must outlive any one bad answer)
                if not self._stop.is_set():
                    log.warning("OSCQuery: %s: %s; keeping the current parameters", e.__class__.__name__, e)

    def _resolve(self, name: str) -> bool:
        info = self._zc.get_service_info(OSCJSON, name, timeout=int(HTTP_TIMEOUT_S * 1000))
        addresses = info.parsed_addresses() if info is not None else []
        if not addresses:
            log.warning("OSCQuery: %s did not resolve to an address", name)
            return False
        self._vrchat, self._vrchat_name = f"http://{addresses[0]}:{info.port}", name
        log.info("OSCQuery: found %s at %s", name.split(".")[0], self._vrchat)
        return True

    def _read_avatar(self) -> None:
        try:
            host = _get_json(self._vrchat + "/?HOST_INFO")
            ip = host.get("OSC_IP") if isinstance(host, dict) else None
            port = host.get("OSC_PORT") if isinstance(host, dict) else None
            base_ip = self._vrchat.split("//")[1].rsplit(":", 1)[0]
            address = ((base_ip if ip in (None, "", "0.0.0.0") else ip),
                       port if isinstance(port, int) else self.fallback_address[1])
            avatar = parse_avatar(_get_json(self._vrchat + "/avatar"))
        except (OSError, urllib.error.URLError, ValueError) as e:
            log.warning("OSCQuery: reading the avatar from %s failed (%s); keeping the current parameters",
                        self._vrchat, e)
            return
        self.on_avatar(address, avatar)

    def close(self) -> None:
        self._stop.set()
        self._events.put(None)
        if self._started:
            self.http.shutdown()
        self.http.server_close()
        self.udp.close()
        for t in self._threads:
            t.join(timeout=5)
        if self._zc is not None:
            self._zc.close()
