"""The shipped CC0 test avatar (bridge/assets/test_avatar.vrm): the file its card describes, valid
glTF (Khronos' validator), a VRM 1.0 humanoid with every bone we drive, 52 ARKit morph targets that
really move the face on the right side, the expressions consumers use, and readable by the VRM
add-on. The .glb is parsed with struct + json only, so a broken exporter cannot hide behind a loader."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bridge.arkit import ARKIT_NAMES
from bridge.retarget.humanoid import BONES
from tests.blender_env import run_blender

ROOT = Path(__file__).resolve().parent.parent
AVATAR = ROOT / "bridge" / "assets" / "test_avatar.vrm"
CARD = ROOT / "bridge" / "assets" / "test_avatar.md"
VALIDATOR = ROOT / "web" / "node_modules" / "gltf-validator"
PRESETS = ("aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy", "angry", "sad",
           "relaxed", "surprised", "lookUp", "lookDown", "lookLeft", "lookRight")
MIN_SHAPE_MM = 3.0


def vrm1_name(unity: str) -> str:
    """Unity HumanBodyBones -> VRM 1.0 humanoid name (Unity's thumb joints sit one step further out)."""
    for old, new in (("ThumbProximal", "ThumbMetacarpal"), ("ThumbIntermediate", "ThumbProximal")):
        if unity.endswith(old):
            unity = unity[: -len(old)] + new
            break
    return unity[0].lower() + unity[1:]


def read_glb(path: Path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF" and version == 2 and length == len(data), "not a glTF 2.0 binary"
    jlen, jtype = struct.unpack_from("<I4s", data, 12)
    assert jtype == b"JSON"
    doc = json.loads(data[20:20 + jlen])
    blen, btype = struct.unpack_from("<I4s", data, 20 + jlen)
    assert btype == b"BIN\x00"
    return doc, data[28 + jlen:28 + jlen + blen]


_DTYPE = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def _view(doc: dict, binary: bytes, view: int, offset: int, dtype, count: int, width: int) -> np.ndarray:
    bv = doc["bufferViews"][view]
    start = bv.get("byteOffset", 0) + offset
    item = np.dtype(dtype).itemsize * width
    stride = bv.get("byteStride", item)
    rows = [np.frombuffer(binary, dtype, width, start + i * stride) for i in range(count)] if stride != item \
        else [np.frombuffer(binary, dtype, count * width, start).reshape(count, width)]
    return np.vstack(rows) if rows else np.zeros((0, width), dtype)


def accessor(doc: dict, binary: bytes, index: int) -> np.ndarray:
    """Decode a float accessor, its sparse substitutions included."""
    a = doc["accessors"][index]
    width = _WIDTH[a["type"]]
    dtype = _DTYPE[a["componentType"]]
    out = (_view(doc, binary, a["bufferView"], a.get("byteOffset", 0), dtype, a["count"], width).astype(np.float64)
           if "bufferView" in a else np.zeros((a["count"], width)))
    if "sparse" in a:
        sp = a["sparse"]
        idx = _view(doc, binary, sp["indices"]["bufferView"], sp["indices"].get("byteOffset", 0),
                    _DTYPE[sp["indices"]["componentType"]], sp["count"], 1)[:, 0].astype(np.int64)
        out[idx] = _view(doc, binary, sp["values"]["bufferView"], sp["values"].get("byteOffset", 0), dtype,
                         sp["count"], width)
    return out


@pytest.fixture(scope="module")
def glb() -> tuple[dict, bytes]:
    assert AVATAR.exists(), f"{AVATAR} missing: .venv-blender/bin/python tools/avatar/make_test_avatar.py --out {AVATAR}"
    return read_glb(AVATAR)


def test_sha256_and_size_match_the_card():
    card = CARD.read_text()
    sha = re.search(r"sha256[^0-9a-f]*([0-9a-f]{64})", card)
    assert sha, "the card has no sha256"
    assert hashlib.sha256(AVATAR.read_bytes()).hexdigest() == sha.group(1), "rebuilt avatar: update the card"
    size = re.search(r"size[^0-9]*([0-9,]+) bytes", card)
    assert size and int(size.group(1).replace(",", "")) == AVATAR.stat().st_size


def test_khronos_validator_reports_no_errors():
    if shutil.which("node") is None:
        raise AssertionError("node not found: install Node.js, then cd web && npm ci")
    if not VALIDATOR.exists():
        raise AssertionError(f"no gltf-validator at {VALIDATOR}: cd web && npm ci")
    script = ("const v=require(process.argv[1]);const b=require('fs').readFileSync(process.argv[2]);"
              "v.validateBytes(new Uint8Array(b)).then(r=>console.log(JSON.stringify(r.issues)))"
              ".catch(e=>{console.error(String(e));process.exit(1)})")
    out = subprocess.run(["node", "-e", script, str(VALIDATOR), str(AVATAR)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    issues = json.loads(out.stdout)
    errors = [m for m in issues["messages"] if m["severity"] == 0]
    assert issues["numErrors"] == 0, errors[:5]


def test_vrm1_humanoid_has_every_unity_bone(glb):
    doc, _ = glb
    assert "VRMC_vrm" in doc["extensionsUsed"]
    vrm = doc["extensions"]["VRMC_vrm"]
    assert vrm["specVersion"] == "1.0"
    human = vrm["humanoid"]["humanBones"]
    want = {vrm1_name(b) for b in BONES}
    assert len(want) == 55
    assert want <= set(human), sorted(want - set(human))
    nodes = [human[n]["node"] for n in want]
    assert len(set(nodes)) == 55 and all(0 <= i < len(doc["nodes"]) for i in nodes)
    meta = vrm["meta"]
    assert meta["licenseUrl"] == "https://vrm.dev/licenses/1.0/"
    assert meta["otherLicenseUrl"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert meta["avatarPermission"] == "everyone" and meta["allowRedistribution"] is True
    assert meta["commercialUsage"] == "corporation"


def _quat_matrix(q) -> np.ndarray:
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _rest_world_positions(doc: dict) -> dict[int, np.ndarray]:
    """World translation of every node at rest (the avatar's nodes carry no scale)."""
    parent = {c: i for i, n in enumerate(doc["nodes"]) for c in n.get("children", [])}
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def world(i):
        if i not in cache:
            n = doc["nodes"][i]
            r = _quat_matrix(n.get("rotation", [0, 0, 0, 1]))
            t = np.array(n.get("translation", [0, 0, 0]), dtype=float)
            if i in parent:
                pr, pt = world(parent[i])
                r, t = pr @ r, pr @ t + pt
            cache[i] = (r, t)
        return cache[i]

    return {i: world(i)[1] for i in range(len(doc["nodes"]))}


def test_rest_pose_is_the_vrm_t_pose(glb):
    doc, _ = glb
    human = doc["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"]
    pos = _rest_world_positions(doc)
    p = {name: pos[h["node"]] for name, h in human.items()}
    assert 1.55 < p["head"][1] + 0.19 < 1.75  # head joint + skull: about 1.65 m tall
    for side, s in (("left", 1.0), ("right", -1.0)):  # glTF: +Y up, faces +Z, its left at +X
        arm = p[f"{side}Hand"] - p[f"{side}UpperArm"]
        assert arm[0] * s > 0.4 and abs(arm[1]) < 0.01 and abs(arm[2]) < 0.01
        finger = p[f"{side}MiddleDistal"] - p[f"{side}MiddleProximal"]
        assert finger[0] * s > 0.05 and abs(finger[1]) < 1e-3 and abs(finger[2]) < 1e-3
        thumb = p[f"{side}ThumbDistal"] - p[f"{side}ThumbMetacarpal"]
        assert abs(np.degrees(np.arctan2(thumb[2], thumb[0] * s)) - 45.0) < 5.0  # 45 deg forward
        assert p[f"{side}Eye"][0] * s > 0 and p[f"{side}Eye"][2] > p["head"][2]
        assert p[f"{side}Toes"][2] > p[f"{side}Foot"][2] + 0.05  # feet point forward


def test_body_is_rigid_per_bone_and_the_face_follows_head_jaw_and_eyes(glb):
    doc, binary = glb
    human = doc["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"]
    node_of = {h["node"]: n for n, h in human.items()}
    driven = set()
    for mesh_node in (n for n in doc["nodes"] if "mesh" in n):
        joints = doc["skins"][mesh_node["skin"]]["joints"]
        face = bool(doc["meshes"][mesh_node["mesh"]].get("extras", {}).get("targetNames"))
        for prim in doc["meshes"][mesh_node["mesh"]]["primitives"]:
            w = accessor(doc, binary, prim["attributes"]["WEIGHTS_0"])
            j = accessor(doc, binary, prim["attributes"]["JOINTS_0"]).astype(int)
            live = w > 1e-3
            assert live.sum(1).max() <= (2 if face else 1), "a body vertex follows more than one bone"
            driven |= {node_of.get(joints[k]) for k in j[live]}
    assert {vrm1_name(b) for b in BONES} <= driven, "some humanoid bones move no vertex"


def _morphs(doc: dict, binary: bytes) -> tuple[list[str], dict[str, list[tuple[np.ndarray, np.ndarray]]]]:
    """Target names of the face mesh and, per name, (rest positions, offsets) of each primitive."""
    meshes = [m for m in doc["meshes"] if m.get("extras", {}).get("targetNames")]
    assert len(meshes) == 1, "expected one face mesh with morph targets"
    names = meshes[0]["extras"]["targetNames"]
    per: dict[str, list] = {n: [] for n in names}
    for prim in meshes[0]["primitives"]:
        base = accessor(doc, binary, prim["attributes"]["POSITION"])
        assert len(prim["targets"]) == len(names)
        for name, target in zip(names, prim["targets"]):
            per[name].append((base, accessor(doc, binary, target["POSITION"])))
    return names, per


def test_52_arkit_morph_targets_each_move_the_right_part_of_the_face(glb):
    doc, binary = glb
    names, per = _morphs(doc, binary)
    assert sorted(names) == sorted(ARKIT_NAMES) and len(names) == 52
    human = doc["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"]
    pos = _rest_world_positions(doc)
    eye_y = pos[human["leftEye"]["node"]][1]
    for name in ARKIT_NAMES:
        base = np.vstack([b for b, _ in per[name]])
        d = np.vstack([o for _, o in per[name]])
        mag = np.linalg.norm(d, axis=1)
        assert mag.max() * 1000 > MIN_SHAPE_MM, f"{name} moves at most {mag.max() * 1000:.2f} mm"
        moved = mag > 0.2 * mag.max()
        centre = (base[moved] * mag[moved, None]).sum(0) / mag[moved].sum()
        if name in ("jawLeft", "jawRight", "mouthLeft", "mouthRight"):  # these slide the centre sideways
            push = d[moved, 0].mean() * (1 if name.endswith("Left") else -1)
            assert push > 0.002 and abs(centre[0]) < 0.005, f"{name} slides the wrong way ({push:.4f} m)"
        elif name.endswith("Left"):  # the avatar's own left is glTF +X
            assert centre[0] > 0.005, f"{name} moves x={centre[0]:.3f}, not the avatar's left"
        elif name.endswith("Right"):
            assert centre[0] < -0.005, f"{name} moves x={centre[0]:.3f}, not the avatar's right"
        else:
            assert abs(centre[0]) < 0.005, f"{name} is not centred (x={centre[0]:.3f})"
        if name.startswith(("eye", "brow")):
            assert centre[1] > eye_y - 0.02, f"{name} moves below the eyes"
        if name.startswith(("mouth", "jaw", "tongue")):
            assert centre[1] < eye_y - 0.05, f"{name} moves above the mouth"


def test_expression_presets_and_one_custom_expression_per_arkit_shape(glb):
    doc, _ = glb
    names, _ = _morphs(doc, glb[1])
    ex = doc["extensions"]["VRMC_vrm"]["expressions"]
    for p in PRESETS:
        binds = ex["preset"].get(p, {}).get("morphTargetBinds", [])
        assert binds, f"preset {p} has no morph target binds"
    blink = {names[b["index"]] for b in ex["preset"]["blinkLeft"]["morphTargetBinds"]}
    assert blink == {"eyeBlinkLeft"}
    custom = ex["custom"]
    assert set(ARKIT_NAMES) <= set(custom), sorted(set(ARKIT_NAMES) - set(custom))
    for n in ARKIT_NAMES:
        (bind,) = custom[n]["morphTargetBinds"]
        assert names[bind["index"]] == n and bind["weight"] == 1.0


def test_vrm_addon_reimports_every_bone_and_expression():
    out = run_blender(ROOT / "tests" / "blender" / "reimport_avatar.py", str(AVATAR), timeout=120)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    assert out.returncode == 0 and lines, out.stderr[-2000:]
    r = json.loads(lines[-1][len("RESULT "):])
    assert r["spec_version"] == "1.0"
    assert {vrm1_name(b) for b in BONES} <= set(r["human_bones"]), len(r["human_bones"])
    assert all(r["presets"][p] > 0 for p in PRESETS)
    assert {n: 1 for n in ARKIT_NAMES} == {n: r["custom"].get(n) for n in ARKIT_NAMES}
    assert set(ARKIT_NAMES) <= set(r["shape_keys"])
