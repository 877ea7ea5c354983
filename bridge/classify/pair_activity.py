"""Two-person activities live: every pair of people tracked in a frame -> fighting / friendly / none.

The pipeline calls `PairActivityStage.update(t, people, image_size)` once per frame with each
tracked person's id and pose (None while unseen). MediaPipe's pose world landmarks are centred on
each person's own hips, and the pair model needs both people in one camera frame (how close they
are, whose hand reaches whose body), so each skeleton is first placed in the camera's frame
(`camera_world`): the translation that projects its world landmarks onto its image landmarks
through a pinhole camera of an assumed horizontal field of view (linear least squares, weighted by
visibility). Gaps across the image come out independent of that assumption (the focal length
cancels); gaps in depth scale with it.

Each pair's joints, both from the same frame, go into a history; the 15 Hz window, its resampling
and `pair_features` are those of `activity.PairActivity` and of the offline evaluation
(`avatar-bridge eval activity` on SBU). The model runs for a pair at most `model_hz` times a
second (its window is 2.1 s long, so its output moves slowly), only when both people were seen
since its last run, with every due pair in one batch; in between the last scores are returned.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

from ..landmarks import POSE
from .action import joints_from_mediapipe
from .activity import PairActivity, History
from .activity_features import pair_features

_BODY = np.arange(POSE["left_shoulder"], len(POSE))  # shoulders to feet: the face's points add little


def camera_world(landmarks: np.ndarray, world: np.ndarray, visibility: np.ndarray,
                 image_size: tuple[int, int], hfov_deg: float = 60.0) -> np.ndarray:
    """A pose's (33, 3) world landmarks (metres, hips at 0; x right, y down, z away from the camera)
    moved into the camera's frame: + T, the translation whose pinhole projection (focal length from
    `hfov_deg` and the image width, centre in the middle) best fits the (33, 2+) normalized image
    landmarks. For each point u (pixels from the centre) = f (X + Tx) / (Z + Tz), linear in T."""
    w, h = image_size
    f = 0.5 * w / np.tan(np.radians(hfov_deg) / 2)
    uv = (np.asarray(landmarks)[_BODY, :2] - 0.5) * (w, h)
    p = np.asarray(world, np.float64)[_BODY]
    wt = np.sqrt(np.clip(np.asarray(visibility)[_BODY], 0.05, 1.0))
    n = len(_BODY)
    a = np.zeros((2 * n, 3))
    a[:n, 0] = a[n:, 1] = f
    a[:n, 2], a[n:, 2] = -uv[:, 0], -uv[:, 1]
    b = np.concatenate([uv[:, 0] * p[:, 2] - f * p[:, 0], uv[:, 1] * p[:, 2] - f * p[:, 1]])
    t = np.linalg.lstsq(a * np.tile(wt, 2)[:, None], b * np.tile(wt, 2), rcond=None)[0]
    t[2] = max(t[2], 0.3)  # a fit behind the camera (a pose MediaPipe got wrong): held at arm's length
    return (np.asarray(world, np.float64) + t).astype(np.float32)


@dataclass
class _Pair:
    history: History
    seen_t: float = -np.inf  # last frame with both people
    run_t: float = -np.inf  # last model run
    fresh: bool = False  # a frame with both people since the last run
    scores: dict[str, float] = field(default_factory=dict)


class PairActivityStage:
    """`update(t, people, image_size) -> {(id_a, id_b): {fighting, friendly, none}}` once per frame.
    people: (person id, PoseObservation or None) for everyone tracked this frame; pairs are keyed
    with the smaller id first. A pair unseen for `stale_s` (or whose person left the list) starts
    afresh when seen again."""

    def __init__(self, model_hz: float = 5.0, stale_s: float = 0.5, hfov_deg: float = 60.0,
                 model: str = "activity_pair_mlp", directory: Path | None = None):
        self.pair = PairActivity(model, directory)
        self.classes = self.pair.classes
        self.model_hz, self.stale_s, self.hfov_deg = model_hz, stale_s, hfov_deg
        self._keep_s = self.pair.window / self.pair.rate + 0.5
        self._pairs: dict[tuple[int, int], _Pair] = {}
        self.batches = 0  # model runs (each one batch of pairs), for the rate checks

    def reset(self) -> None:
        self._pairs.clear()

    def update(self, t: float, people: list, image_size: tuple[int, int]) -> dict[tuple[int, int], dict[str, float]]:
        joints = [(pid, None if pose is None else joints_from_mediapipe(
            camera_world(pose.landmarks, pose.world, pose.visibility, image_size, self.hfov_deg)))
            for pid, pose in people]
        return self.update_joints(t, joints)

    def update_joints(self, t: float, people: list) -> dict[tuple[int, int], dict[str, float]]:
        """As update, with each person already as (20, 3) action.JOINTS in one camera frame (metres, y up)."""
        ids = {pid for pid, _ in people}
        for key, p in list(self._pairs.items()):
            if not set(key) <= ids or t - p.seen_t > self.stale_s or t < p.seen_t:
                del self._pairs[key]
        seen = dict(sorted((pid, j) for pid, j in people if j is not None))
        for a, b in combinations(seen, 2):
            p = self._pairs.setdefault((a, b), _Pair(History(self._keep_s)))
            p.history.add(t, np.concatenate([seen[a], seen[b]]).astype(np.float32))
            p.seen_t, p.fresh = t, True
        due = [k for k, p in self._pairs.items()
               if p.fresh and len(p.history.t) >= 2 and t - p.run_t >= 1.0 / self.model_hz - 1e-6]
        if due:
            w = np.stack([self._pairs[k].history.window(self.pair.rate, self.pair.window) for k in due])
            probs = self.pair.model.run(pair_features(w[:, :, :20], w[:, :, 20:]))
            self.batches += 1
            for k, pr in zip(due, probs):
                p = self._pairs[k]
                p.scores, p.run_t, p.fresh = dict(zip(self.classes, (float(v) for v in pr))), t, False
        return {k: p.scores for k, p in self._pairs.items() if p.scores}


def per_person(pairs: dict[tuple[int, int], dict[str, float]]) -> dict[int, dict[str, float]]:
    """Each person's scores from the pair they are most engaged in (the lowest `none`): what a
    person's `classes` would carry."""
    out: dict[int, dict[str, float]] = {}
    for key, s in pairs.items():
        for pid in key:
            if pid not in out or s.get("none", 0.0) < out[pid].get("none", 0.0):
                out[pid] = s
    return out
