"""BVH export of a face + body + both hands recording, read back with the independent PyPI `bvh` parser.

The recording is made by the real pipeline (face, pose and hand landmarkers) on HaGRID photos of
people showing a gesture. Readers take a MOTION line's values in the HIERARCHY's joint order (depth
first), so with finger bones a wrong order hands one joint another's rotation; every joint's
rotation in every frame must equal the recording's.
"""
from __future__ import annotations

import numpy as np
import pytest

from bridge.config import from_tables
from bridge.export import bvh as bvh_export
from bridge.pipeline import Pipeline
from bridge.recording import RecordingReader, attach_recorder
from bridge.retarget import humanoid as H
from bridge.retarget.body import BODY_BONES
from bridge.retarget.hands import HAND_BONES
from bridge.sources import open_source
from conftest import FIXTURES

Bvh = pytest.importorskip("bvh").Bvh

PHOTOS = FIXTURES / "gesture" / "dislike"  # 16 photos: faces in 7, both hands posed in 6
TOL_DEG = 0.1
S = np.diag([-1.0, 1.0, 1.0])  # Unity (left-handed) -> BVH (right-handed): reflect X


def _axis_matrix(channel: str, deg: float) -> np.ndarray:
    """Right-handed rotation about the channel's axis (what BVH readers build)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return {"Xrotation": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
            "Yrotation": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "Zrotation": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[channel]


def _quat_matrix(q) -> np.ndarray:
    x, y, z, w = np.asarray(q, float) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _quat_mul(a, b) -> np.ndarray:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = (np.trace(a.T @ b) - 1) / 2
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def _posed(f, names) -> bool:
    idx = [f.bone_names.index(n) for n in names]
    return bool(np.abs(f.bone_rotations[idx, :3]).max() > 0.05)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("bvh") / "gestures.abr"
    cfg = from_tables({"vmc": {"enabled": False}, "websocket": {"enabled": False},
                       "calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"},
                       "pose": {"enabled": True, "model": "lite"}, "hands": {"enabled": True}})
    p = Pipeline(cfg, open_source(str(PHOTOS), fast=True), max_frames=16)
    writer = attach_recorder(p, path)
    p.run()
    writer.close()
    reader = RecordingReader(path)
    return path, reader, [f.people[0] for f in reader.frames()]  # person 0 of each frame, as the export reads


def mismatches(doc, frames) -> list[str]:
    """Every (frame, joint) whose BVH rotation, composed in the file's channel order, differs from the
    recording's local rotation (the Hips: root rotation * Hips) by more than TOL_DEG."""
    bad = []
    for i, f in enumerate(frames):
        rot = dict(zip(f.bone_names, f.bone_rotations))
        for j in doc.get_joints_names():
            channels = [c for c in doc.joint_channels(j) if c.endswith("rotation")]
            got = np.eye(3)
            for c, v in zip(channels, doc.frame_joint_channels(i, j, channels)):
                got = got @ _axis_matrix(c, v)
            q = rot.get(j, np.array([0.0, 0.0, 0.0, 1.0]))
            if j == "Hips":
                q = _quat_mul(f.root_rotation, q)
            err = _angle_deg(got, S @ _quat_matrix(q) @ S)
            if err > TOL_DEG:
                bad.append(f"frame {i} {j}: {err:.2f} deg")
    return bad


def test_bvh_face_body_and_both_hands(recording, tmp_path):
    path, reader, frames = recording
    assert len(frames) == 16
    names = frames[0].bone_names
    assert names == BODY_BONES + ("LeftEye", "RightEye") + HAND_BONES
    # a recording worth checking: faces found, and frames with both hands' fingers posed
    assert sum(f.face.found for f in frames) >= 3
    both = [f for f in frames if _posed(f, HAND_BONES[:15]) and _posed(f, HAND_BONES[15:])]
    assert len(both) >= 3, f"both hands posed in only {len(both)} frames"

    out = tmp_path / "gestures.bvh"
    assert bvh_export.export_bvh(path, out) == len(frames)
    doc = Bvh(out.read_text())
    joints = doc.get_joints_names()
    assert sorted(joints) == sorted(names) and joints[0] == "Hips"
    for j in joints[1:]:  # the Unity humanoid hierarchy, fingers under their hands
        assert doc.joint_parent(j).name == H.PARENT[j], j
    assert doc.nframes == len(frames) == len(doc.frames)
    assert all(len(fr) == 3 + 3 * len(joints) for fr in doc.frames)
    assert doc.frame_time == pytest.approx(1 / reader.fps, abs=1e-6)
    assert mismatches(doc, frames) == []
    for i, f in enumerate(frames):
        pos = doc.frame_joint_channels(i, "Hips", ["Xposition", "Yposition", "Zposition"])
        np.testing.assert_allclose(pos, S @ (np.asarray(bvh_export.SKELETON["Hips"][1]) + f.root_position), atol=2e-6)
