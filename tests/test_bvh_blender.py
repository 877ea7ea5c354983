"""BVH export read by Blender's own importer (bpy.ops.import_anim.bvh, Blender 5.0 in .venv-blender).

Two recordings made with the real CLI: the NTU clip of a whole standing person (`process`: body,
103 frames at 30 fps) and the HaGRID gesture photos (`record` + `export`: face, body and both
hands). After import, every joint's rotation in every frame, read from Blender's evaluated pose
and turned back into the BVH file's axes with the importer's own axis conversion, must equal the
recording's local rotation within 0.1 degrees; frame count, frame rate and the hierarchy must match,
and the importer must finish without an error.

Axes: the exporter writes BVH right-handed, +Y up, the character facing +Z with its right at -X
(Unity's frame reflected across YZ: S = diag(-1, 1, 1)). Blender's importer with its defaults
(axis_forward -Z, axis_up Y) maps BVH (x, y, z) to Blender (x, -z, y), so the character faces -Y
with its left at +X, as a VRM import does; Unity -> Blender overall is (x, y, z) -> (-x, -z, y), the
map engine_plugins/blender/avatar_bridge/convert.py uses.

Live Link Face CSV: no independent reader is installable from a package registry (PyPI's
pylivelinkface speaks the app's UDP stream, not its CSV), so it is not checked here.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bridge.recording import RecordingReader
from bridge.retarget import humanoid as H
from blender_env import run_blender
from conftest import FIXTURES, cli
from test_bvh import _quat_matrix, _quat_mul

SCRIPT = Path(__file__).resolve().parent / "blender" / "bvh_import.py"
CLIP = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"
PHOTOS = FIXTURES / "gesture" / "dislike"
TOL_DEG = 0.1
S = np.diag([-1.0, 1.0, 1.0])
BVH_TO_BLENDER = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
UNITY_TO_BLENDER = np.array([[-1.0, 0, 0], [0, 0, -1], [0, 1, 0]])


def _angle_deg(a, b) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(np.asarray(a).T @ np.asarray(b)) - 1) / 2, -1, 1))))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bvh_blender")
    r = cli("process", str(CLIP), "--out", str(tmp / "clip"), "--formats", "abr,bvh", "--pose", "lite", "--hands",
            "-q", timeout=300)
    assert r.returncode == 0, r.stderr
    clip_rec, clip_bvh = next((tmp / "clip").rglob("*.abr")), next((tmp / "clip").rglob("*.bvh"))
    photos_rec, photos_bvh = tmp / "photos.abr", tmp / "photos.bvh"
    r = cli("record", "--source", str(PHOTOS), "--fast", "--pose", "lite", "--hands", "--no-vmc", "--no-ws",
            "-q", "--out", str(photos_rec), timeout=300)
    assert r.returncode == 0, r.stderr
    r = cli("export", str(photos_rec), "--out", str(photos_bvh), "-q")
    assert r.returncode == 0, r.stderr
    out = tmp / "imported.json"
    r = run_blender(SCRIPT, str(out), str(clip_bvh), str(photos_bvh), timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Error" not in r.stdout + r.stderr and "Traceback" not in r.stderr, r.stdout[-3000:] + r.stderr[-3000:]
    docs = json.loads(out.read_text())
    return [(clip_rec, clip_bvh, docs[0]), (photos_rec, photos_bvh, docs[1])]


def _check(rec, bvh_path, doc) -> dict:
    reader = RecordingReader(rec)
    frames = [f.people[0] for f in reader.frames()]
    assert doc["result"] == ["FINISHED"]
    np.testing.assert_allclose(doc["axis"], BVH_TO_BLENDER, atol=1e-9)
    np.testing.assert_allclose(BVH_TO_BLENDER @ S, UNITY_TO_BLENDER)
    n = len(frames)
    assert doc["action_range"] == [1, n] and len(doc["frames"]) == n
    assert doc["scene_range"][0] == 1 and doc["scene_range"][1] >= n  # the importer only ever lengthens the scene
    assert doc["key_counts"] == [n]
    frame_time = float(next(ln for ln in bvh_path.read_text().splitlines() if ln.startswith("Frame Time:")).split()[2])
    assert frame_time == pytest.approx(1 / reader.fps, abs=1e-6)
    assert doc["fps"] / doc["fps_base"] == pytest.approx(1 / frame_time, rel=1e-4)
    names = set(frames[0].bone_names)
    for j, p in doc["parents"].items():
        assert p == H.PARENT.get(j) or (j == "Hips" and p is None), j
    assert names <= set(doc["parents"])
    worst, moved = 0.0, 0
    for i, f in enumerate(frames):
        rot = dict(zip(f.bone_names, f.bone_rotations))
        g = {j: np.array(m) for j, m in doc["frames"][i]["rot"].items()}
        for j, gj in g.items():
            p = doc["parents"][j]
            local = gj if p is None else g[p].T @ gj
            q = rot.get(j, np.array([0.0, 0.0, 0.0, 1.0]))
            if j == "Hips":
                q = _quat_mul(f.root_rotation, q)
            err = _angle_deg(local, S @ _quat_matrix(q) @ S)
            worst = max(worst, err)
            assert err < TOL_DEG, f"frame {i} {j}: {err:.3f} deg"
            moved += _angle_deg(np.eye(3), local) > 10
    return {"frames": n, "joints": len(doc["parents"]), "worst_deg": worst, "posed_joint_frames": moved}


def test_body_clip_through_blenders_importer(imported):
    rec, bvh, doc = imported[0]
    stats = _check(rec, bvh, doc)
    assert stats["frames"] == 103 and stats["posed_joint_frames"] > 200
    print(stats)


def test_face_body_and_both_hands_through_blenders_importer(imported):
    rec, bvh, doc = imported[1]
    frames = [f.people[0] for f in RecordingReader(rec).frames()]
    assert sum(f.face.found for f in frames) >= 3
    assert {"LeftIndexDistal", "RightThumbDistal", "LeftEye"} <= set(doc["parents"])
    print(_check(rec, bvh, doc))
