"""Per-limb presence gating for bone rotations: hold, ease to rest, blend back in.

A limb (a group of bones) is "seen" while its landmarks are visible. While it is not, its bones
keep the last good rotations for `hold_s`, then their weight eases to 0 over `ease_out_s`; the
solver outputs slerp(rest, rotation, weight), so the limb settles into its rest pose instead of
following landmarks that are guesses. When it is seen again its weight returns to 1 over
`ease_in_s` while tracking the live rotation. Visibility uses hysteresis (on >= `on`, off < `off`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..filters import OneEuroQuat
from . import quat


@dataclass(frozen=True, slots=True)
class GateSettings:
    visible_on: float = 0.6
    visible_off: float = 0.4
    hold_s: float = 0.3
    ease_out_s: float = 0.6
    ease_in_s: float = 0.25


class LimbGate:
    def __init__(self, groups: dict[str, np.ndarray], n_bones: int, settings: GateSettings = GateSettings()):
        self.groups = {g: np.asarray(i, dtype=np.intp) for g, i in groups.items()}
        self.n = n_bones
        self.s = settings
        self.reset()

    def reset(self) -> None:
        self.held = np.tile(quat.IDENTITY, (self.n, 1))
        self._have = np.zeros(self.n, bool)
        self.weight = {g: 0.0 for g in self.groups}
        self.seen = {g: False for g in self.groups}
        self._last_seen = {g: -np.inf for g in self.groups}
        self._t: float | None = None

    def visible(self, group: str, score: float) -> bool:
        """Hysteresis on a visibility score 0..1 (e.g. the min over a limb's landmarks)."""
        thr = self.s.visible_off if self.seen[group] else self.s.visible_on
        return bool(score >= thr)

    def __call__(self, rot: np.ndarray, seen: dict[str, bool], t: float, still: bool = False,
                 rest: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """rot (N, 4) live rotations -> (rotations with unseen limbs held (N, 4), per-bone weight (N,)).

        `rest` (N, 4) is used for bones of limbs never seen yet. `still`: unrelated images, no easing.
        """
        dt = 0.0 if self._t is None or still else max(0.0, t - self._t)
        self._t = t
        out = np.array(rot, dtype=np.float64, copy=True)
        w = np.zeros(self.n)
        for g, idx in self.groups.items():
            s = bool(seen.get(g, False))
            self.seen[g] = s
            if s:
                self._last_seen[g] = t
                self.held[idx] = out[idx]
                self._have[idx] = True
                self.weight[g] = 1.0 if still or self.s.ease_in_s <= 0 else min(1.0, self.weight[g] + dt / self.s.ease_in_s)
            else:
                never = ~self._have[idx]
                held = self.held[idx].copy()
                if rest is not None:
                    held[never] = rest[idx][never]
                out[idx] = held
                if still or self.s.ease_out_s <= 0:
                    self.weight[g] = 0.0
                elif t - self._last_seen[g] > self.s.hold_s:
                    self.weight[g] = max(0.0, self.weight[g] - dt / self.s.ease_out_s)
            w[idx] = self.weight[g]
        return out, w


class RotationSmoother:
    """OneEuroQuat over a fixed set of bones plus the rest blend; in still mode it passes through."""

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float = 1.0):
        self.filter = OneEuroQuat(min_cutoff, beta, d_cutoff)

    def reset(self) -> None:
        self.filter.reset()

    def __call__(self, rot: np.ndarray, weight: np.ndarray, rest: np.ndarray, t: float, still: bool) -> np.ndarray:
        q = rot if still else self.filter(rot, t)
        out = quat.slerp(rest, q, weight)
        # keep a continuous sign per bone (slerp picks the shortest path from rest; follow the filter's hemisphere)
        flip = np.sum(out * q, axis=-1) < 0
        out[flip] = -out[flip]
        return out
