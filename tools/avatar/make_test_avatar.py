"""Build avatar-bridge's own CC0 test avatar (VRM 1.0) from nothing but code, with Blender.

Run:  .venv-blender/bin/python tools/avatar/make_test_avatar.py --out bridge/assets/test_avatar.vrm
      [--render docs/test-avatar.png]

Why: tests, the dashboard and the engine plugins need an avatar that has every bone our output
drives (all 55 Unity HumanBodyBones, upperChest and jaw included) and all 52 ARKit blendshapes as
morph targets, that we may ship; no downloadable sample has both. Every vertex comes from the
numbers below, so a rebuild gives the same geometry.

Blender frame (the glTF exporter maps it to glTF +Y up, +Z forward): +Z up, the avatar faces -Y,
its own left is +X.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

T0 = time.monotonic()


def log(msg: str) -> None:
    """Progress on stdout, so a slow Blender step shows where it is."""
    print(f"[make_test_avatar {time.monotonic() - T0:5.1f}s] {msg}", flush=True)


def _arkit_names() -> tuple[str, ...]:
    """bridge/arkit.py's list, loaded from its file: Blender's venv does not have the sidecar installed."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("arkit", Path(__file__).resolve().parents[2] / "bridge" / "arkit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ARKIT_NAMES


ARKIT_NAMES = _arkit_names()

# VRM 1.0 expression presets -> ARKit shape keys and weights.
PRESETS: dict[str, dict[str, float]] = {
    "aa": {"jawOpen": 0.8},
    "ih": {"jawOpen": 0.25, "mouthStretchLeft": 0.4, "mouthStretchRight": 0.4},
    "ou": {"mouthPucker": 0.8, "mouthFunnel": 0.3, "jawOpen": 0.15},
    "ee": {"jawOpen": 0.15, "mouthStretchLeft": 0.5, "mouthStretchRight": 0.5,
           "mouthSmileLeft": 0.3, "mouthSmileRight": 0.3},
    "oh": {"mouthFunnel": 0.8, "jawOpen": 0.45},
    "blink": {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0},
    "blink_left": {"eyeBlinkLeft": 1.0},
    "blink_right": {"eyeBlinkRight": 1.0},
    "happy": {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0, "cheekSquintLeft": 0.6,
              "cheekSquintRight": 0.6, "eyeSquintLeft": 0.4, "eyeSquintRight": 0.4},
    "angry": {"browDownLeft": 1.0, "browDownRight": 1.0, "noseSneerLeft": 0.5, "noseSneerRight": 0.5,
              "mouthFrownLeft": 0.5, "mouthFrownRight": 0.5, "eyeSquintLeft": 0.3, "eyeSquintRight": 0.3},
    "sad": {"browInnerUp": 1.0, "mouthFrownLeft": 0.8, "mouthFrownRight": 0.8, "mouthShrugLower": 0.3},
    "relaxed": {"mouthSmileLeft": 0.4, "mouthSmileRight": 0.4, "eyeSquintLeft": 0.2, "eyeSquintRight": 0.2},
    "surprised": {"eyeWideLeft": 1.0, "eyeWideRight": 1.0, "browInnerUp": 0.8, "browOuterUpLeft": 0.8,
                  "browOuterUpRight": 0.8, "jawOpen": 0.5},
    "look_up": {"eyeLookUpLeft": 1.0, "eyeLookUpRight": 1.0},
    "look_down": {"eyeLookDownLeft": 1.0, "eyeLookDownRight": 1.0},
    # looking to the avatar's own left: its left eye turns outwards, its right eye inwards
    "look_left": {"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0},
    "look_right": {"eyeLookInLeft": 1.0, "eyeLookOutRight": 1.0},
}

# ----------------------------------------------------------------------------------------------------
# Skeleton: VRM 1.0 bone name -> (head, tail, parent, Blender property name). Metres, Blender frame.

SIDES = (("left", 1.0), ("right", -1.0))
HEAD_C = np.array([0.0, 0.0, 1.545])     # head ellipsoid centre
HEAD_R = np.array([0.078, 0.095, 0.105])  # its radii (x, depth, z): the top of the head is at 1.65 m
MOUTH_LAT = -32.0                        # latitude (deg) of the ring the mouth slit opens along
MOUTH_Z = HEAD_C[2] + HEAD_R[2] * math.sin(math.radians(MOUTH_LAT))
EYE_Z, EYE_X, EYE_Y, EYE_R = 1.565, 0.033, -0.078, 0.0145
JAW_PIVOT = np.array([0.0, -0.005, 1.505])


def snake(name: str) -> str:
    """VRM 1.0 bone name -> the add-on's property name (leftUpperArm -> left_upper_arm)."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def skeleton() -> dict[str, tuple[np.ndarray, np.ndarray, str | None]]:
    """Joint positions of the T-pose (arms along +-X, palms down, thumbs 45 deg forward)."""
    v = lambda *a: np.array(a, dtype=float)  # noqa: E731
    b: dict[str, tuple[np.ndarray, np.ndarray, str | None]] = {
        "hips": (v(0, 0, 0.93), v(0, 0, 1.03), None),
        "spine": (v(0, 0, 1.03), v(0, 0, 1.14), "hips"),
        "chest": (v(0, 0, 1.14), v(0, 0, 1.25), "spine"),
        "upperChest": (v(0, 0, 1.25), v(0, 0, 1.39), "chest"),
        "neck": (v(0, 0, 1.39), v(0, 0, 1.46), "upperChest"),
        "head": (v(0, 0, 1.46), v(0, 0, 1.65), "neck"),
        "jaw": (JAW_PIVOT, JAW_PIVOT + v(0, -0.06, 0), "head"),
    }
    for side, s in SIDES:
        b[f"{side}Eye"] = (v(s * EYE_X, EYE_Y, EYE_Z), v(s * EYE_X, EYE_Y - 0.03, EYE_Z), "head")
        b[f"{side}UpperLeg"] = (v(s * 0.09, 0, 0.89), v(s * 0.09, 0, 0.49), "hips")
        b[f"{side}LowerLeg"] = (v(s * 0.09, 0, 0.49), v(s * 0.09, 0.0, 0.08), f"{side}UpperLeg")
        b[f"{side}Foot"] = (v(s * 0.09, 0.0, 0.08), v(s * 0.09, -0.12, 0.025), f"{side}LowerLeg")
        b[f"{side}Toes"] = (v(s * 0.09, -0.12, 0.025), v(s * 0.09, -0.18, 0.025), f"{side}Foot")
        b[f"{side}Shoulder"] = (v(s * 0.025, 0, 1.36), v(s * 0.16, 0, 1.36), "upperChest")
        b[f"{side}UpperArm"] = (v(s * 0.16, 0, 1.36), v(s * 0.43, 0, 1.36), f"{side}Shoulder")
        b[f"{side}LowerArm"] = (v(s * 0.43, 0, 1.36), v(s * 0.67, 0, 1.36), f"{side}UpperArm")
        b[f"{side}Hand"] = (v(s * 0.67, 0, 1.36), v(s * 0.755, 0, 1.36), f"{side}LowerArm")
        hand = v(s * 0.67, 0, 1.36)
        # finger: (proximal joint offset from the wrist, phalanx lengths); -Y is forward
        for finger, off, lengths in (("Index", (0.085, -0.026, 0), (0.042, 0.026, 0.022)),
                                     ("Middle", (0.088, -0.008, 0), (0.046, 0.029, 0.024)),
                                     ("Ring", (0.085, 0.010, 0), (0.042, 0.027, 0.022)),
                                     ("Little", (0.078, 0.027, 0), (0.033, 0.021, 0.019))):
            p = hand + v(s * off[0], off[1], off[2])
            parent = f"{side}Hand"
            for phal, ln in zip(("Proximal", "Intermediate", "Distal"), lengths):
                q = p + v(s * ln, 0, 0)
                b[f"{side}{finger}{phal}"] = (p, q, parent)
                parent, p = f"{side}{finger}{phal}", q
        tdir = v(s, -1.0, 0.0) / math.sqrt(2.0)  # 45 deg between the arm's X and forward (-Y)
        p = hand + v(s * 0.022, -0.028, -0.008)
        parent = f"{side}Hand"
        for phal, ln in zip(("Metacarpal", "Proximal", "Distal"), (0.038, 0.032, 0.026)):
            q = p + tdir * ln
            b[f"{side}Thumb{phal}"] = (p, q, parent)
            parent, p = f"{side}Thumb{phal}", q
    return b


# ----------------------------------------------------------------------------------------------------
# Geometry primitives: each returns (vertices (n, 3), faces as index tuples).

class Part:
    """A rigid or face piece: vertices, faces, per-face materials and per-vertex bone weights."""

    def __init__(self, tag: str, verts, faces, mats, bone: str):
        self.tag = tag
        self.v = np.asarray(verts, dtype=float)
        self.f = [tuple(int(i) for i in f) for f in faces]
        self.m = list(mats) if not isinstance(mats, str) else [mats] * len(self.f)
        self.w = {bone: np.ones(len(self.v))}


def frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An orthonormal frame whose first axis is `axis`."""
    u = axis / np.linalg.norm(axis)
    ref = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    v = np.cross(u, ref)
    v /= np.linalg.norm(v)
    return u, v, np.cross(u, v)


def box(a: np.ndarray, b: np.ndarray, half_w: float, half_h: float) -> tuple[np.ndarray, list]:
    """A box from point a to point b, cross-section 2*half_w x 2*half_h."""
    _, v, w = frame(b - a)
    vs = [p + sv * half_w * v + sw * half_h * w for p in (a, b) for sv, sw in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    faces = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
    return np.array(vs), faces


def tube(centres: np.ndarray, e1: np.ndarray, e2: np.ndarray, r1: np.ndarray, r2: np.ndarray,
         n: int) -> tuple[np.ndarray, list]:
    """A capped tube through `centres` with elliptic sections (r1 along e1, r2 along e2)."""
    k = len(centres)
    ang = np.arange(n) * 2 * math.pi / n
    ring = np.cos(ang)[None, :, None] * (r1[:, None, None] * e1) + np.sin(ang)[None, :, None] * (r2[:, None, None] * e2)
    vs = (centres[:, None, :] + ring).reshape(-1, 3)
    faces = [(i * n + j, i * n + (j + 1) % n, (i + 1) * n + (j + 1) % n, (i + 1) * n + j)
             for i in range(k - 1) for j in range(n)]
    c0, c1 = len(vs), len(vs) + 1
    vs = np.vstack([vs, centres[0], centres[-1]])
    faces += [(c0, (j + 1) % n, j) for j in range(n)]
    faces += [(c1, (k - 1) * n + j, (k - 1) * n + (j + 1) % n) for j in range(n)]
    return vs, faces


def cylinder(a, b, r, n=8):
    """A capped n-sided cylinder from a to b."""
    _, v, w = frame(b - a)
    return tube(np.array([a, b]), v, w, np.array([r, r]), np.array([r, r]), n)


def ellipsoid(centre, axes, radii, n_lon=16, n_lat=10):
    """An ellipsoid with poles along axes[2]; returns verts, faces and each vertex's (lat, lon)."""
    vs, ll = [], []
    lats = np.linspace(-90, 90, n_lat + 1)[1:-1]
    for la in lats:
        for j in range(n_lon):
            lo = 360.0 * j / n_lon
            d = (math.cos(math.radians(la)) * math.cos(math.radians(lo)),
                 math.cos(math.radians(la)) * math.sin(math.radians(lo)), math.sin(math.radians(la)))
            vs.append(centre + sum(d[i] * radii[i] * axes[i] for i in range(3)))
            ll.append((la, lo))
    faces = [(i * n_lon + j, i * n_lon + (j + 1) % n_lon, (i + 1) * n_lon + (j + 1) % n_lon, (i + 1) * n_lon + j)
             for i in range(len(lats) - 1) for j in range(n_lon)]
    s, t = len(vs), len(vs) + 1
    vs += [centre - radii[2] * axes[2], centre + radii[2] * axes[2]]
    ll += [(-90.0, 0.0), (90.0, 0.0)]
    top = (len(lats) - 1) * n_lon
    faces += [(s, (j + 1) % n_lon, j) for j in range(n_lon)]
    faces += [(t, top + j, top + (j + 1) % n_lon) for j in range(n_lon)]
    return np.array(vs), faces, np.array(ll)


def surf_y(x: float, z: float) -> float:
    """Depth (y) of the front of the head ellipsoid at (x, z)."""
    q = 1 - (x / HEAD_R[0]) ** 2 - ((z - HEAD_C[2]) / HEAD_R[2]) ** 2
    return float(-HEAD_R[1] * math.sqrt(max(q, 0.0)))


def surf_normal(x: float, z: float) -> np.ndarray:
    p = np.array([x, surf_y(x, z), z]) - HEAD_C
    n = p / HEAD_R ** 2
    return n / np.linalg.norm(n)


# ----------------------------------------------------------------------------------------------------
# The body: one rigid piece per bone.

def body_parts(sk) -> list[Part]:
    parts: list[Part] = []

    def add(tag, geo, mat, bone):
        parts.append(Part(tag, geo[0], geo[1], mat, bone))

    z = lambda h: np.array([0.0, 0.0, h])  # noqa: E731
    add("hips", box(z(0.86), z(1.03), 0.14, 0.085), "pants", "hips")
    add("spine", box(z(1.03), z(1.14), 0.125, 0.08), "shirt", "spine")
    add("chest", box(z(1.14), z(1.25), 0.14, 0.09), "shirt", "chest")
    add("upperChest", box(z(1.25), z(1.40), 0.16, 0.095), "shirt", "upperChest")
    add("neck", cylinder(z(1.38), z(1.48), 0.038), "skin", "neck")
    for side, s in SIDES:
        sx = np.array([s, 1.0, 1.0])
        add("shoulder", box(np.array([0.03, 0, 1.36]) * sx, np.array([0.17, 0, 1.36]) * sx, 0.05, 0.05),
            "shirt", f"{side}Shoulder")
        h, t, _ = sk[f"{side}UpperArm"]
        add("arm", cylinder(h, t, 0.045), "shirt", f"{side}UpperArm")
        h, t, _ = sk[f"{side}LowerArm"]
        add("arm", cylinder(h - np.array([s * 0.01, 0, 0]), t, 0.036), "skin", f"{side}LowerArm")
        h, _, _ = sk[f"{side}Hand"]
        add("palm", box(h, h + np.array([s * 0.083, 0, 0]), 0.042, 0.014), "skin", f"{side}Hand")
        for f in ("Thumb", "Index", "Middle", "Ring", "Little"):
            for p in (("Metacarpal", "Proximal", "Distal") if f == "Thumb" else ("Proximal", "Intermediate", "Distal")):
                name = f"{side}{f}{p}"
                h, t, _ = sk[name]
                d = (t - h) / np.linalg.norm(t - h)
                mat = "nail" if p == "Distal" else "skin"
                add("finger", box(h + d * 0.002, t - d * 0.002, 0.0075, 0.0075), mat, name)
        h, t, _ = sk[f"{side}UpperLeg"]
        add("leg", cylinder(h + np.array([0, 0, 0.02]), t, 0.068), "pants", f"{side}UpperLeg")
        h, t, _ = sk[f"{side}LowerLeg"]
        add("leg", cylinder(h, t, 0.05), "pants", f"{side}LowerLeg")
        add("foot", foot_box(s, 0.05, -0.12, 0.0, 0.10), "shoe", f"{side}Foot")
        add("toes", foot_box(s, -0.12, -0.18, 0.0, 0.045), "shoe", f"{side}Toes")
    return parts


def foot_box(s: float, y0: float, y1: float, z0: float, z1: float) -> tuple[np.ndarray, list]:
    """An axis-aligned shoe block under the ankle (x centred on the leg)."""
    x0, x1 = s * 0.09 - 0.045, s * 0.09 + 0.045
    vs = np.array([[x, y, zz] for zz in (z0, z1) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))])
    faces = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
    return vs, faces


# ----------------------------------------------------------------------------------------------------
# The face: head skin with a mouth slit, and separate lids, brows, lips, nose, cheeks, eyes, tongue.

N_LON, LAT_STEP, SLIT = 64, 4.0, 4  # the slit spans longitudes -3..3 (4 = its shared corners)


def head_part() -> Part:
    """Head ellipsoid (longitude 0 faces -Y) whose ring at MOUTH_LAT is cut open at the front."""
    lats = np.arange(-88.0, 88.0 + 1e-9, LAT_STEP)
    m = int(round((MOUTH_LAT - lats[0]) / LAT_STEP))
    vs, ll, dup = [], [], []
    for la in lats:
        for j in range(N_LON):
            lo = 360.0 * j / N_LON
            c = math.cos(math.radians(la))
            vs.append(HEAD_C + HEAD_R * (c * math.sin(math.radians(lo)), -c * math.cos(math.radians(lo)),
                                         math.sin(math.radians(la))))
            ll.append((la, lo if lo <= 180 else lo - 360))
            dup.append(False)
    idx = lambda i, j: i * N_LON + j % N_LON  # noqa: E731
    lower = {}  # slit interior: a second copy of the mouth ring for the faces below it
    for j in range(-SLIT + 1, SLIT):
        lower[j % N_LON] = len(vs)
        vs.append(vs[idx(m, j)].copy())
        ll.append(ll[idx(m, j)])
        dup.append(True)
    faces = []
    for i in range(len(lats) - 1):
        for j in range(N_LON):
            q = [idx(i, j), idx(i, j + 1), idx(i + 1, j + 1), idx(i + 1, j)]
            if i + 1 == m:  # this face's top edge is the lower lip line
                q[2], q[3] = lower.get((j + 1) % N_LON, q[2]), lower.get(j % N_LON, q[3])
            faces.append(tuple(q))
    s, t = len(vs), len(vs) + 1
    vs += [HEAD_C - HEAD_R * (0, 0, 1), HEAD_C + HEAD_R * (0, 0, 1)]
    ll += [(-90.0, 0.0), (90.0, 0.0)]
    dup += [False, False]
    top = (len(lats) - 1) * N_LON
    faces += [(s, (j + 1) % N_LON, j) for j in range(N_LON)]
    faces += [(t, top + j, top + (j + 1) % N_LON) for j in range(N_LON)]
    ll = np.array(ll)
    mats = []
    for f in faces:
        la, lo = ll[list(f)].mean(0)[0], np.abs(ll[list(f), 1]).max()
        mats.append("hair" if la > 38 or (la > -20 and lo > 100) else "skin")
    p = Part("head", vs, faces, mats, "head")
    p.lat, p.lon, p.dup = ll[:, 0], ll[:, 1], np.array(dup)
    return p


def lid(side: float, upper: bool) -> Part:
    """An eyelid: a spherical shell grid in (elevation a, azimuth b) around the eye centre."""
    r = EYE_R + (0.0014 if upper else 0.0010)
    a_vals = np.linspace(28.0, 100.0, 9) if upper else np.linspace(-100.0, -34.0, 8)
    b_vals = np.linspace(-80.0, 80.0, 15)
    c = np.array([side * EYE_X, EYE_Y, EYE_Z])
    vs = [c + r * lid_dir(a, b) for a in a_vals for b in b_vals]
    nb = len(b_vals)
    faces = [(i * nb + j, i * nb + j + 1, (i + 1) * nb + j + 1, (i + 1) * nb + j)
             for i in range(len(a_vals) - 1) for j in range(nb - 1)]
    return Part(("lidU" if upper else "lidL") + ("L" if side > 0 else "R"), vs, faces, "lid", "head")


def lid_dir(a: float, b: float) -> np.ndarray:
    """Unit direction: elevation a above forward (-Y), azimuth b towards +X."""
    a, b = math.radians(a), math.radians(b)
    return np.array([math.sin(b), -math.cos(b) * math.cos(a), math.cos(b) * math.sin(a)])


def eyeball(side: float) -> Part:
    c = np.array([side * EYE_X, EYE_Y, EYE_Z])
    axes = (np.array([1.0, 0, 0]), np.array([0, 0, 1.0]), np.array([0, -1.0, 0]))  # pole looks forward
    vs, faces, ll = ellipsoid(c, axes, (EYE_R, EYE_R, EYE_R), 16, 12)
    mats = []
    for f in faces:
        la = ll[list(f), 0].min()
        mats.append("pupil" if la >= 74 else "iris" if la >= 58 else "sclera")
    return Part("eye" + ("L" if side > 0 else "R"), vs, faces, mats, ("left" if side > 0 else "right") + "Eye")


LIP_W = 0.028  # half width of the mouth: the slit's corners are at about +-0.025


def lip(upper: bool) -> Part:
    u = np.linspace(-1, 1, 25)
    taper = 0.25 + 0.75 * np.sqrt(1 - u ** 2)
    rz = (0.0042 if upper else 0.0050) * taper
    x = u * LIP_W
    zc = MOUTH_Z + (1 if upper else -1) * (0.0040 * taper)
    yc = np.array([surf_y(xi, MOUTH_Z) for xi in x]) - 0.0010
    ry = 0.0045 * taper
    vs, faces = tube(np.stack([x, yc, zc], 1), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]), ry, rz, 10)
    return Part("lipU" if upper else "lipL", vs, faces, "lip", "head")


def brow(side: float) -> Part:
    t = np.linspace(0, 1, 12)
    x = side * (0.011 + 0.047 * t)
    z = 1.597 + 0.006 * np.sin(np.pi * t) - 0.004 * t
    y = np.array([surf_y(xi, zi) for xi, zi in zip(x, z)]) - 0.0015
    r = 0.0030 * (1.1 - 0.4 * t)
    vs, faces = tube(np.stack([x, y, z], 1), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]), r * 0.8, r, 6)
    return Part("brow" + ("L" if side > 0 else "R"), vs, faces, "hair", "head")


def nose() -> Part:
    t = np.linspace(0, 1, 10)
    z = 1.575 - 0.060 * t
    rx = 0.004 + 0.012 * t ** 1.5
    ry = 0.003 + 0.011 * t
    y = np.array([surf_y(0, zi) for zi in z]) - ry * 0.7
    vs, faces = tube(np.stack([np.zeros_like(z), y, z], 1), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]),
                     rx, ry, 10)
    return Part("nose", vs, faces, "skin", "head")


def cheek(side: float) -> Part:
    x, z = side * 0.050, 1.515
    n = surf_normal(x, z)
    c = np.array([x, surf_y(x, z), z]) - n * 0.002
    up = np.array([0, 0, 1.0])
    ax = np.cross(up, n)
    ax /= np.linalg.norm(ax)
    vs, faces, _ = ellipsoid(c, (ax, np.cross(n, ax), n), (0.016, 0.013, 0.005), 12, 8)
    p = Part("cheek" + ("L" if side > 0 else "R"), vs, faces, "cheek", "head")
    p.normal = n
    return p


def mouth_inside() -> list[Part]:
    """Dark mouth cavity, teeth and tongue behind the slit; seen when the mouth opens."""
    axes = (np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0]))
    vs, faces, _ = ellipsoid(np.array([0, -0.058, MOUTH_Z]), axes, (0.024, 0.014, 0.017), 16, 10)
    parts = [Part("cavity", vs, faces, "mouth", "head")]
    for tag, z0, z1 in (("teethU", MOUTH_Z + 0.0008, MOUTH_Z + 0.0068), ("teethL", MOUTH_Z - 0.0068, MOUTH_Z - 0.0008)):
        g = box(np.array([-0.017, -0.0745, (z0 + z1) / 2]), np.array([0.017, -0.0745, (z0 + z1) / 2]),
                0.0025, (z1 - z0) / 2)
        parts.append(Part(tag, g[0], g[1], "teeth", "head"))
    t = np.linspace(0, 1, 8)
    cz = MOUTH_Z - 0.007 + 0.002 * np.sin(np.pi * t)
    vs, faces = tube(np.stack([np.zeros_like(t), -0.044 - 0.026 * t, cz], 1), np.array([1.0, 0, 0]),
                     np.array([0, 0, 1.0]), 0.012 * (1 - 0.45 * t ** 2), 0.0035 * (1 - 0.3 * t), 10)
    parts.append(Part("tongue", vs, faces, "tongue", "head"))
    return parts


def face_parts() -> list[Part]:
    parts = [head_part(), nose(), lip(True), lip(False), *mouth_inside()]
    for _, s in SIDES:
        parts += [eyeball(s), lid(s, True), lid(s, False), brow(s), cheek(s)]
    return parts


# ----------------------------------------------------------------------------------------------------
# The 52 ARKit shapes, as vertex offsets computed from each vertex's rest position and part.

def smooth(e0: float, e1: float, x):
    t = np.clip((np.asarray(x, dtype=float) - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def gauss(v: np.ndarray, centre, sigma: float) -> np.ndarray:
    return np.exp(-np.sum((v - np.asarray(centre)) ** 2, 1) / (2 * sigma ** 2))


def rot_x(v: np.ndarray, pivot: np.ndarray, deg: float) -> np.ndarray:
    """Rotate points about the X axis through pivot (positive: forward points go down)."""
    a = math.radians(deg)
    r = v - pivot
    out = r.copy()
    out[:, 1] = r[:, 1] * math.cos(a) - r[:, 2] * math.sin(a)
    out[:, 2] = r[:, 1] * math.sin(a) + r[:, 2] * math.cos(a)
    return out + pivot


def jaw_weight(parts: dict[str, Part]) -> dict[str, np.ndarray]:
    """How much each vertex follows the jaw: chin skin, the slit's lower edge, lower lip/teeth, tongue."""
    h = parts["head"]
    front = smooth(75.0, 45.0, np.abs(h.lon))
    below = np.where(h.dup, 1.0, (h.lat < MOUTH_LAT - 1).astype(float) * smooth(-86.0, -70.0, h.lat))
    cav = parts["cavity"].v
    return {"head": front * below, "lipL": np.ones(len(parts["lipL"].v)), "teethL": np.ones(len(parts["teethL"].v)),
            "tongue": np.ones(len(parts["tongue"].v)), "cavity": smooth(MOUTH_Z + 0.002, MOUTH_Z - 0.006, cav[:, 2])}


def lid_reshape(p: Part, edge_from: float, edge_to: float, shift_b: float = 0.0) -> np.ndarray:
    """Offsets that move a lid's open edge from elevation edge_from to edge_to (and turn it by shift_b)."""
    c = np.array([EYE_X if p.tag.endswith("L") else -EYE_X, EYE_Y, EYE_Z])
    r = p.v - c
    rad = np.linalg.norm(r, axis=1)
    b = np.degrees(np.arcsin(np.clip(r[:, 0] / rad, -1, 1)))
    a = np.degrees(np.arctan2(r[:, 2], -r[:, 1]))
    far = 100.0 if edge_from > 0 else -100.0  # the lid's fixed (hidden) end
    a2 = far + (a - far) * (edge_to - far) / (edge_from - far)
    new = np.array([c + rr * lid_dir(aa, bb + shift_b) for rr, aa, bb in zip(rad, a2, b)])
    return new - p.v


UPPER_EDGE, LOWER_EDGE = 28.0, -34.0


def shapes(parts: dict[str, Part], offset: dict[str, int], n: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}

    def put(name: str, tag: str, d: np.ndarray) -> None:
        arr = out.setdefault(name, np.zeros((n, 3)))
        arr[offset[tag]:offset[tag] + len(parts[tag].v)] += d

    hv = parts["head"].v
    skin_front = (hv[:, 1] < -0.02).astype(float)
    jw = jaw_weight(parts)
    slit_x = np.clip(hv[:, 0] / LIP_W, -1, 1)
    slit = np.abs(parts["head"].lon) < (SLIT * 360.0 / N_LON - 1e-6)
    upper_edge = slit & ~parts["head"].dup & (np.abs(parts["head"].lat - MOUTH_LAT) < 1e-6)
    lower_edge = parts["head"].dup

    # eyes: lids only (the eyeballs turn with the leftEye/rightEye bones)
    for side, s in (("Left", 1.0), ("Right", -1.0)):
        k = "L" if s > 0 else "R"
        U, L = parts[f"lidU{k}"], parts[f"lidL{k}"]
        put(f"eyeBlink{side}", U.tag, lid_reshape(U, UPPER_EDGE, -16.0))
        put(f"eyeBlink{side}", L.tag, lid_reshape(L, LOWER_EDGE, -19.0))
        put(f"eyeSquint{side}", U.tag, lid_reshape(U, UPPER_EDGE, 20.0))
        put(f"eyeSquint{side}", L.tag, lid_reshape(L, LOWER_EDGE, -12.0))
        put(f"eyeWide{side}", U.tag, lid_reshape(U, UPPER_EDGE, 52.0))
        put(f"eyeWide{side}", L.tag, lid_reshape(L, LOWER_EDGE, -44.0))
        put(f"eyeLookUp{side}", U.tag, lid_reshape(U, UPPER_EDGE, 44.0))
        put(f"eyeLookUp{side}", L.tag, lid_reshape(L, LOWER_EDGE, -26.0))
        put(f"eyeLookDown{side}", U.tag, lid_reshape(U, UPPER_EDGE, 6.0))
        put(f"eyeLookDown{side}", L.tag, lid_reshape(L, LOWER_EDGE, -44.0))
        inward = -s * 16.0  # azimuth towards the nose
        for name, turn in ((f"eyeLookIn{side}", inward), (f"eyeLookOut{side}", -inward)):
            put(name, U.tag, lid_reshape(U, UPPER_EDGE, UPPER_EDGE, turn))
            put(name, L.tag, lid_reshape(L, LOWER_EDGE, LOWER_EDGE, turn))

        # brows: t = 0 at the inner end, 1 at the outer end
        bv = parts[f"brow{k}"].v
        t = np.clip((np.abs(bv[:, 0]) - 0.011) / 0.047, 0, 1)
        zero = np.zeros_like(t)
        put(f"browDown{side}", f"brow{k}", np.stack([-s * 0.002 * (1 - t), zero - 0.001, -0.007 * (1 - 0.4 * t)], 1))
        put("browInnerUp", f"brow{k}", np.stack([zero, zero, 0.009 * (1 - t) ** 1.5], 1))
        put(f"browOuterUp{side}", f"brow{k}", np.stack([zero, zero, 0.009 * t ** 1.5], 1))

        # cheeks and nose
        cp = parts[f"cheek{k}"]
        ctr = cp.v.mean(0)
        put("cheekPuff", cp.tag, np.outer(np.ones(len(cp.v)), cp.normal * 0.007))
        put("cheekPuff", "head", np.outer(gauss(hv, ctr, 0.016) * skin_front, cp.normal * 0.006))
        put(f"cheekSquint{side}", cp.tag, np.outer(np.ones(len(cp.v)), [0, 0.001, 0.005]))
        put(f"cheekSquint{side}", "head", np.outer(gauss(hv, ctr + [0, 0, 0.01], 0.012) * skin_front, [0, 0, 0.004]))
        nv = parts["nose"].v
        wn = smooth(0.0, 0.008, s * nv[:, 0]) * smooth(1.56, 1.53, nv[:, 2])
        put(f"noseSneer{side}", "nose", np.outer(wn, [s * 0.001, 0.001, 0.005]))
        put(f"noseSneer{side}", "head", np.outer(gauss(hv, [s * 0.018, surf_y(s * 0.018, 1.525), 1.525], 0.009)
                                                 * skin_front, [0, 0, 0.004]))

        # mouth corners and sides
        corner = [s * LIP_W, surf_y(s * LIP_W, MOUTH_Z), MOUTH_Z]
        gskin = gauss(hv, corner, 0.011) * skin_front
        for lp in ("lipU", "lipL"):
            u = parts[lp].v[:, 0] / LIP_W
            c = smooth(0.15, 1.0, s * u)
            put(f"mouthSmile{side}", lp, np.outer(c, [s * 0.002, 0.003, 0.007]))
            put(f"mouthFrown{side}", lp, np.outer(c, [0, 0.001, -0.006]))
            put(f"mouthDimple{side}", lp, np.outer(c, [s * 0.002, 0.005, 0.001]))
            put(f"mouthStretch{side}", lp, np.outer(c, [s * 0.007, 0.001, -0.002]))
            press = smooth(-0.3, 0.5, s * u)
            put(f"mouthPress{side}", lp, np.outer(press, [0, 0.002, -0.003 if lp == "lipU" else 0.003]))
            bump = np.exp(-((s * u - 0.45) ** 2) / (2 * 0.3 ** 2))
            if lp == "lipL":
                put(f"mouthLowerDown{side}", lp, np.outer(bump, [0, -0.001, -0.006]))
            else:
                put(f"mouthUpperUp{side}", lp, np.outer(bump, [0, -0.001, 0.006]))
        put(f"mouthSmile{side}", "head", np.outer(gskin, [s * 0.002, 0.002, 0.005]))
        put(f"mouthFrown{side}", "head", np.outer(gskin, [0, 0, -0.004]))
        put(f"mouthDimple{side}", "head", np.outer(gskin, [s * 0.001, 0.003, 0]))
        put(f"mouthStretch{side}", "head", np.outer(gskin, [s * 0.005, 0, -0.002]))
        bump_skin = np.exp(-((s * slit_x - 0.45) ** 2) / (2 * 0.3 ** 2))
        put(f"mouthLowerDown{side}", "head", np.outer(bump_skin * lower_edge, [0, 0, -0.006]))
        put(f"mouthUpperUp{side}", "head", np.outer(bump_skin * upper_edge, [0, 0, 0.006]))

    # jaw: the chin region turns about the jaw pivot / slides
    for tag, w in jw.items():
        v = parts[tag].v
        put("jawOpen", tag, (rot_x(v, JAW_PIVOT, 20.0) - v) * w[:, None])
        put("jawForward", tag, np.outer(w, [0, -0.008, 0]))
        put("jawLeft", tag, np.outer(w, [0.008, 0, 0]))
        put("jawRight", tag, np.outer(w, [-0.008, 0, 0]))

    # whole-mouth shapes
    mouth_c = [0, surf_y(0, MOUTH_Z), MOUTH_Z]
    around = gauss(hv, mouth_c, 0.014) * skin_front
    for lp, up in (("lipU", 1.0), ("lipL", -1.0)):
        v = parts[lp].v
        one = np.ones(len(v))
        put("mouthLeft", lp, np.outer(one, [0.007, 0, 0]))
        put("mouthRight", lp, np.outer(one, [-0.007, 0, 0]))
        put("mouthPucker", lp, np.stack([-0.4 * v[:, 0], -0.008 * one, -up * 0.001 * one], 1))
        put("mouthFunnel", lp, np.stack([-0.2 * v[:, 0], -0.006 * one, up * 0.004 * one], 1))
        put("mouthClose", lp, np.outer(one, [0, 0.001, -0.002] if up > 0 else [0, 0.001, 0.004]))
    put("mouthLeft", "head", np.outer(around, [0.005, 0, 0]))
    put("mouthRight", "head", np.outer(around, [-0.005, 0, 0]))
    put("mouthPucker", "head", np.outer(around, [0, -0.004, 0]))
    put("mouthFunnel", "head", np.outer(upper_edge, [0, 0, 0.003]) + np.outer(lower_edge, [0, 0, -0.003]))
    one_l, one_u = np.ones(len(parts["lipL"].v)), np.ones(len(parts["lipU"].v))
    put("mouthRollLower", "lipL", np.outer(one_l, [0, 0.005, 0.002]))
    put("mouthRollUpper", "lipU", np.outer(one_u, [0, 0.005, -0.002]))
    put("mouthShrugLower", "lipL", np.outer(one_l, [0, -0.002, 0.004]))
    put("mouthShrugLower", "head", np.outer(gauss(hv, [0, surf_y(0, 1.462), 1.462], 0.012) * skin_front,
                                            [0, -0.001, 0.003]))
    put("mouthShrugUpper", "lipU", np.outer(one_u, [0, -0.001, 0.004]))
    tv = parts["tongue"].v
    reach = smooth(-0.044, -0.07, tv[:, 1]) * 0.4 + 0.6  # the tip goes furthest
    put("tongueOut", "tongue", np.outer(reach, [0, -0.036, -0.004]))
    return {name: out[name] for name in ARKIT_NAMES}


# ----------------------------------------------------------------------------------------------------
# Blender: armature, meshes, VRM settings, export, render.

COLOURS = {
    "skin": (0.93, 0.72, 0.58), "hair": (0.23, 0.13, 0.07), "shirt": (0.16, 0.42, 0.75),
    "pants": (0.18, 0.20, 0.26), "shoe": (0.45, 0.25, 0.12), "nail": (0.98, 0.80, 0.76),
    "lid": (0.84, 0.60, 0.50), "lip": (0.78, 0.22, 0.25), "cheek": (0.95, 0.55, 0.55),
    "sclera": (0.97, 0.97, 0.95), "iris": (0.15, 0.45, 0.30), "pupil": (0.02, 0.02, 0.02),
    "mouth": (0.30, 0.04, 0.06), "teeth": (0.96, 0.95, 0.90), "tongue": (0.88, 0.38, 0.42),
}


def materials(bpy) -> dict[str, object]:
    out = {}
    for name, rgb in COLOURS.items():
        m = bpy.data.materials.new(name)
        bsdf = m.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
        bsdf.inputs["Roughness"].default_value = 0.8
        m.diffuse_color = (*rgb, 1.0)  # what Workbench shows
        out[name] = m
    return out


def build_mesh(bpy, bmesh, name: str, parts: list[Part], mats: dict, arm_obj, smooth_faces: bool):
    """One mesh object from parts, skinned to arm_obj; returns (object, {tag: first vertex}, vertex count)."""
    verts, faces, fmat, bases = [], [], [], []
    used = [k for k in COLOURS if any(k in p.m for p in parts)]
    for p in parts:
        base = sum(len(v) for v in verts)
        bases.append(base)
        verts.append(p.v)
        faces += [tuple(base + i for i in f) for f in p.f]
        fmat += [used.index(m) for m in p.m]
    allv = np.vstack(verts)
    me = bpy.data.meshes.new(name)
    me.from_pydata(allv.tolist(), [], faces)
    for k in used:
        me.materials.append(mats[k])
    me.polygons.foreach_set("material_index", fmat)
    me.polygons.foreach_set("use_smooth", [smooth_faces] * len(faces))
    bm = bmesh.new()
    bm.from_mesh(me)
    bmesh.ops.recalc_face_normals(bm, faces=bm.faces[:])
    bm.to_mesh(me)
    bm.free()
    me.update()
    obj = bpy.data.objects.new(name, me)
    bpy.context.scene.collection.objects.link(obj)
    obj.parent = arm_obj
    obj.modifiers.new("Armature", "ARMATURE").object = arm_obj
    groups = {}
    for p, base in zip(parts, bases):
        for bone, w in p.w.items():
            if bone not in groups:
                groups[bone] = obj.vertex_groups.new(name=bone)
            g = groups[bone]
            for i, wi in enumerate(w):
                if wi > 1e-4:
                    g.add([base + i], float(wi), "REPLACE")
    return obj, {p.tag: base for p, base in zip(parts, bases)}, len(allv)


def make_armature(bpy, sk):
    arm = bpy.data.armatures.new("Armature")
    obj = bpy.data.objects.new("Armature", arm)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    for name, (h, t, _) in sk.items():
        eb = arm.edit_bones.new(name)
        eb.head, eb.tail, eb.roll = h.tolist(), t.tolist(), 0.0
    for name, (_, _, parent) in sk.items():
        if parent:
            arm.edit_bones[name].parent = arm.edit_bones[parent]
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj


def setup_vrm(bpy, arm_obj, face_obj, sk) -> None:
    from io_scene_vrm.editor.extension import get_armature_extension

    ext = get_armature_extension(arm_obj.data)
    ext.spec_version = ext.SPEC_VERSION_VRM1
    vrm1 = ext.vrm1
    hb = vrm1.humanoid.human_bones
    for name in sk:
        getattr(hb, snake(name)).node.bone_name = name
    vrm1.humanoid.pose = vrm1.humanoid.POSE_REST_POSITION_POSE.identifier
    meta = vrm1.meta
    meta.vrm_name = "avatar-bridge test avatar"
    meta.version = "1.0"
    meta.authors.add().value = "avatar-bridge"
    meta.copyright_information = "CC0-1.0: dedicated to the public domain by the avatar-bridge authors"
    meta.avatar_permission = "everyone"
    meta.commercial_usage = "corporation"
    meta.credit_notation = "unnecessary"
    meta.allow_redistribution = True
    meta.modification = "allowModificationRedistribution"
    meta.allow_excessively_violent_usage = True
    meta.allow_excessively_sexual_usage = True
    meta.allow_political_or_religious_usage = True
    meta.allow_antisocial_or_hate_usage = True
    meta.other_license_url = "https://creativecommons.org/publicdomain/zero/1.0/"
    look = vrm1.look_at
    look.type = "bone"
    # glTF frame (+Y up, +Z forward): midpoint of the eyes relative to the head joint
    look.offset_from_head_bone = (0.0, EYE_Z - sk["head"][0][2], -EYE_Y)
    for rm in (look.range_map_horizontal_inner, look.range_map_horizontal_outer,
               look.range_map_vertical_down, look.range_map_vertical_up):
        rm.input_max_value, rm.output_scale = 90.0, 10.0
    ex = vrm1.expressions
    for preset, binds in PRESETS.items():
        e = getattr(ex.preset, preset)
        for key, w in binds.items():
            b = e.morph_target_binds.add()
            b.node.mesh_object_name = face_obj.name
            b.index, b.weight = key, w
    for key in ARKIT_NAMES:
        e = ex.custom.add()
        e.custom_name = key
        b = e.morph_target_binds.add()
        b.node.mesh_object_name = face_obj.name
        b.index, b.weight = key, 1.0


def render(bpy, arm_obj, face_obj, path: Path) -> None:
    """Full body, then face close-ups: neutral, happy, jawOpen + tongueOut, surprised, wink + sneer + gaze left."""
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "MATERIAL"
    scene.display.shading.show_cavity = False
    scene.view_settings.view_transform = "Standard"
    scene.render.resolution_x = scene.render.resolution_y = 360
    scene.render.film_transparent = False
    scene.render.image_settings.file_format = "PNG"
    world = bpy.data.worlds.new("bg")
    world.color = (0.85, 0.87, 0.9)
    scene.world = world
    cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    scene.collection.objects.link(cam)
    scene.camera = cam
    cam.data.type = "ORTHO"
    cam.rotation_euler = (math.radians(90), 0, 0)  # looks along +Y at the avatar's front
    keys = face_obj.data.shape_keys.key_blocks
    eyes = [arm_obj.pose.bones["leftEye"], arm_obj.pose.bones["rightEye"]]
    shots = [("body", {}, 0), ("face", {}, 0),
             ("face", {"mouthSmileLeft": 1, "mouthSmileRight": 1, "cheekSquintLeft": .6, "cheekSquintRight": .6,
                       "eyeSquintLeft": .5, "eyeSquintRight": .5}, 0),
             ("face", {"jawOpen": 1, "tongueOut": 1}, 0),
             ("face", {"eyeWideLeft": 1, "eyeWideRight": 1, "browInnerUp": 1, "browOuterUpLeft": 1,
                       "browOuterUpRight": 1, "jawOpen": .5, "mouthFunnel": .6}, 0),
             ("face", {"eyeBlinkRight": 1, "mouthSmileLeft": .8, "browDownLeft": 1, "noseSneerLeft": 1,
                       "eyeLookOutLeft": 1, "eyeLookInRight": 1}, 25)]
    tiles = []
    tmp = path.with_suffix(".tile.png")
    for kind, values, gaze in shots:
        for k in keys:
            k.value = float(values.get(k.name, 0.0))
        for e in eyes:  # gaze to the avatar's left: eyes turn about their up axis
            e.rotation_mode = "XYZ"
            e.rotation_euler = (0, 0, math.radians(gaze))
        if kind == "body":
            cam.location, cam.data.ortho_scale = (0, -3, 0.86), 1.85
        else:
            cam.location, cam.data.ortho_scale = (0, -3, 1.55), 0.25
        scene.render.filepath = str(tmp)
        bpy.ops.render.render(write_still=True)
        img = bpy.data.images.load(str(tmp))
        px = np.array(img.pixels[:], dtype=np.float32).reshape(img.size[1], img.size[0], 4)
        tiles.append(px)
        bpy.data.images.remove(img)
    tmp.unlink()
    for k in keys:
        k.value = 0.0
    for e in eyes:
        e.rotation_euler = (0, 0, 0)
    strip = np.concatenate(tiles, axis=1)
    out = bpy.data.images.new("strip", strip.shape[1], strip.shape[0], alpha=True)
    out.pixels.foreach_set(strip.ravel())
    scene.render.image_settings.color_mode = "RGB"
    scene.render.image_settings.compression = 100
    out.save_render(str(path), scene=scene)
    log(f"rendered {path} ({strip.shape[1]}x{strip.shape[0]})")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="the .vrm to write")
    ap.add_argument("--render", type=Path, help="also write a PNG strip of the avatar here")
    args = ap.parse_args(argv)
    if args.out.suffix != ".vrm":
        print(f"error: --out must end in .vrm, got {args.out}", file=sys.stderr)
        return 2

    log("starting Blender")
    import bpy  # noqa: I001 (bpy first: it puts addon_utils and bmesh on the path)
    import addon_utils
    import bmesh

    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable("io_scene_vrm", default_set=True, handle_error=None)
    if not hasattr(bpy.ops.export_scene, "vrm"):
        print("error: the VRM add-on (io_scene_vrm, pip bpy-vrm-format) did not load", file=sys.stderr)
        return 1

    sk = skeleton()
    log(f"armature: {len(sk)} bones")
    arm_obj = make_armature(bpy, sk)
    mats = materials(bpy)
    body, _, nb = build_mesh(bpy, bmesh, "Body", body_parts(sk), mats, arm_obj, False)
    log(f"body mesh: {nb} vertices")
    fparts = face_parts()
    bytag = {p.tag: p for p in fparts}
    jw = jaw_weight(bytag)
    for tag, w in jw.items():  # the chin follows the jaw bone as well as jawOpen
        bytag[tag].w = {"head": 1.0 - w, "jaw": w}
    face, offsets, nf = build_mesh(bpy, bmesh, "Face", fparts, mats, arm_obj, True)
    log(f"face mesh: {nf} vertices")
    face.shape_key_add(name="Basis", from_mix=False)
    for name, d in shapes(bytag, offsets, nf).items():
        d[np.linalg.norm(d, axis=1) < 2e-5] = 0.0  # Gaussian tails: keep the sparse accessors sparse
        key = face.shape_key_add(name=name, from_mix=False)
        co = np.empty(nf * 3)
        face.data.vertices.foreach_get("co", co)
        key.data.foreach_set("co", (co + d.ravel()).tolist())
        moved = np.linalg.norm(d, axis=1).max()
        if moved < 0.003:
            print(f"error: shape {name} moves at most {moved * 1000:.1f} mm", file=sys.stderr)
            return 1
    log(f"shape keys: {len(face.data.shape_keys.key_blocks) - 1}")
    setup_vrm(bpy, arm_obj, face, sk)
    log("VRM humanoid, meta, look-at and expressions set")
    if args.render:
        args.render.parent.mkdir(parents=True, exist_ok=True)
        render(bpy, arm_obj, face, args.render.resolve())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.object.select_all(action="DESELECT")
    res = bpy.ops.export_scene.vrm(filepath=str(args.out.resolve()), enable_advanced_preferences=True,
                                   export_try_sparse_sk=True, armature_object_name=arm_obj.name,
                                   ignore_warning=True)
    if res != {"FINISHED"}:
        print(f"error: VRM export returned {res}", file=sys.stderr)
        return 1
    log(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
