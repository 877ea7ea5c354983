"""One Euro filters (Casiez et al., CHI 2012), vectorised over channels, plus a rotation-aware variant.

Jitter is removed at low speed (cutoff near `min_cutoff` Hz) while fast motion passes with
little lag (cutoff rises by `beta` per unit/s of speed).
"""
from __future__ import annotations

import numpy as np

from .retarget import quat


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    tau = 1.0 / (2 * np.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


class _OneEuroBase:
    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0):
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError


class OneEuro(_OneEuroBase):
    """Filters an array of any shape; each element is its own channel."""

    def reset(self) -> None:
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t is None or t <= self._t or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.copy()
        dt = t - self._t
        dx = (x - self._x) / dt
        self._dx += _alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        self._x += _alpha(cutoff, dt) * (x - self._x)
        self._t = t
        return self._x.copy()


class OneEuroQuat(_OneEuroBase):
    """One Euro on rotations: speed is angular (rad/s), smoothing is a slerp, signs stay continuous.

    Works on (N, 4) arrays of quaternions; each row is filtered independently.
    """

    def reset(self) -> None:
        self._q: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, q: np.ndarray, t: float) -> np.ndarray:
        q = np.asarray(q, dtype=np.float64).reshape(-1, 4)
        if self._q is None or self._t is None or t <= self._t or self._q.shape != q.shape:
            self._q, self._speed, self._t = q.copy(), np.zeros(q.shape[0]), t
            return q.copy()
        # Keep the input on the same hemisphere as the state: q and -q are the same rotation.
        q = np.where((np.sum(q * self._q, axis=1) < 0)[:, None], -q, q)
        dt = t - self._t
        speed = quat.angle_between(q, self._q) / dt
        self._speed += _alpha(self.d_cutoff, dt) * (speed - self._speed)
        alpha = _alpha(self.min_cutoff + self.beta * self._speed, dt)
        if q.shape[0] == 1:  # the head: the scalar slerp is several times cheaper than the batched one
            self._q = quat.slerp(self._q[0], q[0], float(alpha[0]))[None]
        else:
            self._q = quat.slerp(self._q, q, alpha)
        self._t = t
        return self._q.copy()
