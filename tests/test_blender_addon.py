"""The Blender add-on (engine_plugins/blender/avatar_bridge), for real.

* plain Python: its bpy-free modules decode the sidecar's own VMC bytes and JSON frames, count bad
  input as one-line errors, and its RFC 6455 client talks to a `websockets` server (ping, fragments, close);
* Blender 5.0 (tests/blender/addon_live.py in .venv-blender): the add-on is installed from a zip
  as an extension, the test avatar imported with the VRM add-on, and the real sidecar streams the
  HaGRID gesture photos (face, body, both hands) over loopback, first VMC (`record`, which also
  saves what it sent), then WebSocket (`replay` of that recording, UpperChest left unmapped so it
  is folded into Chest). What Blender's evaluated pose shows, turned back into Unity's frame with
  an axis map checked against the avatar's own geometry, must equal what was sent within 0.5
  degrees, shape keys within 0.01; the recorded Actions hold the keyed values; uninstalling leaves
  no properties, timers, threads or modules.
"""
from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bridge.arkit import ARKIT_NAMES
from bridge.frame import AvatarFrame
from bridge.protocols import jsonframe, vmc
from bridge.recording import RecordingReader
from bridge.retarget import humanoid as H
from blender_env import run_blender
from conftest import FIXTURES, free_port

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "engine_plugins" / "blender" / "avatar_bridge"
SCRIPT = ROOT / "tests" / "blender" / "addon_live.py"
AVATAR = ROOT / "bridge" / "assets" / "test_avatar.vrm"
PHOTOS = FIXTURES / "gesture" / "dislike"
TOL_DEG = 0.5
sys.path.insert(0, str(ADDON.parent))
from avatar_bridge import convert, names, wire  # noqa: E402
from avatar_bridge.ws_client import WebSocketClient, WebSocketClosed  # noqa: E402


def _quat_matrix(q) -> np.ndarray:
    x, y, z, w = np.asarray(q, float) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _angle_deg(a, b) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(np.asarray(a).T @ np.asarray(b)) - 1) / 2, -1, 1))))


def _expected_world(bones: dict, root_rot) -> dict[str, np.ndarray]:
    """Unity world rotation matrices from the locals sent (bridge's own hierarchy, Hips under the root)."""
    world: dict[str, np.ndarray] = {}
    for b in H.BONES:  # not in hierarchy order: resolve parents first
        chain = []
        x = b
        while x is not None and x not in world:
            chain.append(x)
            x = H.PARENT[x]
        for y in reversed(chain):
            local = _quat_matrix(bones.get(y, (0, 0, 0, 1)))
            p = H.PARENT[y]
            world[y] = (world[p] if p is not None else _quat_matrix(root_rot)) @ local
    return world


# ---------------------------------------------------------------- plain Python

@pytest.fixture(scope="module")
def sample_frame(tmp_path_factory) -> AvatarFrame:
    """A real frame with a face, body and hands, from the pipeline on the gesture photos."""
    from bridge.config import from_tables
    from bridge.pipeline import Pipeline
    from bridge.sources import open_source
    cfg = from_tables({"vmc": {"enabled": False}, "websocket": {"enabled": False},
                       "calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"},
                       "pose": {"enabled": True, "model": "lite"}, "hands": {"enabled": True}})
    frames: list[AvatarFrame] = []
    p = Pipeline(cfg, open_source(str(PHOTOS), fast=True), max_frames=12)
    p.listeners.append(frames.append)
    p.run()
    return next(f for f in frames if f.people[0].face.found)


def test_vmc_decoder_reads_the_sidecars_own_packets(sample_frame):
    f = sample_frame
    p = f.people[0]
    asm = wire.VmcAssembler()
    got = None
    for pkt in vmc.encode_vmc(p, 1.5):
        got = asm.feed(wire.parse_packet(pkt)) or got
    assert got is not None and got.seq == 1
    assert list(got.bones) == list(p.bone_names) and list(got.blends) == list(p.blend_names)
    np.testing.assert_allclose([got.bones[n] for n in p.bone_names], p.bone_rotations, atol=1e-6)
    np.testing.assert_allclose([got.blends[n] for n in p.blend_names], p.blend_values, atol=1e-6)
    np.testing.assert_allclose(got.root_rot, p.root_rotation, atol=1e-6)


@pytest.mark.parametrize("junk, reason", [
    (b"garbage", "NUL terminator"), (b"nope\x00\x00\x00\x00", "does not start with '/'"),
    (b"#bundle\x00" + bytes(8) + b"\x00\x00\x03\xe8", "bad size 1000"), (b"/a\x00\x00,x\x00\x00", "'x' not supported"),
    (b"/VMC/Ext/Bone/Pos\x00\x00\x00,s\x00\x00Hips\x00\x00\x00\x00", "a name and 7 floats"),
    (b"/VMC/Ext/Blend/Val\x00\x00,sf\x00Hips\x00\x00\x00\x00\x00\x00", "cut short")])
def test_bad_packets_give_one_line(junk, reason):
    with pytest.raises(wire.WireError, match=reason) as e:
        wire.VmcAssembler().feed(wire.parse_packet(junk))
    assert "\n" not in str(e.value)


def test_json_reader_reads_schema_3_frames(sample_frame):
    f = sample_frame
    p = f.people[0]
    r = wire.JsonReader()
    assert r.read(jsonframe.hello(p.blend_names, p.bone_names, True)) is None
    got = r.read(jsonframe.frame_message(f))
    assert got.seq == f.seq and got.slot == 1 and got.name is None
    np.testing.assert_allclose([got.bones[n] for n in p.bone_names], p.bone_rotations, atol=1e-5)
    np.testing.assert_allclose([got.blends[n] for n in p.blend_names], p.blend_values, atol=1e-5)
    with pytest.raises(wire.WireError, match="schema version 1, this add-on reads 2 and 3"):
        r.read('{"type": "frame", "v": 1}')
    with pytest.raises(wire.WireError, match="bone rotations"):
        wire.JsonReader().read(jsonframe.frame_message(f))  # no hello yet: channel count unknown


def test_json_reader_follows_a_slot_or_a_name(sample_frame):
    """Two people: the reader takes the one in its slot, or the named one wherever they stand;
    a frame without them is skipped and counted, never handed over as someone else."""
    f = sample_frame
    a = f.people[0]
    b = replace(a, id=7, slot=2, name="Ann", similarity=0.8, blend_values=np.clip(a.blend_values + 0.3, 0, 1))
    two = replace(f, people=[replace(a, name="unknown"), b])
    r = wire.JsonReader(follow_slot=2)
    r.read(jsonframe.hello(a.blend_names, a.bone_names, True))
    got = r.read(jsonframe.frame_message(two))
    assert got.slot == 2 and got.name == "Ann"
    np.testing.assert_allclose([got.blends[n] for n in a.blend_names], b.blend_values, atol=1e-5)
    r.follow_slot, r.follow_name = 1, "Ann"  # the name wins over the slot, changed between messages
    assert r.read(jsonframe.frame_message(two)).slot == 2
    r.follow_name = "Bob"
    assert r.read(jsonframe.frame_message(two)) is None and r.without_person == 1
    r.follow_name = ""
    assert r.read(jsonframe.frame_message(replace(f, people=[]))) is None and r.without_person == 2
    v2 = json.loads(jsonframe.frame_message(two))  # schema 2: no slots, the place in the list is the slot
    v2["v"] = 2
    for person in v2["people"]:
        del person["slot"], person["name"]
    r.follow_slot = 2
    got = r.read(json.dumps(v2))
    assert got.slot == 2 and got.name is None
    np.testing.assert_allclose([got.blends[n] for n in a.blend_names], b.blend_values, atol=1e-5)


def test_ws_client_against_websockets_server():
    """Ping answered, a fragmented text message joined, the server's close reported."""
    websockets = pytest.importorskip("websockets")
    port = free_port(socket.SOCK_STREAM)
    ready, done = threading.Event(), {}

    async def handler(conn):
        await conn.send("hello")
        pong = await conn.ping(b"p1")
        await asyncio.wait_for(pong, 5)  # raises unless the client answered the ping
        done["pong"] = True
        await conn.send(iter(["frag", "mented"]))
        await conn.close(1001, "bye")

    async def main():
        async with websockets.serve(handler, "127.0.0.1", port):
            ready.set()
            await asyncio.sleep(3)

    t = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    t.start()
    assert ready.wait(5)
    ws = WebSocketClient(f"ws://127.0.0.1:{port}/")
    assert ws.recv_text() == "hello"
    assert ws.recv_text() == "fragmented"  # the ping in between was answered
    with pytest.raises(WebSocketClosed, match="1001: bye"):
        ws.recv_text()
    ws.close()
    assert done.get("pong")


def test_fold_plan_puts_a_missing_bone_into_its_parent():
    driven = set(names.BONES) - {"UpperChest", "Jaw"}
    plan = convert.fold_plan(driven)
    assert plan["Chest"] == ("Spine", "UpperChest")
    assert plan["Neck"] == ("Chest", "Neck") and plan["LeftShoulder"] == ("Chest", "LeftShoulder")
    assert "Jaw" not in plan and plan["Head"] == ("Neck", "Head")  # a missing leaf is dropped
    assert names.vrm1_name("LeftThumbProximal") == "leftThumbMetacarpal"
    assert names.snake(names.vrm1_name("RightThumbIntermediate")) == "right_thumb_proximal"
    assert names.match_shapes(["eyeBlinkLeft", "Joy", "A"], ["EyeBlink_L", "happy", "a"]) == {
        "eyeBlinkLeft": ("EyeBlink_L", "loose"), "Joy": ("happy", "VRM alias exact"), "A": ("a", "case-insensitive")}


# ---------------------------------------------------------------- in Blender, against the real sidecar

@pytest.fixture(scope="module")
def addon_zip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("addon") / "avatar_bridge.zip"
    with zipfile.ZipFile(path, "w") as z:
        for p in sorted(ADDON.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                z.write(p, p.relative_to(ADDON))
    return path


def _run_live(tmp: Path, zip_path: Path, protocol: str, address: str, command: list[str], drop: str = "") -> dict:
    out = tmp / f"{protocol}.json"
    args = [str(zip_path), str(AVATAR), str(out), protocol, address, json.dumps(command)] + ([drop] if drop else [])
    r = run_blender(SCRIPT, *args, timeout=180)
    assert r.returncode == 0 and out.exists(), r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["sidecar_rc"] == 0, res["sidecar_log"]
    return res


@pytest.fixture(scope="module")
def vmc_run(tmp_path_factory, addon_zip):
    tmp = tmp_path_factory.mktemp("live")
    mp = pytest.MonkeyPatch()
    mp.setenv("BLENDER_USER_EXTENSIONS", str(tmp / "extensions"))  # the install goes here, not ~/.config
    mp.setenv("BLENDER_USER_CONFIG", str(tmp / "config"))
    port = free_port()
    rec = tmp / "sent.abr"
    cmd = ["avatar-bridge", "record", "--source", str(PHOTOS), "--pose", "lite", "--hands",
           "--vmc", f"127.0.0.1:{port}", "--no-ws", "-q", "--out", str(rec)]
    res = _run_live(tmp, addon_zip, "vmc", str(port), cmd)
    yield tmp, rec, res
    mp.undo()


def _check_frames(res: dict, rec: Path, atol: float, fold: str = "") -> dict:
    """The checks both transports share; returns numbers for the report."""
    sent = [f.people[0] for f in RecordingReader(rec).frames()]
    frames = res["frames"]
    assert res["install"] == ["FINISHED"] and res["import"] == ["FINISHED"]
    ax = res["axes"]  # the avatar: its left at +X, facing -Y, Z up (what convert.py assumes)
    assert ax["left"] > 0.3 and ax["forward"] < -0.02 and ax["up"] > 0.3
    assert res["add_on_errors"][0] == 0, res["add_on_errors"]
    assert len(frames) >= 15, f"only {len(frames)} frames applied"
    bmap = res["bone_map"]
    assert len(bmap) == (54 if fold else 55) and fold not in bmap
    assert res["match_report"].endswith("ARKit 52/52")
    worst, worst_shape, arm_moved, fingers_moved, matched = 0.0, 0.0, 0, 0, 0
    for fr in frames:
        # the frame the add-on decoded is one the sidecar sent
        hit = [p for p in sent if list(fr["bones"]) == list(p.bone_names) and np.allclose(
            [fr["bones"][n] for n in p.bone_names], p.bone_rotations, atol=atol)
            and np.allclose([fr["blends"][n] for n in p.blend_names], p.blend_values, atol=atol)]
        matched += bool(hit)
        want = _expected_world(fr["bones"], fr["root_rot"])
        for u, got in fr["world"].items():
            shown = "UpperChest" if fold and u == "Chest" else u
            err = _angle_deg(got, want[shown])
            worst = max(worst, err)
            assert err < TOL_DEG, f"{u}: {err:.3f} deg"
        arm_moved += _angle_deg(np.eye(3), _quat_matrix(fr["bones"]["LeftLowerArm"])) > 10
        fingers_moved += _angle_deg(np.eye(3), _quat_matrix(fr["bones"]["RightIndexIntermediate"])) > 10
        for name, v in fr["shapes"].items():
            worst_shape = max(worst_shape, abs(v - fr["blends"][name]))
        np.testing.assert_allclose(fr["hips_offset"], np.array([-1, -1, 1]) * np.array(fr["root_pos"])[[0, 2, 1]],
                                   atol=1e-4)
    assert matched == len(frames)
    assert worst_shape < 0.01
    assert arm_moved >= 3 and fingers_moved >= 3, (arm_moved, fingers_moved)  # poses worth checking
    assert max(max(fr["blends"].values()) for fr in frames) > 0.3
    assert not any(res["leftovers"].values()), res["leftovers"]
    return {"applied": len(frames), "received": res["received"], "worst_deg": worst, "worst_shape": worst_shape}


def test_vmc_live_from_the_sidecar(vmc_run):
    tmp, rec, res = vmc_run
    n_sent = len(RecordingReader(rec).frames())
    assert res["received"] == n_sent  # loopback UDP: every frame the sidecar sent was assembled
    assert res["bad"] == 3  # the three junk datagrams, counted, nothing raised
    assert res["timer_registered"]
    print(_check_frames(res, rec, atol=1e-6), "timers fire headless:", res["timers_fire_headless"])


def test_recording_into_actions(vmc_run):
    _, _, res = vmc_run
    assert res["action"] and res["shape_actions"].get("Face")
    assert len(res["keyed"]) >= 10
    assert set(res["fcurve_points"].values()) == {len(res["keyed"])}  # one key per recorded frame, every channel
    for fr, pose in res["keyed"].items():
        keys = res["keys"][fr]
        for bone in ("head", "leftLowerArm", "rightIndexProximal"):
            np.testing.assert_allclose(keys[bone], pose[bone], atol=1e-5)
        assert set(keys["shapes"]) == set(ARKIT_NAMES)
        for name, v in pose["shapes"].items():
            assert keys["shapes"][name] == pytest.approx(v, abs=1e-5)


def test_websocket_live_from_the_sidecar_with_a_folded_bone(vmc_run, addon_zip, monkeypatch):
    tmp, rec, _ = vmc_run
    monkeypatch.setenv("BLENDER_USER_EXTENSIONS", str(tmp / "extensions-ws"))
    monkeypatch.setenv("BLENDER_USER_CONFIG", str(tmp / "config"))
    port = free_port(socket.SOCK_STREAM)
    cmd = ["avatar-bridge", "replay", str(rec), "--loop", "--max-frames", "120", "--speed", "2",
           "--ws", f"127.0.0.1:{port}", "--no-vmc", "-q"]
    res = _run_live(tmp, addon_zip, "ws", f"ws://127.0.0.1:{port}", cmd, drop="UpperChest")
    assert res["follow_live"] == [2, "Ann"]
    assert res["bad"] == 0 and res["received"] >= 20
    print(_check_frames(res, rec, atol=2e-5, fold="UpperChest"))


def test_bone_map_presets(tmp_path):
    from avatar_bridge import mapping
    mixamo = mapping.read_preset(mapping.PRESETS / "mixamo.json")
    assert mixamo["Hips"] == "mixamorig:Hips" and mixamo["LeftThumbProximal"] == "mixamorig:LeftHandThumb1"
    assert set(mixamo) <= set(names.BONES) and len(mixamo) >= 50
    bad = tmp_path / "bad.json"
    bad.write_text('{"Hips": "hips", "Pelvis": "pelvis"}')
    with pytest.raises(ValueError, match="not Unity HumanBodyBones names: Pelvis"):
        mapping.read_preset(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        mapping.read_preset(bad)
