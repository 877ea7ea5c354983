"""Recording -> BVH (Biovision Hierarchy), readable by Blender's BVH importer.

Skeleton: the Unity `HumanBodyBones` the recording has, plus their ancestors, from the
default humanoid table `SKELETON` below (a VRM normalized T-pose of a ~1.6 m avatar; offsets
from the parent joint in metres, Unity axes). A face-only recording (Neck, Head, LeftEye,
RightEye) gives Hips > Spine > Chest > UpperChest > Neck > Head > LeftEye, RightEye; body
recordings add whatever else they have. Joints that were not recorded keep their rest pose.

Channels: `ROOT Hips` has `Xposition Yposition Zposition Zrotation Xrotation Yrotation`, every
other joint `Zrotation Xrotation Yrotation`: Euler angles in degrees, applied as BVH readers do,
R = Rz(z) * Rx(x) * Ry(y) acting on column vectors (a vector is turned about Y first, then X,
then Z; the listed order is the outermost first, Blender's Euler order 'YXZ'), with
right-handed rotations in BVH space. Each joint's rotation is its local rotation
relative to its parent (the recording's bone rotation; the rest pose is identity, as in VRM's
normalized T-pose). The Hips carry the avatar root: position = Hips rest offset + root
position, rotation = root rotation * Hips rotation.

Coordinates: Unity is left-handed, +Y up, +Z forward, +X the avatar's right. BVH (and Blender's
importer, which then turns Y-up into Z-up) is right-handed, +Y up; the character faces +Z with
its right at -X. The conversion is the reflection across the YZ plane, as for Godot
(docs/conventions.md; conventions.reflect_x_pos / reflect_x_quat): positions (x, y, z) -> (-x, y, z)
* scale, quaternions (x, y, z, w) -> (x, -y, -z, w); the rotation matrix in BVH space is S * M * S,
S = diag(-1, 1, 1).

Order: readers take each MOTION line's values joint by joint in the order the HIERARCHY lists the
joints (depth first), so `joints_for` returns exactly that order and both sections use it.
Units: `scale=1` writes metres (Blender's importer default scale 1.0 gives a life-size
armature); `scale=100` writes centimetres.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import BridgeError
from ..frame import Person, timeline
from ..progress import Progress
from ..recording import RecordingReader
from ..retarget import quat
from ..retarget.conventions import reflect_x_pos, reflect_x_quat

CHANNEL_ORDER = ("Zrotation", "Xrotation", "Yrotation")
ROOT_CHANNELS = ("Xposition", "Yposition", "Zposition") + CHANNEL_ORDER


def _fingers(side: str, sx: float) -> dict[str, tuple[str, tuple[float, float, float]]]:
    """Finger joints of one hand; sx = -1 for the left hand (towards -X), +1 for the right."""
    out = {}
    spread = {"Thumb": (0.02, -0.01, 0.025), "Index": (0.08, 0.0, 0.025), "Middle": (0.085, 0.0, 0.005),
              "Ring": (0.08, 0.0, -0.015), "Little": (0.07, 0.0, -0.032)}
    length = {"Thumb": 0.03, "Index": 0.035, "Middle": 0.038, "Ring": 0.035, "Little": 0.028}
    for finger, (x, y, z) in spread.items():
        parent = f"{side}Hand"
        for i, seg in enumerate(("Proximal", "Intermediate", "Distal")):
            name = f"{side}{finger}{seg}"
            if i == 0:
                off = (sx * x, y, z)
            elif finger == "Thumb":
                off = (sx * length[finger] * 0.7, 0.0, length[finger] * 0.7)
            else:
                off = (sx * length[finger] * (1 - 0.2 * i), 0.0, 0.0)
            out[name] = (parent, off)
            parent = name
    return out


# bone -> (parent, offset from the parent in metres, Unity axes: +X avatar's right, +Y up, +Z forward)
SKELETON: dict[str, tuple[str | None, tuple[float, float, float]]] = {
    "Hips": (None, (0.0, 0.90, 0.0)),
    "Spine": ("Hips", (0.0, 0.08, 0.0)),
    "Chest": ("Spine", (0.0, 0.12, 0.0)),
    "UpperChest": ("Chest", (0.0, 0.12, 0.0)),
    "Neck": ("UpperChest", (0.0, 0.12, 0.0)),
    "Head": ("Neck", (0.0, 0.09, 0.0)),
    "LeftEye": ("Head", (-0.032, 0.06, 0.07)),
    "RightEye": ("Head", (0.032, 0.06, 0.07)),
    "Jaw": ("Head", (0.0, -0.01, 0.03)),
    "LeftShoulder": ("UpperChest", (-0.03, 0.09, 0.0)),
    "LeftUpperArm": ("LeftShoulder", (-0.09, 0.0, 0.0)),
    "LeftLowerArm": ("LeftUpperArm", (-0.25, 0.0, 0.0)),
    "LeftHand": ("LeftLowerArm", (-0.23, 0.0, 0.0)),
    "RightShoulder": ("UpperChest", (0.03, 0.09, 0.0)),
    "RightUpperArm": ("RightShoulder", (0.09, 0.0, 0.0)),
    "RightLowerArm": ("RightUpperArm", (0.25, 0.0, 0.0)),
    "RightHand": ("RightLowerArm", (0.23, 0.0, 0.0)),
    "LeftUpperLeg": ("Hips", (-0.08, -0.05, 0.0)),
    "LeftLowerLeg": ("LeftUpperLeg", (0.0, -0.39, 0.0)),
    "LeftFoot": ("LeftLowerLeg", (0.0, -0.38, 0.0)),
    "LeftToes": ("LeftFoot", (0.0, -0.06, 0.12)),
    "RightUpperLeg": ("Hips", (0.08, -0.05, 0.0)),
    "RightLowerLeg": ("RightUpperLeg", (0.0, -0.39, 0.0)),
    "RightFoot": ("RightLowerLeg", (0.0, -0.38, 0.0)),
    "RightToes": ("RightFoot", (0.0, -0.06, 0.12)),
    **_fingers("Left", -1.0),
    **_fingers("Right", 1.0),
}
# End Site offsets (metres, Unity axes) for joints that end a chain in the exported hierarchy.
END_SITES: dict[str, tuple[float, float, float]] = {
    "Head": (0.0, 0.16, 0.0), "LeftEye": (0.0, 0.0, 0.02), "RightEye": (0.0, 0.0, 0.02), "Jaw": (0.0, -0.03, 0.08),
    "LeftToes": (0.0, 0.0, 0.05), "RightToes": (0.0, 0.0, 0.05),
}

def euler_zxy_deg(m: np.ndarray) -> tuple[float, float, float]:
    """Rotation matrix -> (z, x, y) degrees with m = Rz(z) @ Rx(x) @ Ry(y) (right-handed rotations)."""
    x = math.asin(max(-1.0, min(1.0, m[2, 1])))
    if abs(m[2, 1]) < 0.999999:
        y = math.atan2(-m[2, 0], m[2, 2])
        z = math.atan2(-m[0, 1], m[1, 1])
    else:  # gimbal lock: put everything into z
        y = 0.0
        z = math.atan2(m[1, 0], m[0, 0])
    return math.degrees(z), math.degrees(x), math.degrees(y)


def bone_euler(q_unity) -> tuple[float, float, float]:
    """A Unity local rotation -> the BVH channels (Zrotation, Xrotation, Yrotation) in degrees."""
    return euler_zxy_deg(quat.to_matrix(reflect_x_quat(q_unity)))


def _children(joints) -> dict[str, list[str]]:
    """Each joint's exported children, in SKELETON order."""
    out: dict[str, list[str]] = {j: [] for j in joints}
    for j in SKELETON:
        parent = SKELETON[j][0]
        if j in out and parent is not None:
            out[parent].append(j)
    return out


def joints_for(bone_names) -> list[str]:
    """The exported joints (recorded bones + their ancestors) in hierarchy order: depth first from the
    Hips, children in SKELETON order. MOTION values follow this order, as BVH readers expect."""
    unknown = [b for b in bone_names if b not in SKELETON]
    if unknown:
        raise BridgeError(f"BVH export: unknown bone(s) {', '.join(unknown)}; expected Unity HumanBodyBones names")
    want = {"Hips"}
    for b in bone_names:
        while b is not None:
            want.add(b)
            b = SKELETON[b][0]
    children = _children(want)
    order: list[str] = []

    def visit(j: str) -> None:
        order.append(j)
        for c in children[j]:
            visit(c)

    visit("Hips")
    return order


def _hierarchy(joints: list[str], scale: float) -> list[str]:
    """HIERARCHY lines for `joints` (from joints_for, whose order they reproduce)."""
    children = _children(joints)
    lines = ["HIERARCHY"]

    def fmt(v) -> str:
        return " ".join(f"{c:.6f}" for c in reflect_x_pos(v) * scale)

    def emit(j: str, depth: int) -> None:
        ind = "  " * depth
        if j == "Hips":
            lines.append(f"{ind}ROOT {j}")
        else:
            lines.append(f"{ind}JOINT {j}")
        lines.append(f"{ind}{{")
        off = (0.0, 0.0, 0.0) if j == "Hips" else SKELETON[j][1]
        lines.append(f"{ind}  OFFSET {fmt(off)}")
        ch = ROOT_CHANNELS if j == "Hips" else CHANNEL_ORDER
        lines.append(f"{ind}  CHANNELS {len(ch)} {' '.join(ch)}")
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            end = END_SITES.get(j)
            if end is None:
                own = np.asarray(SKELETON[j][1])
                n = np.linalg.norm(own)
                end = tuple(own / n * 0.05) if n > 0 else (0.0, 0.05, 0.0)
            lines.append(f"{ind}  End Site")
            lines.append(f"{ind}  {{")
            lines.append(f"{ind}    OFFSET {fmt(end)}")
            lines.append(f"{ind}  }}")
        lines.append(f"{ind}}}")

    emit("Hips", 0)
    return lines


def frame_values(f: Person, joints: list[str], scale: float) -> list[float]:
    """One MOTION line's numbers for person `f`, in hierarchy order."""
    rot = {n: f.bone_rotations[i] for i, n in enumerate(f.bone_names)}
    vals: list[float] = []
    for j in joints:
        q = rot.get(j, quat.IDENTITY)
        if j == "Hips":
            vals += list(reflect_x_pos(np.asarray(SKELETON["Hips"][1]) + f.root_position) * scale)
            q = quat.multiply(f.root_rotation, q)
        vals += bone_euler(q)
    return vals


def export_bvh(recording: str | Path, out: str | Path, fps: float | None = None, scale: float = 1.0,
               progress: bool = False) -> int:
    """Write `out` (BVH) from `recording`; returns the number of frames."""
    reader = RecordingReader(recording)
    frames = timeline(reader.frames())
    rate = fps or reader.fps
    joints = joints_for({n for f in frames for n in f.bone_names} or set(reader.bone_names))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as fh, \
            Progress(len(frames), f"BVH {out.name}", "frames", enabled=progress) as bar:
        fh.write("\n".join(_hierarchy(joints, scale)) + "\n")
        fh.write(f"MOTION\nFrames: {len(frames)}\nFrame Time: {1.0 / rate:.6f}\n")
        for f in frames:
            fh.write(" ".join(f"{v:.6f}" for v in frame_values(f, joints, scale)) + "\n")
            bar.update()
    return len(frames)
