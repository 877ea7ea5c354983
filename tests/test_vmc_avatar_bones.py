"""`[vmc] bones = "avatar"`: the avatar's own (non-normalized) local bone rotations over VMC.

The test avatar (bridge/assets/test_avatar.vrm, VRM 1.0 from the Blender VRM add-on) keeps its
bones' axes, so 21 of its nodes have non-identity rest rotations (shoulders, legs, feet, thumbs,
eyes): the two bone modes differ on it. Everything expected here is computed by this file from the
glTF JSON alone (its own TRS matrices and node hierarchy), not with bridge's VRM reader or
quaternion helpers; packets are read back by liblo's oscdump and python-osc.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle

from bridge.config import from_tables
from bridge.errors import ConfigError
from bridge.frame import AvatarFrame, FaceState, Person
from bridge.outputs import Outputs
from bridge.protocols import vmc
from bridge.retarget.humanoid import BONES, PARENT
from bridge.retarget.vrm_file import read_vrm, vrm1_bone
from conftest import Oscdump, free_port

AVATAR = Path(__file__).resolve().parents[1] / "bridge" / "assets" / "test_avatar.vrm"
S = np.diag([-1.0, 1.0, 1.0])  # glTF (VRM 1.0) <-> Unity: a reflection across the YZ plane


def _doc() -> dict:
    data = AVATAR.read_bytes()
    n = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + n])


def _matrix(q) -> np.ndarray:
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _axis_angle(axis, deg) -> np.ndarray:
    a = np.radians(deg) / 2
    return np.concatenate([np.asarray(axis, float) / np.linalg.norm(axis) * np.sin(a), [np.cos(a)]])


class Rig:
    """The avatar's glTF node tree, posed by replacing humanoid nodes' local rotations."""

    def __init__(self):
        doc = _doc()
        self.nodes = doc["nodes"]
        human = doc["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"]
        self.node_of = {b: human[vrm1_bone(b)]["node"] for b in BONES if vrm1_bone(b) in human}
        self.parent = {c: i for i, n in enumerate(self.nodes) for c in n.get("children", [])}
        assert all("matrix" not in n for n in self.nodes)

    def local_rotation(self, i: int) -> np.ndarray:
        return _matrix(self.nodes[i].get("rotation", (0, 0, 0, 1)))

    def worlds(self, unity_locals: dict[str, np.ndarray] | None = None) -> list[np.ndarray]:
        """World 4x4 matrices (glTF frame); `unity_locals` overrides bones' local rotations (Unity frame, 3x3)."""
        override = {self.node_of[b]: S @ r @ S for b, r in (unity_locals or {}).items()}
        out: dict[int, np.ndarray] = {}

        def world(i: int) -> np.ndarray:
            if i not in out:
                n = self.nodes[i]
                m = np.eye(4)
                m[:3, :3] = override.get(i, self.local_rotation(i)) * np.array(n.get("scale", (1, 1, 1)), float)
                m[:3, 3] = n.get("translation", (0, 0, 0))
                out[i] = m if i not in self.parent else world(self.parent[i]) @ m
            return out[i]

        return [world(i) for i in range(len(self.nodes))]


def _unity_rotation(m: np.ndarray) -> np.ndarray:
    r = m[:3, :3] / np.linalg.norm(m[:3, :3], axis=0)
    return S @ r @ S


def _person(names, rotations, positions) -> Person:
    face = FaceState(found=True, presence=1.0, blendshapes=np.zeros(52, np.float32),
                     head_rotation=np.array([0.0, 0, 0, 1]), head_position=np.zeros(3),
                     left_eye=np.array([0.0, 0, 0, 1]), right_eye=np.array([0.0, 0, 0, 1]), eye_angles_deg=np.zeros(4))
    return Person(id=0, face=face, subject=face, blend_names=(), blend_values=np.zeros(0, np.float32),
                  bone_names=tuple(names), bone_rotations=np.asarray(rotations, float),
                  bone_positions=np.asarray(positions, float))


def _bones_from_packets(packets: list[bytes]) -> dict[str, np.ndarray]:
    out = {}
    for p in packets:
        for m in OscBundle(p):
            if m.address == "/VMC/Ext/Bone/Pos":
                out[m.params[0]] = np.array(m.params[1:], float)
    return out


@pytest.fixture(scope="module")
def avatar():
    return read_vrm(AVATAR)


@pytest.fixture(scope="module")
def rig():
    return Rig()


def test_the_test_avatar_has_non_identity_rest_rotations(rig):
    turned = [b for b, i in rig.node_of.items() if not np.allclose(rig.local_rotation(i), np.eye(3), atol=1e-4)]
    assert {"LeftShoulder", "RightShoulder", "LeftUpperLeg", "LeftFoot", "LeftToes", "LeftThumbProximal",
            "LeftEye"} <= set(turned), turned


def test_neutral_pose_sends_the_rest_local_rotations_over_udp(avatar, rig):
    """Through the real VmcOutput and UDP, read by oscdump: with every normalized rotation identity,
    each bone goes out as its node's own rest rotation and translation (Unity frame)."""
    names = tuple(b for b in BONES if b in avatar.bones)
    port = free_port()
    cfg = from_tables({"vmc": {"port": port, "bones": "avatar"}, "avatar": {"file": str(AVATAR)},
                       "websocket": {"enabled": False}})
    outputs = Outputs(cfg, lambda control, fut: fut.set_result((True, "")), dashboard=False, avatar=avatar)
    identity = np.tile([0.0, 0.0, 0.0, 1.0], (len(names), 1))
    frame = AvatarFrame(seq=1, capture_time=0.0, source_time=0.0,
                        people=[_person(names, identity, [avatar.offsets[n] for n in names])])
    dump = Oscdump(port)
    try:
        outputs.send(frame)
    finally:
        lines = dump.stop()
        outputs.close()
    got = {}
    for line in lines:
        fields = line.split()
        if len(fields) > 3 and fields[1] == "/VMC/Ext/Bone/Pos":
            got[fields[3].strip('"')] = np.array([float(x) for x in fields[4:]])
    assert list(got) == list(names)
    for b in names:
        node = rig.nodes[rig.node_of[b]]
        np.testing.assert_allclose(got[b][:3], S @ np.array(node.get("translation", (0, 0, 0))), atol=2e-6, err_msg=b)
        np.testing.assert_allclose(_matrix(got[b][3:]), S @ rig.local_rotation(rig.node_of[b]) @ S, atol=1e-5, err_msg=b)


def test_a_normalized_pose_gives_the_same_posture_on_the_raw_rig(avatar, rig):
    """Normalized rotations for the spine, left arm and right leg, sent as the avatar's own; then the
    raw node tree posed with what was sent puts every humanoid joint where the normalized rig (rest =
    identity, offsets = rest world differences) puts it, with world rotation delta * rest."""
    names = tuple(b for b in BONES if b in avatar.bones)
    pose = {"Spine": _axis_angle([1, 0, 0], 15), "LeftUpperArm": _axis_angle([0, 0, 1], -40),
            "LeftLowerArm": _axis_angle([0, 1, 0], 30), "RightUpperLeg": _axis_angle([1, 0.2, 0], -50),
            "Head": _axis_angle([0, 1, 0], 20), "LeftThumbIntermediate": _axis_angle([0, 1, 1], 25)}
    normalized = np.array([pose.get(n, [0.0, 0.0, 0.0, 1.0]) for n in names])
    person = _person(names, normalized, np.zeros((len(names), 3)))
    sent = _bones_from_packets(vmc.encode_vmc(person, 1.0, bones=vmc.avatar_bones(avatar, names)))
    assert list(sent) == list(names)
    posed = rig.worlds({b: _matrix(sent[b][3:]) for b in names})
    rest = rig.worlds()

    def humanoid_parent(b):
        p = PARENT[b]
        while p is not None and p not in avatar.bones:
            p = PARENT[p]
        return p

    delta, where = {}, {}

    def solve(b):  # the normalized rig's forward kinematics: world delta and joint position
        if b not in delta:
            i, p = rig.node_of[b], humanoid_parent(b)
            rest_pos = S @ rest[i][:3, 3]
            if p is None:
                delta[b], where[b] = _matrix(pose.get(b, (0, 0, 0, 1))), rest_pos
            else:
                solve(p)
                delta[b] = delta[p] @ _matrix(pose.get(b, (0, 0, 0, 1)))
                where[b] = where[p] + delta[p] @ (rest_pos - S @ rest[rig.node_of[p]][:3, 3])

    for b in names:
        solve(b)
        i = rig.node_of[b]
        np.testing.assert_allclose(S @ posed[i][:3, 3], where[b], atol=1e-5, err_msg=f"{b} position")
        np.testing.assert_allclose(_unity_rotation(posed[i]), delta[b] @ _unity_rotation(rest[i]), atol=1e-5,
                                   err_msg=f"{b} world rotation")
    moved = np.linalg.norm(S @ posed[rig.node_of["LeftHand"]][:3, 3] - S @ rest[rig.node_of["LeftHand"]][:3, 3])
    assert moved > 0.1, "the pose must move the hand for the check to mean anything"
    raw_shoulder = _matrix(sent["LeftShoulder"][3:])
    assert not np.allclose(raw_shoulder, np.eye(3), atol=1e-3), "an unposed bone keeps its own rest rotation"


def test_normalized_is_the_default_and_unchanged(avatar):
    names = ("Hips", "LeftShoulder", "LeftUpperArm")
    rotations = np.array([[0.0, 0, 0, 1], _axis_angle([0, 0, 1], 10), _axis_angle([1, 0, 0], 20)])
    positions = np.array([[0.0, 0.9, 0], [0.02, 0.1, 0], [0.1, 0, 0]])
    assert from_tables({}).vmc.bones == "normalized"
    sent = _bones_from_packets(vmc.encode_vmc(_person(names, rotations, positions), 1.0))
    for i, n in enumerate(names):
        np.testing.assert_allclose(sent[n], np.concatenate([positions[i], rotations[i]]), atol=1e-7)


def test_avatar_bones_need_an_avatar():
    with pytest.raises(ConfigError, match=r"my.toml: \[vmc\] bones = 'avatar': the avatar's own bones need the "
                                          r"avatar: add --avatar FILE.vrm"):
        from_tables({"vmc": {"bones": "avatar"}}, "my.toml")
    with pytest.raises(ConfigError, match="allowed values are normalized, avatar"):
        from_tables({"vmc": {"bones": "raw"}}, "my.toml")
    assert from_tables({"vmc": {"bones": "avatar", "enabled": False}}).vmc.bones == "avatar"
