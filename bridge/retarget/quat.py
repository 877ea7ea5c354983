"""Vectorised quaternion helpers; quaternions are (..., 4) arrays in (x, y, z, w) order."""
from __future__ import annotations

import math

import numpy as np

IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Rotation matrix (3x3, proper, possibly with scale) to a unit quaternion."""
    m = np.asarray(m, dtype=np.float64)[:3, :3]
    m = m / np.cbrt(max(np.linalg.det(m), 1e-12))
    t = m[0, 0] + m[1, 1] + m[2, 2]
    if t > 0:
        s = np.sqrt(t + 1.0) * 2
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    q = np.array(q)
    return q / np.linalg.norm(q)


def to_matrix(q: np.ndarray) -> np.ndarray:
    x, y, z, w = np.asarray(q, dtype=np.float64)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b (apply b, then a)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim == 1 and b.ndim == 1:  # per-frame single rotations: plain floats beat small-array numpy
        ax, ay, az, aw = a.tolist()
        bx, by, bz, bw = b.tolist()
        return np.array([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                         aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz])
    ax, ay, az, aw = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bx, by, bz, bw = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ], axis=-1)


def conjugate(q: np.ndarray) -> np.ndarray:
    out = np.array(q, dtype=np.float64, copy=True)
    out[..., :3] = -out[..., :3]
    return out


def axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Quaternion(s) for rotation by `angle` radians about unit `axis` (broadcasts)."""
    half = np.asarray(angle, dtype=np.float64)[..., None] / 2
    return np.concatenate([np.asarray(axis) * np.sin(half), np.cos(half)], axis=-1)


def from_euler_unity(pitch_x: np.ndarray, yaw_y: np.ndarray, roll_z: np.ndarray | float = 0.0) -> np.ndarray:
    """Unity's Quaternion.Euler(x, y, z) in radians: rotates Z, then X, then Y (q = qy * qx * qz)."""
    cx, sx = np.cos(np.asarray(pitch_x) / 2), np.sin(np.asarray(pitch_x) / 2)
    cy, sy = np.cos(np.asarray(yaw_y) / 2), np.sin(np.asarray(yaw_y) / 2)
    cz, sz = np.cos(np.asarray(roll_z) / 2), np.sin(np.asarray(roll_z) / 2)
    return np.stack(np.broadcast_arrays(
        cy * sx * cz + sy * cx * sz,
        sy * cx * cz - cy * sx * sz,
        cy * cx * sz - sy * sx * cz,
        cy * cx * cz + sy * sx * sz,
    ), axis=-1)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Shortest-path spherical interpolation, vectorised over leading axes."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim == 1 and b.ndim == 1 and np.ndim(t) == 0:
        return _slerp1(a.tolist(), b.tolist(), float(t))
    t = np.asarray(t, dtype=np.float64)
    dot = np.sum(a * b, axis=-1)
    b = np.where((dot < 0)[..., None], -b, b)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_t = np.sin(theta)
    small = sin_t < 1e-6
    safe = np.where(small, 1.0, sin_t)
    wa = np.where(small, 1 - t, np.sin((1 - t) * theta) / safe)
    wb = np.where(small, t, np.sin(t * theta) / safe)
    out = wa[..., None] * a + wb[..., None] * b
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def _slerp1(a: list[float], b: list[float], t: float) -> np.ndarray:
    dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]
    if dot < 0:
        b, dot = [-v for v in b], -dot
    theta = math.acos(min(dot, 1.0))
    st = math.sin(theta)
    if st < 1e-6:
        wa, wb = 1 - t, t
    else:
        wa, wb = math.sin((1 - t) * theta) / st, math.sin(t * theta) / st
    out = [wa * x + wb * y for x, y in zip(a, b)]
    n = math.sqrt(sum(v * v for v in out))
    return np.array([v / n for v in out])


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dot = np.abs(np.sum(np.asarray(a) * np.asarray(b), axis=-1))
    return 2 * np.arccos(np.clip(dot, -1.0, 1.0))


def to_euler_deg(q: np.ndarray) -> tuple[float, float, float]:
    """(pitch about X, yaw about Y, roll about Z) in degrees, inverse of from_euler_unity."""
    m = to_matrix(q)
    pitch = np.degrees(np.arcsin(np.clip(-m[1, 2], -1, 1)))
    yaw = np.degrees(np.arctan2(m[0, 2], m[2, 2]))
    roll = np.degrees(np.arctan2(m[1, 0], m[1, 1]))
    return float(pitch), float(yaw), float(roll)
