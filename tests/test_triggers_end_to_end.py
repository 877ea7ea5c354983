"""Recognition to animation triggers, end to end: a real video in, expression probabilities and
trigger events out to a WebSocket client (JSON) and to a VMC receiver (/VMC/Ext/Key, via oscdump)."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

from websockets.sync.client import connect

from conftest import FACE, Oscdump, free_port


def collect_frames(ws_port: int, frames: list, stop: threading.Event) -> None:
    """A WebSocket client that (re)connects until `stop` and keeps every frame message it receives."""
    deadline = time.time() + 60
    while time.time() < deadline and not stop.is_set():
        try:
            with connect(f"ws://127.0.0.1:{ws_port}", open_timeout=1) as ws:
                while not stop.is_set():
                    try:
                        m = json.loads(ws.recv(timeout=1))
                    except TimeoutError:
                        continue
                    if m["type"] == "frame":
                        frames.append(m)
        except Exception:
            time.sleep(0.1)


def test_expression_triggers_reach_websocket_and_vmc():
    """In the clip's first seconds the woman grimaces as if crying (MediaPipe's mouthSmile reads
    high, but the face is distressed); the expression model says sad and a trigger starts."""
    vmc_port, ws_port = free_port(), free_port(socket.SOCK_STREAM)
    dump = Oscdump(vmc_port)
    frames, stop = [], threading.Event()
    t = threading.Thread(target=collect_frames, args=(ws_port, frames, stop), daemon=True)
    t.start()
    proc = subprocess.run([sys.executable, "-m", "bridge.cli", "run", "--source", str(FACE / "expressions_pexels.mp4"),
                           "--vmc", f"127.0.0.1:{vmc_port}", "--ws", f"127.0.0.1:{ws_port}", "--max-frames", "200", "-q"],
                          capture_output=True, text=True, timeout=180, env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})
    stop.set()
    t.join(timeout=5)
    lines = dump.stop()
    assert proc.returncode == 0, proc.stderr
    people = [m["people"][0] for m in frames]
    with_face = [f for f in people if f["face"]["found"]]
    assert with_face and all(set(f["classes"]["expression"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise",
                                                                  "neutral"} for f in with_face)
    starts = [(f, e) for f in people for e in f["events"] if e["type"] == "expression" and e.get("state") == "start"]
    assert starts, "no expression trigger started"
    frame, event = starts[0]
    probs = frame["classes"]["expression"]
    assert event["name"] == max(probs, key=probs.get) and event["value"] >= 0.6  # the winning class, above enter
    assert event["name"] in ("sad", "fear")
    keys = [l for l in lines if " /VMC/Ext/Key isi " in l]
    assert any(f'"expression:{event["name"]}"' in l and l.split()[3] == "1" for l in keys), keys[:5]


def test_reactions_drive_vmc_shapes_and_vrchat_parameters(tmp_path):
    """[reactions]: a fist (real HaGRID photos) becomes a custom VMC shape and VRChat bool/float
    parameters, read back by two oscdump listeners."""
    from conftest import FIXTURES
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[face]\nenabled = false\n[hands]\nenabled = true\n'
                   '[reactions.gesture]\nfist = { blend = "Fist", vrchat = "FistOn", vrchat_float = "FistScore" }\n'
                   'palm = { blend = "Fist" }\n')
    vmc_port, vrc_port = free_port(), free_port()
    vmc, vrc = Oscdump(vmc_port), Oscdump(vrc_port)
    proc = subprocess.run([sys.executable, "-m", "bridge.cli", "run", "--config", str(cfg),
                           "--source", str(FIXTURES / "gesture" / "fist"), "--vmc", f"127.0.0.1:{vmc_port}",
                           "--vrchat", f"127.0.0.1:{vrc_port}", "--no-ws", "--max-frames", "14", "-q"],
                          capture_output=True, text=True, timeout=180, env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})
    vmc_lines, vrc_lines = vmc.stop(), vrc.stop()
    assert proc.returncode == 0, proc.stderr
    fist = [l.split()[-1] for l in vmc_lines if '/VMC/Ext/Blend/Val sf "Fist"' in l]
    assert fist and fist[0] == "0.000000" and "1.000000" in fist, fist  # off until the trigger starts, then on
    assert any("/avatar/parameters/FistOn T" in l for l in vrc_lines), vrc_lines[:10]
    assert any("/avatar/parameters/FistOn F" in l for l in vrc_lines)  # sent (false) before the trigger
    assert any(l.startswith("/avatar/parameters/FistScore f 1.0") or "/avatar/parameters/FistScore f 1" in l
               for l in vrc_lines)


def _jump_then_fist_video(path):
    """A real video file: a COCO photo of a standing person lifted in the image as by a jump, then
    real HaGRID fist photos, at 15 fps (each photo held for 3 frames)."""
    import cv2
    import numpy as np
    from conftest import FIXTURES
    img = cv2.imread(str(FIXTURES / "pose" / "COCO_val2014_000000000589.jpg"))
    h, w = img.shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (w, h))
    torso_px = 0.3 * h  # roughly; the jump needs a rise of 0.2 torso lengths and gets about 0.4
    for lift in [0.0] * 20 + [0.15, 0.3, 0.4, 0.4, 0.3, 0.15] + [0.0] * 15:
        out.write(cv2.warpAffine(img, np.float32([[1, 0, 0], [0, 1, -lift * torso_px]]), (w, h),
                                 borderMode=cv2.BORDER_REPLICATE))
    for f in sorted((FIXTURES / "gesture" / "fist").glob("*.jpg"))[:8]:
        photo = cv2.imread(str(f))
        s = min(w / photo.shape[1], h / photo.shape[0])
        small = cv2.resize(photo, (int(photo.shape[1] * s), int(photo.shape[0] * s)))
        canvas = np.zeros_like(img)
        canvas[:small.shape[0], :small.shape[1]] = small
        for _ in range(3):
            out.write(canvas)
    out.release()


def test_action_and_gesture_triggers_from_a_video_reach_websocket_and_vmc(tmp_path):
    video = tmp_path / "jump_fist.mp4"
    _jump_then_fist_video(video)
    vmc_port, ws_port = free_port(), free_port(socket.SOCK_STREAM)
    dump = Oscdump(vmc_port)
    frames, stop = [], threading.Event()
    t = threading.Thread(target=collect_frames, args=(ws_port, frames, stop), daemon=True)
    t.start()
    time.sleep(0.5)
    proc = subprocess.run([sys.executable, "-m", "bridge.cli", "run", "--source", str(video), "--pose", "--hands",
                           "--no-face", "--vmc", f"127.0.0.1:{vmc_port}", "--ws", f"127.0.0.1:{ws_port}", "-q"],
                          capture_output=True, text=True, timeout=180, env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})
    time.sleep(0.5)
    stop.set()
    t.join(timeout=5)
    lines = dump.stop()
    assert proc.returncode == 0, proc.stderr
    events = [(e["type"], e["name"]) for m in frames for f in m["people"] for e in f["events"] if e.get("state") != "end"]
    assert ("action", "jump") in events and ("gesture", "fist") in events, events
    keys = " ".join(l for l in lines if " /VMC/Ext/Key isi " in l)
    assert '"action:jump"' in keys and '"gesture:fist"' in keys
