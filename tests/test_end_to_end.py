"""`avatar-bridge run` as a user runs it: a real video in, real UDP and WebSocket out.

The VMC stream is parsed by liblo's oscdump (an independent OSC implementation); WebSocket
messages are received by a real client and validated against the published JSON Schema.
"""
import json
import os
import subprocess
import sys
import threading
import time

import jsonschema
import numpy as np
from websockets.sync.client import connect

from bridge.arkit import ARKIT_NAMES
from bridge.protocols.jsonframe import schema
from conftest import FACE, Oscdump, free_port


def _ws_collect(port: int, out: list, stop: threading.Event, controls: list[str]):
    deadline = time.time() + 60
    while time.time() < deadline and not stop.is_set():
        try:
            with connect(f"ws://127.0.0.1:{port}", open_timeout=1) as ws:
                for c in controls:
                    ws.send(c)
                while not stop.is_set():
                    try:
                        out.append(json.loads(ws.recv(timeout=1)))
                    except TimeoutError:
                        continue
            return
        except (OSError, TimeoutError):
            time.sleep(0.1)
        except Exception:  # connection closed by the server at the end of the run
            return


def test_run_streams_vmc_and_websocket():
    vmc_port, ws_port = free_port(), free_port(__import__("socket").SOCK_STREAM)
    dump = Oscdump(vmc_port)
    received: list = []
    stop = threading.Event()
    controls = ['{"type":"ping","id":1}', "not json", '{"type":"explode","id":"x"}', '{"type":"pause","id":2}',
                '{"type":"resume","id":3}', '{"type":"set_preset","id":4,"preset":"vrm3"}']
    t = threading.Thread(target=_ws_collect, args=(ws_port, received, stop, controls), daemon=True)
    t.start()
    proc = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "run", "--source", str(FACE / "single_face.mp4"), "--loop",
         "--vmc", f"127.0.0.1:{vmc_port}", "--ws", f"127.0.0.1:{ws_port}", "--max-frames", "150", "-q"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})
    stop.set()
    t.join(timeout=5)
    lines = dump.stop()
    assert proc.returncode == 0, proc.stderr
    assert "done: 150 frames" in proc.stderr

    # VMC, as oscdump parsed it
    blend_names = [l.split('"')[1] for l in lines if " /VMC/Ext/Blend/Val sf " in l]
    assert set(blend_names) == set(ARKIT_NAMES)
    applies = sum(" /VMC/Ext/Blend/Apply" in l for l in lines)
    assert 140 <= applies <= 150  # UDP on loopback; allow a few lost at start-up
    assert blend_names[:52] == list(ARKIT_NAMES)
    heads = [l.split()[4:] for l in lines if '/VMC/Ext/Bone/Pos sfffffff "Head"' in l]
    q = np.array([[float(v) for v in h[3:7]] for h in heads])
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
    assert np.ptp(q, axis=0).max() > 0.01  # the head actually moves
    ok = [l for l in lines if " /VMC/Ext/OK " in l]
    assert ok and ok[-1].split()[3:] == ["1", "3", "0", "1"]

    # WebSocket: hello first, frames valid against the schema, replies to every control message
    validator = jsonschema.Draft202012Validator(schema())
    for m in received:
        validator.validate(m)
    assert received[0]["type"] == "hello" and received[0]["channels"]["blendshapes"] == list(ARKIT_NAMES)
    frames = [m for m in received if m["type"] == "frame"]
    assert len(frames) > 20
    assert all(len(f["people"][0]["blendshapes"]) == 52 for f in frames)
    assert any(f["people"][0]["face"]["found"] for f in frames)
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs)
    replies = {m["id"]: m for m in received if m["type"] == "reply"}
    assert replies[1]["ok"] and replies[1]["message"] == "pong"
    assert replies["x"]["ok"] is False and "unknown type 'explode'" in replies["x"]["message"]
    assert any(m["type"] == "reply" and m["id"] is None and "not valid JSON" in m["message"] for m in received)
    assert replies[2]["ok"] and replies[3]["ok"]
    # a bad live edit names the key it would set, not an internal origin such as "flags:"
    assert replies[4]["ok"] is False
    assert replies[4]["message"] == "[mapping] preset = 'vrm3': allowed values are arkit, vrm0, vrm1, none"


def test_websocket_refuses_foreign_browser_origin():
    """A web page from another site open in the user's browser must not reach the control socket."""
    from websockets.exceptions import InvalidStatus
    ws_port = free_port(__import__("socket").SOCK_STREAM)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge.cli", "run", "--source", str(FACE / "single_face.mp4"), "--loop",
         "--no-vmc", "--ws", f"127.0.0.1:{ws_port}", "--max-frames", "400", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with connect(f"ws://127.0.0.1:{ws_port}", origin="http://localhost:3000", open_timeout=2) as ws:
                    assert json.loads(ws.recv(timeout=5))["type"] == "hello"
                break
            except (ConnectionRefusedError, OSError):
                assert time.time() < deadline
                time.sleep(0.2)
        try:
            with connect(f"ws://127.0.0.1:{ws_port}", origin="https://evil.example", open_timeout=5):
                raise AssertionError("foreign origin was accepted")
        except InvalidStatus as e:
            assert e.response.status_code == 403
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
