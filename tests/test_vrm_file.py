"""`--avatar`: a VRM's humanoid, rest offsets and expressions, and the output that follows them.

The shipped test avatar (VRM 1.0, written by the Blender VRM add-on) is read here; VRM 0.x files are
built from the VRM 0.x specification's JSON layout (no 0.x avatar may be shipped), the glb container
by its own spec. The stream is parsed by liblo's oscdump.
"""
import json
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bridge.avatar_match import match
from bridge.errors import ConfigError
from bridge.mapping import load_preset
from bridge.retarget.humanoid import BONES, PARENT
from bridge.retarget.vrm_file import read_vrm
from conftest import Oscdump, free_port

ROOT = Path(__file__).resolve().parent.parent
TEST_AVATAR = ROOT / "bridge" / "assets" / "test_avatar.vrm"


def glb(doc: dict) -> bytes:
    body = json.dumps(doc).encode()
    body += b" " * (-len(body) % 4)
    return b"glTF" + struct.pack("<II", 2, 20 + len(body)) + struct.pack("<II", len(body), 0x4E4F534A) + body


def gltf_json(path: Path) -> dict:
    data = path.read_bytes()
    n = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + n])


def test_test_avatar_has_every_bone_and_its_own_offsets():
    a = read_vrm(TEST_AVATAR)
    assert a.spec == "1.0" and a.bones == set(BONES)
    hips = gltf_json(TEST_AVATAR)["nodes"][gltf_json(TEST_AVATAR)["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"]["hips"]["node"]]
    np.testing.assert_allclose(a.offsets["Hips"], np.array(hips["translation"]) * [-1, 1, 1], atol=1e-6)

    def joint(b):  # the rest pose in Unity's frame, chained from the offsets
        return a.offsets[b] + (joint(PARENT[b]) if PARENT[b] else 0)
    assert joint("LeftFoot")[1] < 0.15 < joint("Hips")[1] < joint("Head")[1] < 1.9  # standing, about human size
    assert joint("LeftHand")[0] < -0.45 and joint("RightHand")[0] > 0.45  # T-pose; avatar's left is -X in Unity
    np.testing.assert_allclose(a.offsets["LeftLowerLeg"] / np.linalg.norm(a.offsets["LeftLowerLeg"]), [0, -1, 0], atol=0.05)
    assert a.offsets["LeftUpperArm"][0] < 0 < a.offsets["RightUpperArm"][0]  # the avatar's left is -X in Unity
    assert {"aa", "blinkLeft", "happy", "jawOpen", "eyeBlinkLeft"} <= set(a.expressions)


def vrm0_doc(groups) -> dict:
    nodes = [{"name": "root", "children": [1]}, {"name": "hips", "translation": [0, 1.0, 0], "children": [2, 3, 4, 5, 6]},
             {"name": "spine", "translation": [0, 0.1, 0], "children": [7]},
             {"name": "lul", "translation": [0.1, -0.05, 0]}, {"name": "rul", "translation": [-0.1, -0.05, 0]},
             {"name": "lua", "translation": [0.3, 0.4, 0]}, {"name": "rua", "translation": [-0.3, 0.4, 0]},
             {"name": "head", "translation": [0, 0.5, -0.02]}]
    bones = [("hips", 1), ("spine", 2), ("leftUpperLeg", 3), ("rightUpperLeg", 4), ("leftUpperArm", 5),
             ("rightUpperArm", 6), ("head", 7)]
    return {"asset": {"version": "2.0"}, "nodes": nodes, "extensionsUsed": ["VRM"],
            "extensions": {"VRM": {"meta": {"title": "zero"},
                                   "humanoid": {"humanBones": [{"bone": b, "node": n} for b, n in bones]},
                                   "blendShapeMaster": {"blendShapeGroups": groups}}}}


def test_vrm0_names_offsets_and_missing_bones_folded(tmp_path):
    f = tmp_path / "zero.vrm"
    f.write_bytes(glb(vrm0_doc([{"name": "A", "presetName": "a"}, {"name": "Blink_L", "presetName": "blink_l"},
                                {"name": "Joy", "presetName": "joy"}, {"name": "EyeBlinkLeft", "presetName": "unknown"}])))
    a = read_vrm(f)
    assert a.spec == "0.x" and a.name == "zero" and "Chest" not in a.bones
    np.testing.assert_allclose(a.offsets["Head"], [0, 0.5, 0.02])  # VRM 0.x faces -Z: Z negated
    np.testing.assert_allclose(a.offsets["LeftUpperLeg"], [0.1, -0.05, 0])
    spec, report = match(load_preset("vrm1"), a, "vrm1")
    assert report.matched["aa"] == "A" and report.matched["blinkLeft"] == "Blink_L" and report.matched["happy"] == "Joy"
    assert "A" in spec.outputs and "aa" not in spec.outputs and "EyeBlinkLeft" in report.undriven
    _, report = match(load_preset("arkit"), a, "arkit")
    assert report.matched["eyeBlinkLeft"] == "EyeBlinkLeft" and "--preset vrm0" in report.hint


@pytest.mark.parametrize("content, why", [
    (b"not a vrm at all, just text", "not a VRM file"),
    (b"glTF" + struct.pack("<II", 2, 999) + struct.pack("<II", 400, 0x4E4F534A) + b"{}", "damaged"),
    (glb({"asset": {"version": "2.0"}, "nodes": []}), "without a VRM extension"),
    (glb({"extensions": {"VRMC_vrm": {"specVersion": "2.0", "humanoid": {"humanBones": {}}}}}), "not supported"),
    (glb({"nodes": [], "extensions": {"VRMC_vrm": {"specVersion": "1.0", "humanoid": {"humanBones": {"hips": {"node": 5}}}}}}),
     "damaged VRM humanoid"),
])
def test_bad_avatar_files_give_one_line(tmp_path, content, why):
    f = tmp_path / "bad.vrm"
    f.write_bytes(content)
    with pytest.raises(ConfigError, match=why) as e:
        read_vrm(f)
    assert "\n" not in str(e.value)


def test_run_with_a_bad_avatar_says_so_in_one_line(tmp_path):
    f = tmp_path / "bad.vrm"
    f.write_bytes(b"nope")
    p = subprocess.run(["avatar-bridge", "demo", "--avatar", str(f), "--no-ws", "--no-vmc"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and p.stderr.strip().count("\n") == 0 and "not a VRM file" in p.stderr


def test_vmc_bone_pos_carries_the_avatars_offsets_and_names():
    a = read_vrm(TEST_AVATAR)
    port = free_port()
    dump = Oscdump(port)
    p = subprocess.run(["avatar-bridge", "demo", "--avatar", str(TEST_AVATAR), "--pose", "--hands",
                        "--fast", "--max-frames", "6", "--no-ws", "--vmc", f"127.0.0.1:{port}", "-q"],
                       capture_output=True, text=True, timeout=300)
    lines = dump.stop()
    assert p.returncode == 0, p.stderr
    assert "match its expressions" in p.stderr
    pos = {}
    for line in lines:
        if '/VMC/Ext/Bone/Pos sfffffff "' in line:
            name = line.split('"')[1]
            pos[name] = np.array([float(v) for v in line.split('"')[2].split()[:3]])
    assert set(pos) >= {"Hips", "UpperChest", "LeftThumbProximal", "RightLittleDistal", "LeftToes"}
    for b, v in pos.items():
        np.testing.assert_allclose(v, a.offsets[b], atol=1e-5, err_msg=b)
    blends = {line.split('"')[1] for line in lines if "/VMC/Ext/Blend/Val" in line}
    assert "eyeBlinkLeft" in blends and blends <= set(a.expressions)
