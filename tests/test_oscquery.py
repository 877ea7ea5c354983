"""VRChat avatar discovery over OSCQuery, against a stand-in for VRChat built from the published
protocol (github.com/Vidvox/OSCQueryProposal; github.com/vrchat-community/osc/wiki/OSCQuery):
a real zeroconf mDNS advertisement `VRChat-Client-*._oscjson._tcp`, a real HTTP server with the
avatar's OSCQuery tree and HOST_INFO, finding our app over mDNS the way VRChat does, and liblo's
oscdump as the OSC port VRChat listens on. The sidecar is the real pipeline on a real face clip.
"""
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import urlopen

import numpy as np
from pythonosc.udp_client import SimpleUDPClient
from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, Zeroconf

from bridge.config import from_tables
from bridge.mapping import Mapper, load_preset
from bridge.pipeline import Pipeline
from bridge.sources import open_source
from bridge.transports.oscquery import osc_messages
from conftest import FACE, Oscdump, free_port

P = "/avatar/parameters/"
GAZE, LIDS = "/tracking/eye/LeftRightPitchYaw", "/tracking/eye/EyesClosedAmount"
# Avatar 1: VRCFaceTracking parameters under an `FT/` prefix: floats, a bool, binary groups with and
# without Negative, two status bools, and parameters that are not ours.
AVATAR_1 = [("FT/v2/JawOpen", "f"), ("FT/v2/EyeLeftX", "f"), ("FT/v2/EyeRightX", "f"), ("FT/v2/SmileFrownRight", "T"),
            ("FT/v2/SmileSadRight", "f"), ("FT/v2/SmileSadRight1", "T"), ("FT/v2/SmileSadRight2", "T"),
            ("FT/v2/SmileSadRight4", "T"), ("FT/v2/SmileSadRightNegative", "T"),
            *[(f"FT/v2/MouthSmileLeft{n}", "T") for n in (1, 2, 4, 8)],
            ("EyeTrackingActive", "T"), ("LipTrackingActive", "T"),
            ("VRCEmote", "i"), ("FT/v2/PupilDilation", "f"), ("GestureLeft", "i"), ("Old/v1/v2/JawOpen", "f")]
NOT_OURS_1 = {P + "VRCEmote", P + "FT/v2/PupilDilation", P + "GestureLeft", P + "Old/v1/v2/JawOpen"}
# Avatar 2: no prefix, eyelids of its own (so native gaze but not native eyelids), other forms.
AVATAR_2 = [("v2/JawOpen", "f"), ("v2/JawOpen1", "T"), ("v2/JawOpen2", "T"), ("v2/JawOpen4", "T"),
            ("v2/EyeLidLeft", "f"), ("v2/EyeLidRight", "f"), ("v2/BrowExpressionLeft", "f"),
            ("v2/SmileSadLeft1", "T"), ("v2/SmileSadLeft2", "T"), ("v2/SmileSadLeftNegative", "T"),
            ("v2/EyeLid", "T"), ("ExpressionTrackingActive", "T"), ("VRCFaceBlendV", "f")]
NOT_OURS_2 = {P + "VRCFaceBlendV"}


def avatar_tree(avatar_id: str, params: list[tuple[str, str]]) -> dict:
    """VRChat's `/avatar` node: `change` with the id, `parameters` nested by path segment."""
    root = {"FULL_PATH": "/avatar/parameters", "ACCESS": 0, "CONTENTS": {}}
    for path, typ in params:
        node, full = root, "/avatar/parameters"
        *dirs, leaf = path.split("/")
        for d in dirs:
            full += "/" + d
            node = node["CONTENTS"].setdefault(d, {"FULL_PATH": full, "ACCESS": 0, "CONTENTS": {}})
        node["CONTENTS"][leaf] = {"FULL_PATH": f"{full}/{leaf}", "TYPE": typ, "ACCESS": 3,
                                  "VALUE": [False if typ == "T" else 0]}
    return {"FULL_PATH": "/avatar", "ACCESS": 0, "CONTENTS": {
        "change": {"FULL_PATH": "/avatar/change", "TYPE": "s", "ACCESS": 3, "VALUE": [avatar_id]}, "parameters": root}}


class VrchatStandIn:
    """VRChat's side of OSCQuery, thin: advertises itself, serves its tree, finds our app over mDNS."""

    NAME = "VRChat-Client-A1B2C3"

    def __init__(self, osc_in_port: int, avatar_id: str, params):
        self.tree = avatar_tree(avatar_id, params)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                path, _, query = self.path.partition("?")
                if query == "HOST_INFO":
                    node = {"NAME": stand_in.NAME, "OSC_IP": "127.0.0.1", "OSC_PORT": osc_in_port, "OSC_TRANSPORT": "UDP"}
                elif path.rstrip("/") == "/avatar":
                    node = stand_in.tree
                else:
                    node = {"FULL_PATH": "/", "ACCESS": 0, "CONTENTS": {"avatar": stand_in.tree}}
                body = json.dumps(node).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
        self.zc.register_service(ServiceInfo("_oscjson._tcp.local.", f"{self.NAME}._oscjson._tcp.local.",
                                             port=self.http.server_address[1], addresses=[socket.inet_aton("127.0.0.1")]))
        self.apps: set[str] = set()
        ServiceBrowser(self.zc, "_oscjson._tcp.local.", handlers=[self._on_service])

    def _on_service(self, zeroconf, service_type, name, state_change) -> None:
        if state_change.name == "Removed":
            self.apps.discard(name)
        else:
            self.apps.add(name)

    def app_osc_port(self, timeout: float = 30) -> int:
        """Where VRChat would send our app its /avatar messages: the app's HOST_INFO OSC_PORT, if its
        tree accepts /avatar/change."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in [n for n in list(self.apps) if n.startswith("AvatarBridge-")]:
                info = self.zc.get_service_info("_oscjson._tcp.local.", name, timeout=2000)
                if info is None:
                    continue
                base = f"http://{info.parsed_addresses()[0]}:{info.port}"
                tree = json.loads(urlopen(base + "/", timeout=2).read())
                assert tree["CONTENTS"]["avatar"]["CONTENTS"]["change"]["FULL_PATH"] == "/avatar/change"
                host = json.loads(urlopen(base + "/?HOST_INFO", timeout=2).read())
                assert host["OSC_TRANSPORT"] == "UDP"
                return host["OSC_PORT"]
            time.sleep(0.2)
        raise AssertionError("the sidecar never advertised an OSCQuery service")

    def change_avatar(self, app_port: int, avatar_id: str, params) -> None:
        self.tree = avatar_tree(avatar_id, params)
        SimpleUDPClient("127.0.0.1", app_port).send_message("/avatar/change", avatar_id)

    def close(self) -> None:
        self.zc.close()
        self.http.shutdown()


def parse(lines: list[str]) -> list[tuple[str, str, list[float]]]:
    """oscdump lines -> (address, type tags, numbers)."""
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 3:
            out.append((parts[1], parts[2], [float(v) for v in parts[3:] if not v.startswith("#")]))
    return out


def last_state(msgs) -> dict[str, object]:
    state: dict[str, object] = {}
    for address, tags, values in msgs:
        state[address] = values[0] if tags == "f" else values if tags == "ffff" else tags == "T"
    return state


def expected_state(values: dict[str, float], declared: list[tuple[str, str]]) -> dict[str, object]:
    """What each declared parameter of ours should hold for these outputs, from VRCFaceTracking's rules."""
    out: dict[str, object] = {}
    for path, typ in declared:
        name = path[path.index("v2/"):] if "v2/" in path else path
        base = name.rstrip("0123456789")
        if name in values and typ == "f":
            out[P + path] = values[name]
        elif name.endswith("Negative") and name[:-8] in values:
            out[P + path] = values[name[:-8]] < 0
        elif base != name and base in values:  # a bit of a binary group
            group = path.rstrip("0123456789")
            n_bits = sum(1 for p, _ in declared if p != group and p.rstrip("0123456789") == group)
            has_neg = (group + "Negative", "T") in declared
            v = values[base]
            k = int(abs(v) * 2 ** n_bits)
            bit = int(name[len(base):]).bit_length() - 1
            out[P + path] = (v >= 0 or has_neg) and (abs(v) > 0.99999 or bool((k >> bit) & 1))
        elif name in values and typ == "T":
            out[P + path] = values[name] < 0.5  # the combined shapes' bool threshold
    return out


def run_pipeline(tables: dict, frames: list) -> tuple[Pipeline, threading.Thread]:
    base = {"vmc": {"enabled": False}, "websocket": {"enabled": False},
            "classify": {"expression": False, "action": False},  # not what this tests; saves the CPU
            "calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"}}
    p = Pipeline(from_tables({**base, **tables}), open_source(str(FACE / "expressions_pexels.mp4"), loop=True))
    p.listeners.append(lambda f: frames.append((f.people[0].subject.blendshapes.copy(), f.people[0].subject.found)))
    t = threading.Thread(target=p.run, daemon=True)
    t.start()
    return p, t


def wait_for(cond, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_osc_messages_of_messages_and_bundles():
    from bridge.protocols import osc
    m = osc.message("/avatar/change", "s", "avtr_x")
    assert osc_messages(m) == [("/avatar/change", "s")]
    assert osc_messages(osc.bundle([osc.message("/a", "f", 1.0), osc.bundle([m])])) == [("/a", "f"), ("/avatar/change", "s")]
    assert osc_messages(osc.prefix("/avatar/parameters/UserEyeTracking", "T")) == [("/avatar/parameters/UserEyeTracking", "T")]
    assert osc_messages(b"garbage") == []
    assert osc_messages(b"/cut") == [] and osc_messages(b"/cut\x00\x00\x00\x00") == [("/cut", "")]


def test_discovers_vrchat_sends_only_the_avatars_parameters_and_follows_avatar_changes():
    vrchat_in, fallback_port = free_port(), free_port()
    dump, fallback = Oscdump(vrchat_in), Oscdump(fallback_port)
    stand_in = VrchatStandIn(vrchat_in, "avtr_test_1", AVATAR_1)
    frames: list = []
    pipeline = None
    try:
        pipeline, thread = run_pipeline({"vrchat": {"enabled": True, "port": fallback_port}}, frames)
        params = pipeline.outputs.active["vrchat"].parameters
        wait_for(lambda: params.plan.avatar is not None)
        assert params.plan.avatar.id == "avtr_test_1"
        app_port = stand_in.app_osc_port()
        n = len(frames)
        wait_for(lambda: len(frames) > n + 60)  # two seconds of avatar 1
        stand_in.change_avatar(app_port, "avtr_test_2", AVATAR_2)
        wait_for(lambda: params.plan.avatar.id == "avtr_test_2", timeout=30)
        n = len(frames)
        wait_for(lambda: len(frames) > n + 60)
        pipeline.stop()
        thread.join(timeout=30)
    finally:
        if pipeline is not None:
            pipeline.stop()
        stand_in.close()
        lines, _ = dump.stop(), fallback.stop()
    msgs = parse(lines)
    ours_1 = {P + a for a, _ in AVATAR_1} - NOT_OURS_1
    ours_2 = {P + a for a, _ in AVATAR_2} - NOT_OURS_2
    switch = next(i for i, m in enumerate(msgs) if m[0] in ours_2 - ours_1)
    first, second = msgs[:switch], msgs[switch:]

    # every parameter each avatar declares that is ours, nothing else; native eyes only where the avatar has none
    assert {m[0] for m in first} == ours_1 | {LIDS}
    assert {m[0] for m in second} == ours_2 | {GAZE}
    types = dict(AVATAR_1 + AVATAR_2)
    for address, tags, _ in msgs:
        want = {"f": "f", "T": ("T", "F")}[types[address[len(P):]]] if address.startswith(P) else ("f" if address == LIDS else "ffff")
        assert tags in want, address

    # avatar 1: the binary group agrees with the float of the same shape (3 bits + Negative)
    s1 = last_state(first)
    k = sum(s1[P + f"FT/v2/SmileSadRight{b}"] << i for i, b in enumerate((1, 2, 4)))
    v = s1[P + "FT/v2/SmileSadRight"]
    assert k / 8 - 0.006 <= abs(v) < (k + 1) / 8 + 0.006
    assert abs(v) < 0.006 or s1[P + "FT/v2/SmileSadRightNegative"] == (v < 0)
    assert s1[P + "EyeTrackingActive"] and s1[P + "LipTrackingActive"]

    # avatar 2: the last values are those of the last frame, by VRCFaceTracking's rules
    blend, found = frames[-1]
    assert found
    mapper = Mapper(load_preset("vrchat_unified"))
    values = dict(zip(mapper.names, mapper.apply(blend).tolist()))
    s2 = last_state(second)
    for address, want in expected_state(values, AVATAR_2).items():
        if isinstance(want, bool):
            assert s2[address] == want, address
        else:
            assert abs(s2[address] - want) <= 0.0051, address  # the change filter's epsilon
    assert s2[P + "ExpressionTrackingActive"] is True
    floats = {a for a, t in ((P + p, t) for p, t in AVATAR_2) if t == "f" and a in ours_2}
    assert any(len({tuple(m[2]) for m in second if m[0] == a}) > 3 for a in floats)  # a real face: values move


def test_falls_back_to_every_parameter_when_no_vrchat_answers(caplog):
    port = free_port()
    dump = Oscdump(port)
    frames: list = []
    caplog.set_level(logging.INFO, logger="avatar_bridge.oscquery")
    pipeline, thread = run_pipeline({"vrchat": {"enabled": True, "port": port}}, frames)
    try:
        params = pipeline.outputs.active["vrchat"].parameters
        wait_for(lambda: any("no VRChat OSCQuery service answered" in r.message for r in caplog.records), timeout=30)
        wait_for(lambda: len(frames) > 30)
        assert params.plan.avatar is None
    finally:
        pipeline.stop()
        thread.join(timeout=30)
        lines = dump.stop()
    addresses = {m[0] for m in parse(lines)}
    mapper = Mapper(load_preset("vrchat_unified"))
    assert {P + n for n in mapper.names} | {GAZE, LIDS} <= addresses
    assert {P + "EyeTrackingActive", P + "ExpressionTrackingActive", P + "LipTrackingActive"} <= addresses
    assert all(m[1] in ("f", "T", "F", "ffff") for m in parse(lines))


def test_explicit_address_sends_everything_without_discovery():
    port = free_port()
    dump = Oscdump(port)
    frames: list = []
    pipeline, thread = run_pipeline({"vrchat": {"enabled": True, "port": port, "oscquery": False}}, frames)
    try:
        assert pipeline.outputs.active["vrchat"].parameters.discovery is None
        wait_for(lambda: len(frames) > 20)
    finally:
        pipeline.stop()
        thread.join(timeout=30)
        lines = dump.stop()
    assert P + "v2/JawOpen" in {m[0] for m in parse(lines)}
    assert np.isfinite([v for m in parse(lines) for v in m[2]]).all()


def test_a_broken_avatar_tree_keeps_the_fallback_until_avatar_change(caplog):
    from bridge.transports.oscquery import AvatarDiscovery
    vrchat_in = free_port()
    stand_in = VrchatStandIn(vrchat_in, "avtr_x", [])
    stand_in.tree = {"FULL_PATH": "/avatar", "CONTENTS": {"change": {"FULL_PATH": "/avatar/change"}}}  # no parameters
    got: list = []
    caplog.set_level(logging.INFO, logger="avatar_bridge.oscquery")
    discovery = AvatarDiscovery(lambda address, avatar: got.append((address, avatar)), ("127.0.0.1", 9000))
    discovery.start()
    try:
        wait_for(lambda: any("reading the avatar" in r.message and "no /avatar/parameters" in r.message
                             for r in caplog.records), timeout=30)
        assert got == []
        stand_in.change_avatar(stand_in.app_osc_port(), "avtr_ok", [("v2/JawOpen", "f")])
        wait_for(lambda: got, timeout=30)
    finally:
        discovery.close()
        stand_in.close()
    address, avatar = got[0]
    assert address == ("127.0.0.1", vrchat_in)  # VRChat's HOST_INFO, not the configured 9000
    assert avatar.id == "avtr_ok" and [(p.address, p.type) for p in avatar.parameters] == [(P + "v2/JawOpen", "f")]


def test_reads_vrchats_tracking_status_and_warns_about_a_face_tracking_avatar_without_our_parameters(caplog):
    """VRChat sends its status outputs (creators.vrchat.com/avatars/face-tracking/osc) to an app whose
    OSCQuery tree lists them; python-osc plays VRChat sending them, as OSC bools, to our port."""
    from bridge.transports.udp import UdpSender
    from bridge.vrchat_parameters import VrchatParameters
    vrchat_in = free_port()
    stand_in = VrchatStandIn(vrchat_in, "avtr_native_ft", [("VRCEmote", "i"), ("EyeTrackingActive", "T")])
    settings = from_tables({"vrchat": {"enabled": True, "port": vrchat_in}}).vrchat
    caplog.set_level(logging.INFO, logger="avatar_bridge.vrchat")
    params = VrchatParameters(Mapper(load_preset("vrchat_unified")).names, settings,
                              UdpSender("127.0.0.1", vrchat_in, "VRChat OSC"))
    try:
        app_port = stand_in.app_osc_port()
        base = f"http://127.0.0.1:{params.discovery.http_port}"
        for address in ("/avatar/parameters/UserEyeTracking", "/avatar/parameters/UserFaceTracking",
                        "/avatar/avatarfullfacetracking"):
            node = json.loads(urlopen(base + address, timeout=2).read())
            assert node["FULL_PATH"] == address and node["TYPE"] == "T", node
        wait_for(lambda: params.plan.avatar is not None, timeout=30)
        vrchat = SimpleUDPClient("127.0.0.1", app_port)
        vrchat.send_message("/avatar/parameters/UserEyeTracking", True)
        vrchat.send_message("/avatar/parameters/UserFaceTracking", False)
        vrchat.send_message("/avatar/avatarfullfacetracking", True)
        vrchat.send_message("/avatar/parameters/UserEyeTracking", 1.0)  # not a bool: ignored
        wait_for(lambda: params.status.full_face is not None, timeout=10)
        wait_for(lambda: any("face will not move" in r.message for r in caplog.records), timeout=10)
        assert (params.status.eye, params.status.face, params.status.full_face) == (True, False, True)
        vrchat.send_message("/avatar/parameters/UserEyeTracking", False)
        wait_for(lambda: params.status.eye is False, timeout=10)
        vrchat.send_message("/avatar/avatarfullfacetracking", True)  # again: no second warning
        stand_in.change_avatar(app_port, "avtr_vrcft", [("v2/JawOpen", "f")])  # our parameters: no warning
        wait_for(lambda: params.plan.avatar.id == "avtr_vrcft", timeout=30)
    finally:
        params.close()
        stand_in.close()
    said = [r.message for r in caplog.records]
    assert sum("face will not move" in m for m in said) == 1, said
    assert "avtr_native_ft" in next(m for m in said if "face will not move" in m)
    assert any("eye tracking data is available" in m for m in said)
    assert any("no eye tracking data" in m for m in said)
