"""Reads what the sidecar needs from a user's VRM (0.x or 1.0) avatar: which humanoid bones it has,
their rest offsets, and its expression names. Plain glb parsing (struct + json), no 3D library.

Names: the wire uses Unity `HumanBodyBones`; VRM 0.x humanoid names are the same in lowerCamel,
VRM 1.0's too except the thumb, whose three joints are thumbMetacarpal/thumbProximal/thumbDistal
(Unity's ThumbProximal/Intermediate/Distal). glTF -> Unity (as UniVRM imports): VRM 1.0 negates X,
VRM 0.x (which faces -Z) negates Z; both then face +Z (bridge/retarget/conventions.py).
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from . import quat
from .humanoid import BONES

GLB_MAGIC = b"glTF"
# VRM 0.x preset names as glTF stores them -> the BlendShapePreset spelling VMC receivers (UniVRM,
# EVMC4U, VSeeFace) use on the wire.
VRM0_PRESETS = {"a": "A", "i": "I", "u": "U", "e": "E", "o": "O", "blink": "Blink", "blink_l": "Blink_L",
                "blink_r": "Blink_R", "joy": "Joy", "angry": "Angry", "sorrow": "Sorrow", "fun": "Fun",
                "lookup": "LookUp", "lookdown": "LookDown", "lookleft": "LookLeft", "lookright": "LookRight",
                "neutral": "Neutral"}


def vrm1_bone(unity: str) -> str:
    """Unity HumanBodyBones name -> VRM 1.0 humanoid name."""
    name = unity.replace("ThumbProximal", "ThumbMetacarpal").replace("ThumbIntermediate", "ThumbProximal")
    return name[0].lower() + name[1:]


def vrm0_bone(unity: str) -> str:
    return unity[0].lower() + unity[1:]


@dataclass(frozen=True)
class VrmAvatar:
    path: Path
    name: str
    spec: str  # "0.x" or "1.0"
    offsets: dict[str, np.ndarray]  # Unity bone -> rest offset from its parent node (metres, Unity frame)
    expressions: tuple[str, ...]  # as a VMC/three-vrm consumer names them
    # The file's own (non-normalized) rest pose per Unity bone, Unity frame, as UniVRM imports it:
    # rotation local to the parent node, world rotation, and the node's local translation.
    rest_local: dict[str, np.ndarray] = field(default_factory=dict)
    rest_world: dict[str, np.ndarray] = field(default_factory=dict)
    rest_translation: dict[str, np.ndarray] = field(default_factory=dict)
    bones: frozenset[str] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "bones", frozenset(self.offsets))


def _fail(path: Path, why: str) -> ConfigError:
    return ConfigError(f"avatar {path}: {why}; give a .vrm file (VRM 0.x or 1.0) exported by UniVRM, "
                       "VRoid Studio or the Blender VRM add-on")


def _json_chunk(path: Path, data: bytes) -> dict:
    if len(data) < 20 or data[:4] != GLB_MAGIC:
        raise _fail(path, "not a VRM file (no glTF binary header)")
    version, length = struct.unpack_from("<II", data, 4)
    chunk_len, chunk_type = struct.unpack_from("<II", data, 12)
    if version != 2 or chunk_type != 0x4E4F534A or 20 + chunk_len > len(data) or length > len(data):
        raise _fail(path, "damaged glTF binary (bad header or truncated)")
    try:
        doc = json.loads(data[20:20 + chunk_len])
    except ValueError:
        raise _fail(path, "damaged glTF binary (its JSON does not parse)") from None
    if not isinstance(doc, dict):
        raise _fail(path, "damaged glTF binary (its JSON is not an object)")
    return doc


def _world_positions(nodes: list[dict]) -> tuple[np.ndarray, dict[int, int], list[np.ndarray], list[np.ndarray]]:
    """Every node's rest position in the glTF scene, each node's parent, and every node's local
    and world rest matrices (4x4, glTF frame)."""
    parent = {c: i for i, n in enumerate(nodes) for c in n.get("children", [])}
    local = []
    for n in nodes:
        if "matrix" in n:
            m = np.array(n["matrix"], float).reshape(4, 4).T
        else:
            r = quat.to_matrix(np.array(n.get("rotation", (0, 0, 0, 1)), float))
            m = np.eye(4)
            m[:3, :3] = r * np.array(n.get("scale", (1, 1, 1)), float)
            m[:3, 3] = n.get("translation", (0, 0, 0))
        local.append(m)
    world: dict[int, np.ndarray] = {}

    def resolve(i: int) -> np.ndarray:
        if i not in world:
            world[i] = local[i] if i not in parent else resolve(parent[i]) @ local[i]
        return world[i]

    worlds = [resolve(i) for i in range(len(nodes))]
    return np.array([w[:3, 3] for w in worlds]), parent, local, worlds


def _unity_rotation(m: np.ndarray, to_unity: np.ndarray) -> np.ndarray:
    """A glTF rest matrix's rotation (scale removed) in Unity's frame: the reflection diag(to_unity)
    (det -1) turns a rotation's axis into -to_unity * axis and keeps its angle."""
    m = m[:3, :3] / np.linalg.norm(m[:3, :3], axis=0)
    q = quat.from_matrix(m)
    return np.concatenate([-to_unity * q[:3], q[3:]])


def read_vrm(path: str | Path) -> VrmAvatar:
    """The avatar's humanoid and expressions; a missing, damaged or non-VRM file raises one ConfigError line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _fail(path, f"cannot read it ({e.strerror or e.__class__.__name__})") from None
    doc = _json_chunk(path, data)
    ext = doc.get("extensions") or {}
    try:
        nodes = doc.get("nodes", [])
        if "VRMC_vrm" in ext:
            vrm = ext["VRMC_vrm"]
            if not str(vrm.get("specVersion", "")).startswith("1."):
                raise _fail(path, f"VRM specVersion {vrm.get('specVersion')!r} is not supported (1.x or 0.x)")
            human = {b: v["node"] for b, v in vrm["humanoid"]["humanBones"].items()}
            node_of = {u: human[vrm1_bone(u)] for u in BONES if vrm1_bone(u) in human}
            ex = vrm.get("expressions", {})
            expressions = tuple(ex.get("preset", {})) + tuple(ex.get("custom", {}))
            name, spec, to_unity = vrm.get("meta", {}).get("name", path.stem), "1.0", np.array([-1.0, 1, 1])
        elif "VRM" in ext:
            vrm = ext["VRM"]
            human = {b["bone"]: b["node"] for b in vrm["humanoid"]["humanBones"]}
            node_of = {u: human[vrm0_bone(u)] for u in BONES if vrm0_bone(u) in human}
            groups = vrm.get("blendShapeMaster", {}).get("blendShapeGroups", [])
            expressions = tuple(VRM0_PRESETS.get(str(g.get("presetName", "")).lower()) or g["name"] for g in groups)
            name, spec, to_unity = vrm.get("meta", {}).get("title") or path.stem, "0.x", np.array([1.0, 1, -1])
        else:
            raise _fail(path, "a glTF file without a VRM extension (VRMC_vrm or VRM)")
        world, parent, local, worlds = _world_positions(nodes)
        offsets = {u: (world[i] - (world[parent[i]] if i in parent else 0.0)) * to_unity for u, i in node_of.items()}
        rest_local = {u: _unity_rotation(local[i], to_unity) for u, i in node_of.items()}
        rest_world = {u: _unity_rotation(worlds[i], to_unity) for u, i in node_of.items()}
        rest_translation = {u: local[i][:3, 3] * to_unity for u, i in node_of.items()}
    except (KeyError, TypeError, IndexError, ValueError, AttributeError) as e:
        raise _fail(path, f"damaged VRM humanoid or expressions ({e.__class__.__name__}: {e})") from None
    for required in ("Hips", "Spine", "Head", "LeftUpperArm", "RightUpperArm", "LeftUpperLeg", "RightUpperLeg"):
        if required not in offsets:
            raise _fail(path, f"its humanoid has no {required} bone")
    return VrmAvatar(path, str(name), spec, offsets, expressions, rest_local, rest_world, rest_translation)
