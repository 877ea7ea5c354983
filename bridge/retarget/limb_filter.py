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
    """Vectorised over bones and groups: each bone belongs to at most one group (none: passed through, weight 0)."""

    def __init__(self, groups: dict[str, np.ndarray], n_bones: int, settings: GateSettings = GateSettings()):
        self.groups = {g: np.asarray(i, dtype=np.intp) for g, i in groups.items()}
        self.names = tuple(self.groups)
        self._index = {g: k for k, g in enumerate(self.names)}
        self.n = n_bones
        self.s = settings
        self._group_of = np.full(n_bones, -1, dtype=np.intp)
        for k, idx in enumerate(self.groups.values()):
            if np.any(self._group_of[idx] >= 0):
                raise ValueError("a bone may belong to one limb group only")
            self._group_of[idx] = k
        self._in_group = self._group_of >= 0
        self.reset()

    def reset(self) -> None:
        self.held = np.tile(quat.IDENTITY, (self.n, 1))
        self._have = np.zeros(self.n, bool)
        self._weight = np.zeros(len(self.names))
        self._seen = np.zeros(len(self.names), bool)
        self._last_seen = np.full(len(self.names), -np.inf)
        self._t: float | None = None

    @property
    def weight(self) -> dict[str, float]:
        """Per-group presence weight 0..1."""
        return dict(zip(self.names, self._weight.tolist()))

    @property
    def seen(self) -> dict[str, bool]:
        return dict(zip(self.names, self._seen.tolist()))

    def visible(self, group: str, score: float) -> bool:
        """Hysteresis on a visibility score 0..1 (e.g. the min over a limb's landmarks)."""
        thr = self.s.visible_off if self._seen[self._index[group]] else self.s.visible_on
        return bool(score >= thr)

    def __call__(self, rot: np.ndarray, seen: dict[str, bool], t: float, still: bool = False,
                 rest: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """rot (N, 4) live rotations -> (rotations with unseen limbs held (N, 4), per-bone weight (N,)).

        `rest` (N, 4) is used for bones of limbs never seen yet. `still`: unrelated images, no easing.
        """
        dt = 0.0 if self._t is None or still else max(0.0, t - self._t)
        self._t = t
        s = np.array([bool(seen.get(g, False)) for g in self.names])
        self._seen = s
        self._last_seen[s] = t
        bone_seen = s[self._group_of] & self._in_group
        unseen = self._in_group & ~bone_seen
        out = np.array(rot, dtype=np.float64, copy=True)
        self.held[bone_seen] = out[bone_seen]
        self._have |= bone_seen
        out[unseen] = (self.held[unseen] if rest is None else
                       np.where(self._have[unseen, None], self.held[unseen], rest[unseen]))
        w, st = self._weight, self.s
        up = np.ones_like(w) if still or st.ease_in_s <= 0 else np.minimum(1.0, w + dt / st.ease_in_s)
        down = (np.zeros_like(w) if still or st.ease_out_s <= 0 else
                np.where(t - self._last_seen > st.hold_s, np.maximum(0.0, w - dt / st.ease_out_s), w))
        self._weight = np.where(s, up, down)
        return out, np.where(self._in_group, self._weight[self._group_of], 0.0)


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
