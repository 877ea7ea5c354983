"""Unity HumanBodyBones, their hierarchy and the VRM normalized T-pose, in the output (Unity) frame.

Frame (see conventions.py): left-handed, +Y up, the avatar faces +Z, +X is the avatar's right.
Rest pose = VRM T-pose (VRM 1.0 `tpose.md`), every bone's rest rotation identity:
  * spine, neck, head point up (+Y); legs point down (-Y); feet point forward (+Z) and
    FOOT_PITCH_DEG down (ankle -> toe tip: the landmarks we aim the foot with);
  * arms, hands and the four fingers lie along the X axis (left -X, right +X), palms facing -Y,
    nails +Y;
  * thumbs lie in the XZ plane at 45 degrees between the arm's X direction and +Z (forward),
    their pads facing the index finger (VRM 1.0's thumb roll).
`REST_DIR[b]` is the unit direction from bone b's joint towards its main child in the rest pose;
`REST_OFFSET[b]` is b's joint relative to its parent's joint (metres, an average adult VRM: the
solvers never use lengths, only directions, so any proportions give the same rotations).
Also: vectorised rotation helpers (look rotations, matrices -> quaternions, swing/twist).
"""
from __future__ import annotations

import numpy as np

from . import quat
from .conventions import reflect_x_quat

# Unity's HumanBodyBones enum, in its order (0 .. 54; LastBone = 55 is not a bone).
BONES: tuple[str, ...] = (
    "Hips", "LeftUpperLeg", "RightUpperLeg", "LeftLowerLeg", "RightLowerLeg", "LeftFoot", "RightFoot",
    "Spine", "Chest", "Neck", "Head", "LeftShoulder", "RightShoulder", "LeftUpperArm", "RightUpperArm",
    "LeftLowerArm", "RightLowerArm", "LeftHand", "RightHand", "LeftToes", "RightToes", "LeftEye", "RightEye",
    "Jaw",
    "LeftThumbProximal", "LeftThumbIntermediate", "LeftThumbDistal",
    "LeftIndexProximal", "LeftIndexIntermediate", "LeftIndexDistal",
    "LeftMiddleProximal", "LeftMiddleIntermediate", "LeftMiddleDistal",
    "LeftRingProximal", "LeftRingIntermediate", "LeftRingDistal",
    "LeftLittleProximal", "LeftLittleIntermediate", "LeftLittleDistal",
    "RightThumbProximal", "RightThumbIntermediate", "RightThumbDistal",
    "RightIndexProximal", "RightIndexIntermediate", "RightIndexDistal",
    "RightMiddleProximal", "RightMiddleIntermediate", "RightMiddleDistal",
    "RightRingProximal", "RightRingIntermediate", "RightRingDistal",
    "RightLittleProximal", "RightLittleIntermediate", "RightLittleDistal",
    "UpperChest",
)
INDEX = {b: i for i, b in enumerate(BONES)}
FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")
PHALANGES = ("Proximal", "Intermediate", "Distal")


def finger_bones(side: str) -> tuple[str, ...]:
    """The 15 finger bones of one hand ('Left'/'Right'), thumb..little, proximal..distal."""
    return tuple(f"{side}{f}{p}" for f in FINGERS for p in PHALANGES)


def _parent(b: str) -> str | None:
    if b == "Hips":
        return None
    side = "Left" if b.startswith("Left") else "Right" if b.startswith("Right") else ""
    core = b[len(side):]
    table = {"UpperLeg": "Hips", "LowerLeg": "UpperLeg", "Foot": "LowerLeg", "Toes": "Foot",
             "Shoulder": "UpperChest", "UpperArm": "Shoulder", "LowerArm": "UpperArm", "Hand": "LowerArm",
             "Eye": "Head"}
    if core in table:
        p = table[core]
        return p if p in ("Hips", "UpperChest", "Head") else side + p
    center = {"Spine": "Hips", "Chest": "Spine", "UpperChest": "Chest", "Neck": "UpperChest", "Head": "Neck",
              "Jaw": "Head"}
    if b in center:
        return center[b]
    for f in FINGERS:
        if core == f + "Proximal":
            return side + "Hand"
        if core == f + "Intermediate":
            return side + f + "Proximal"
        if core == f + "Distal":
            return side + f + "Intermediate"
    raise KeyError(b)


PARENT: dict[str, str | None] = {b: _parent(b) for b in BONES}
# Mirror: swap Left <-> Right names.
MIRROR_NAME = {b: ("Right" + b[4:] if b.startswith("Left") else "Left" + b[5:] if b.startswith("Right") else b)
               for b in BONES}

FOOT_PITCH_DEG = 25.0  # ankle -> toe tip points this much below horizontal when standing flat
_fp = np.radians(FOOT_PITCH_DEG)
FOOT_DIR = np.array([0.0, -np.sin(_fp), np.cos(_fp)])
THUMB_DIR_LEFT = np.array([-1.0, 0.0, 1.0]) / np.sqrt(2.0)


def _offsets() -> dict[str, np.ndarray]:
    o: dict[str, tuple[float, float, float]] = {
        "Hips": (0.0, 0.95, 0.0), "Spine": (0.0, 0.10, 0.0), "Chest": (0.0, 0.12, 0.0),
        "UpperChest": (0.0, 0.12, 0.0), "Neck": (0.0, 0.12, 0.0), "Head": (0.0, 0.10, 0.0),
        "Jaw": (0.0, 0.01, 0.03),
        "LeftEye": (-0.03, 0.06, 0.08),
        "LeftUpperLeg": (-0.09, -0.05, 0.0), "LeftLowerLeg": (0.0, -0.42, 0.0), "LeftFoot": (0.0, -0.42, 0.0),
        "LeftToes": tuple(FOOT_DIR * 0.15),
        "LeftShoulder": (-0.03, 0.09, 0.0), "LeftUpperArm": (-0.10, 0.0, 0.0), "LeftLowerArm": (-0.26, 0.0, 0.0),
        "LeftHand": (-0.24, 0.0, 0.0),
        "LeftThumbProximal": (-0.025, -0.01, 0.025), "LeftThumbIntermediate": tuple(THUMB_DIR_LEFT * 0.045),
        "LeftThumbDistal": tuple(THUMB_DIR_LEFT * 0.035),
        "LeftIndexProximal": (-0.09, 0.0, 0.025), "LeftIndexIntermediate": (-0.045, 0.0, 0.0),
        "LeftIndexDistal": (-0.025, 0.0, 0.0),
        "LeftMiddleProximal": (-0.095, 0.0, 0.0), "LeftMiddleIntermediate": (-0.05, 0.0, 0.0),
        "LeftMiddleDistal": (-0.028, 0.0, 0.0),
        "LeftRingProximal": (-0.09, 0.0, -0.02), "LeftRingIntermediate": (-0.045, 0.0, 0.0),
        "LeftRingDistal": (-0.026, 0.0, 0.0),
        "LeftLittleProximal": (-0.08, 0.0, -0.04), "LeftLittleIntermediate": (-0.035, 0.0, 0.0),
        "LeftLittleDistal": (-0.022, 0.0, 0.0),
    }
    out = {k: np.array(v, dtype=np.float64) for k, v in o.items()}
    for k in list(out):
        if k.startswith("Left"):
            out["Right" + k[4:]] = out[k] * np.array([-1.0, 1.0, 1.0])
    return out


REST_OFFSET: dict[str, np.ndarray] = _offsets()

# The child whose joint a bone points at (its "segment"); bones without one get a tip direction.
MAIN_CHILD: dict[str, str] = {"Hips": "Spine", "Spine": "Chest", "Chest": "UpperChest", "UpperChest": "Neck",
                              "Neck": "Head"}
for _s in ("Left", "Right"):
    MAIN_CHILD.update({f"{_s}UpperLeg": f"{_s}LowerLeg", f"{_s}LowerLeg": f"{_s}Foot", f"{_s}Foot": f"{_s}Toes",
                       f"{_s}Shoulder": f"{_s}UpperArm", f"{_s}UpperArm": f"{_s}LowerArm",
                       f"{_s}LowerArm": f"{_s}Hand", f"{_s}Hand": f"{_s}MiddleProximal"})
    for _f in FINGERS:
        MAIN_CHILD[f"{_s}{_f}Proximal"] = f"{_s}{_f}Intermediate"
        MAIN_CHILD[f"{_s}{_f}Intermediate"] = f"{_s}{_f}Distal"


def _rest_dirs() -> dict[str, np.ndarray]:
    d: dict[str, np.ndarray] = {}
    for b in BONES:
        if b in MAIN_CHILD:
            v = REST_OFFSET[MAIN_CHILD[b]]
        elif b in ("Head", "Jaw"):
            v = np.array([0.0, 1.0, 0.0]) if b == "Head" else np.array([0.0, 0.0, 1.0])
        elif b.endswith("Eye") or b.endswith("Toes"):
            v = np.array([0.0, 0.0, 1.0])
        elif "Thumb" in b:  # distal: continue the thumb's direction
            v = THUMB_DIR_LEFT * (np.array([-1.0, 1.0, 1.0]) if b.startswith("Right") else 1.0)
        else:  # finger distal: along the finger
            v = np.array([-1.0 if b.startswith("Left") else 1.0, 0.0, 0.0])
        d[b] = v / np.linalg.norm(v)
    return d


REST_DIR: dict[str, np.ndarray] = _rest_dirs()


def mirror_permutation(names: tuple[str, ...]) -> np.ndarray:
    """Index array p with names[p[i]] = mirror of names[i] (all names' mirrors must be in `names`)."""
    pos = {n: i for i, n in enumerate(names)}
    return np.array([pos[MIRROR_NAME[n]] for n in names], dtype=np.intp)


def mirror_rotations(names: tuple[str, ...], rotations: np.ndarray) -> np.ndarray:
    """The reflection of a pose across the YZ plane: row i gets mirror-side bone's (x, -y, -z, w)."""
    return reflect_x_quat(np.asarray(rotations, dtype=np.float64)[mirror_permutation(names)])


# --- vectorised rotation helpers -------------------------------------------------------------------------

def norm(v: np.ndarray) -> np.ndarray:
    """Row lengths (..., 1) of (..., 3) vectors: np.linalg.norm without its per-call overhead."""
    return np.sqrt((v * v).sum(-1, keepdims=True))


def normalize(v: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.maximum(norm(v), eps)


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross for (..., 3) arrays without its per-call overhead."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], -1)


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product (..., 3) x (..., 3) -> (..., 1)."""
    return (np.asarray(a) * np.asarray(b)).sum(-1, keepdims=True)


# Shepperd's method as one product: the symmetric matrix K = 4 q q^T is linear in m's entries
# (its diagonal holds the four candidates 4 q_i^2), so one matmul gives all four and the row with the
# largest diagonal entry, normalised, is q with the best-conditioned component positive.
_K_OF_M = np.zeros((9, 16))
_K_ONE = np.zeros(16)
for _k, _terms in enumerate((
        ((0, 1), (4, -1), (8, -1)), ((1, 1), (3, 1)), ((2, 1), (6, 1)), ((7, 1), (5, -1)),
        ((1, 1), (3, 1)), ((0, -1), (4, 1), (8, -1)), ((5, 1), (7, 1)), ((2, 1), (6, -1)),
        ((2, 1), (6, 1)), ((5, 1), (7, 1)), ((0, -1), (4, -1), (8, 1)), ((3, 1), (1, -1)),
        ((7, 1), (5, -1)), ((2, 1), (6, -1)), ((3, 1), (1, -1)), ((0, 1), (4, 1), (8, 1)))):
    for _e, _sign in _terms:
        _K_OF_M[_e, _k] = _sign
    _K_ONE[_k] = 1.0 if _k % 5 == 0 else 0.0


def mat_to_quat(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) proper rotation matrices -> (..., 4) unit quaternions (x, y, z, w)."""
    m = np.asarray(m, dtype=np.float64)
    lead = m.shape[:-2]
    k = (m.reshape(-1, 9) @ _K_OF_M + _K_ONE).reshape(-1, 4, 4)
    best = np.argmax(k[:, [0, 1, 2, 3], [0, 1, 2, 3]], axis=-1)
    q = k[np.arange(len(k)), best]
    q /= np.sqrt(np.einsum("ij,ij->i", q, q))[:, None]
    return q.reshape(lead + (4,))


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v (..., 3) by quaternions q (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    u, w = q[..., :3], q[..., 3:4]
    t = 2 * cross(u, v)
    return v + w * t + cross(u, t)


def frame(d: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Orthonormal frames (..., 3, 3) whose columns are d, r (made perpendicular to d), d x r."""
    d = normalize(d)
    r = normalize(r - (r * d).sum(-1, keepdims=True) * d)
    return np.stack([d, r, cross(d, r)], -1)


def rest_frames(rest_dir: np.ndarray, rest_ref: np.ndarray) -> np.ndarray:
    """The transposed rest frames look_rotation needs, for solvers to make once (their rests are constant)."""
    return np.swapaxes(frame(rest_dir, rest_ref), -1, -2)


def look_rotation(rest_dir: np.ndarray, rest_ref: np.ndarray, obs_dir: np.ndarray, obs_ref: np.ndarray,
                  rest: np.ndarray | None = None) -> np.ndarray:
    """Rotations (..., 4) taking rest_dir exactly onto obs_dir, and rest_ref (its part perpendicular to
    rest_dir) as close as possible onto obs_ref: the swing fixed by the direction, the twist by the reference.
    `rest`: rest_frames(rest_dir, rest_ref) made beforehand (then rest_dir and rest_ref are not read)."""
    return mat_to_quat(frame(obs_dir, obs_ref) @ (rest_frames(rest_dir, rest_ref) if rest is None else rest))


def perpendicular_ref(d: np.ndarray, ref: np.ndarray, fallback: np.ndarray, lo: float = 0.1, hi: float = 0.35) -> np.ndarray:
    """`ref` made perpendicular to `d`, smoothly replaced by `fallback` when ref is nearly parallel to d.

    All (..., 3); lo/hi: sine of the angle between ref and d below which the fallback fully / partly takes over.
    """
    d = normalize(d)
    ref = np.asarray(ref, dtype=np.float64)
    rp = ref - (ref * d).sum(-1, keepdims=True) * d
    fp = fallback - (fallback * d).sum(-1, keepdims=True) * d
    rp_len = norm(rp)
    w = np.minimum(np.maximum((rp_len / np.maximum(norm(ref), 1e-9) - lo) / (hi - lo), 0.0), 1.0)
    return normalize(w * (rp / np.maximum(rp_len, 1e-9)) + (1 - w) * normalize(fp))


def swing_twist(q: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split q = swing * twist, twist about the unit `axis` (both (..., 4))."""
    q = np.asarray(q, dtype=np.float64)
    axis = np.broadcast_to(np.asarray(axis, dtype=np.float64), q.shape[:-1] + (3,))
    p = np.sum(q[..., :3] * axis, -1, keepdims=True) * axis
    twist = np.concatenate([p, q[..., 3:4]], -1)
    n = np.linalg.norm(twist, axis=-1, keepdims=True)
    twist = np.where(n < 1e-9, np.array([0.0, 0.0, 0.0, 1.0]), twist / np.maximum(n, 1e-9))
    swing = quat.multiply(q, quat.conjugate(twist))
    return swing, twist


def power(q: np.ndarray, t: float | np.ndarray) -> np.ndarray:
    """q^t along the shortest path (slerp from identity)."""
    q = np.asarray(q, dtype=np.float64)
    return quat.slerp(np.broadcast_to(quat.IDENTITY, q.shape), q, t)


def _topological() -> tuple[str, ...]:
    order: list[str] = []
    seen: set[str] = set()

    def visit(b: str) -> None:
        if b in seen:
            return
        p = PARENT[b]
        if p is not None:
            visit(p)
        seen.add(b)
        order.append(b)

    for b in BONES:
        visit(b)
    return tuple(order)


_TOPO = _topological()


def rest_positions(names: tuple[str, ...], hips_offset: np.ndarray | None = None) -> np.ndarray:
    """(N, 3) local positions to send with local rotations (VMC Bone/Pos): each bone's T-pose offset
    from its parent (metres); the hips' is their rest height plus `hips_offset` (the solver's root)."""
    out = np.stack([REST_OFFSET[n] for n in names]).astype(np.float64)
    if hips_offset is not None and "Hips" in names:
        out[names.index("Hips")] += np.asarray(hips_offset, dtype=np.float64)
    return out
