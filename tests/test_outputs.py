"""One output path: a recording replayed sends what the live run that recorded it sent.

The live pipeline runs a real fixture clip through MediaPipe with VMC, VRChat OSC (with
`[reactions]` parameters) and WebSocket on loopback, recording every frame; `replay` then sends
the recording through the same `Outputs` to fresh sockets. Every UDP datagram must be byte for
byte the same (except VMC's `/VMC/Ext/T` uptime) and every WebSocket frame the same message
(capture time aside; numbers within the recording's float32 precision). The one difference the
live run cannot avoid: its `send` timing is measured while the frame is being sent, so its
WebSocket frame goes out before that figure (and the `total` including it) exists; the
recording keeps both, and the replay sends them as recorded.
"""
from __future__ import annotations

import json
import socket
import threading
import time

import numpy as np
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bridge.config import from_tables
from bridge.pipeline import Pipeline
from bridge.recording import RecordingWriter, meta_for
from bridge.replay import replay
from bridge.sources import open_source
from conftest import FACE, free_port

N_FRAMES = 40


class UdpSink:
    """Collects every datagram sent to a loopback port."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.packets.append(self.sock.recv(65536))
            except TimeoutError:
                continue

    def stop(self) -> list[bytes]:
        time.sleep(0.3)
        self._stop.set()
        self._thread.join()
        self.sock.close()
        return self.packets


class WsClient:
    """A WebSocket client that keeps every frame message."""

    def __init__(self, port: int):
        self.frames: list[dict] = []
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(port,), daemon=True)
        self._thread.start()

    def _run(self, port: int) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                ws = connect(f"ws://127.0.0.1:{port}", open_timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        with ws:
            self.ready.set()
            while not self._stop.is_set():
                try:
                    msg = json.loads(ws.recv(timeout=0.2))
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    return  # the sender has finished
                if msg["type"] == "frame":
                    self.frames.append(msg)

    def stop(self) -> list[dict]:
        time.sleep(0.3)
        self._stop.set()
        self._thread.join()
        return self.frames


def tables(vmc: UdpSink, vrc: UdpSink, ws_port: int) -> dict:
    return {"vmc": {"enabled": True, "port": vmc.port}, "vrchat": {"enabled": True, "port": vrc.port},
            "websocket": {"enabled": True, "port": ws_port},
            "calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"},
            "reactions": {"expression": {"happy": {"blend": "Joy", "vrchat": "Happy", "vrchat_float": "HappyScore",
                                                   "mode": "probability"}}}}


def without_uptime(packets: list[bytes]) -> list[bytes]:
    """VMC bundles with /VMC/Ext/T's value zeroed (it is the sender's uptime)."""
    out = []
    for p in packets:
        i = p.find(b"/VMC/Ext/T\x00\x00,f\x00\x00")
        out.append(p if i < 0 else p[:i + 16] + b"\x00\x00\x00\x00" + p[i + 20:])
    return out


def assert_same_json(a, b, path="frame"):
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            assert_same_json(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_json(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        assert abs(a - b) <= 2e-5, f"{path}: {a} != {b}"
    else:
        assert a == b, path


def test_replay_sends_what_the_live_run_sent(tmp_path, tracker):
    clip = FACE / "expressions_pexels.mp4"
    vmc, vrc, ws_port = UdpSink(), UdpSink(), free_port(socket.SOCK_STREAM)
    cfg = from_tables(tables(vmc, vrc, ws_port))
    source = open_source(str(clip), fast=False)
    pipeline = Pipeline(cfg, source, max_frames=N_FRAMES, tracker=tracker)
    writer = RecordingWriter(tmp_path / "take.abr", meta=meta_for(cfg, source))
    pipeline.outputs.listeners.append(writer.write)
    pipeline.start_outputs()
    client = WsClient(ws_port)
    assert client.ready.wait(10)
    threading.Thread(target=pipeline.run, daemon=True).start()
    deadline = time.monotonic() + 120
    while pipeline.stats.frames < N_FRAMES and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)
    writer.close()
    live = (vmc.stop(), vrc.stop(), client.stop())
    assert pipeline.stats.frames == N_FRAMES and pipeline.stats.faces > N_FRAMES // 2

    vmc2, vrc2, ws_port2 = UdpSink(), UdpSink(), free_port(socket.SOCK_STREAM)
    client2 = WsClient(ws_port2)
    cfg2 = from_tables(tables(vmc2, vrc2, ws_port2))
    replay(tmp_path / "take.abr", cfg2)
    again = (vmc2.stop(), vrc2.stop(), client2.stop())

    assert without_uptime(again[0]) == without_uptime(live[0])
    assert again[1] == live[1]
    assert any(p.startswith(b"/avatar/parameters/HappyScore\x00") for p in live[1])
    assert len(live[2]) == N_FRAMES
    replayed = {f["seq"]: f for f in again[2]}  # the client may connect a frame or two after the replay starts
    assert len(replayed) >= N_FRAMES - 5
    for a in live[2]:
        if a["seq"] not in replayed:
            continue
        a, b = dict(a), dict(replayed[a["seq"]])
        del a["t"], b["t"]  # capture time: when each was sent
        for timings in (a["timings_ms"], b["timings_ms"]):
            for key in ("send", "total"):
                timings.pop(key, None)
        assert_same_json(a, b)
    happy = np.array([f["people"][0]["parameters"]["HappyScore"] for f in live[2]])
    assert happy.max() > 0
