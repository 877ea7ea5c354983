"""Everyday activities from the body: a learned model for what real labelled data covers, rules for the rest.

Per person (`ActivityRecognizer.update`, every frame with the action model's JOINTS, e.g. from
action.joints_from_mediapipe): the last 2.13 s are resampled to the 15 Hz grid exactly as the
action model's window is (action.resample), and
- standing, sitting, walking, sitting_down, standing_up come from `activity_person_mlp` (trained
  on KARD, validated on held-out subjects; models/train_activity.py, its card);
- lying and falling are rules (no labelled 3D skeletons of either exist in the fixtures): lying
  when the torso is tilted past 60 degrees from the vertical of the joints' frame, falling when it
  went from upright to 40 degrees more tilted within 1 s (activity_features.lying_score,
  falling_score). With MediaPipe that vertical is the image's, so they assume a level camera.
The rule scores take their share first; the model's classes share the rest; all sum to 1.

Two people (`PairActivity.update`, two skeletons in one camera frame): fighting, friendly (hand
shake, hug) or none, from `activity_pair_mlp` (trained on SBU Kinect Interaction, validated on
held-out subjects). Live, `pair_activity.PairActivityStage` runs it on every pair of tracked people,
placing MediaPipe's hip-centred skeletons in one camera frame first.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from ..classes import PAIR_ACTIVITIES, PERSON_ACTIVITIES, RULE_ACTIVITIES
from .action import RATE_HZ, WINDOW, add_derived, normalise_window, resample
from .activity_features import falling_score, lying_score, pair_features, person_features, torso_tilt
from .onnx_runner import OnnxModel

PERSON_MODEL = "activity_person_mlp"
PERSON_CLASSES = PERSON_ACTIVITIES  # the person model's outputs, in order
PAIR_CLASSES = PAIR_ACTIVITIES
HELD_ACTIVITIES = ("standing", "sitting", "walking", "lying")  # states; the transitions are one-shot events


class History:
    """Timestamped joints of the last `keep_s` seconds, and the 15 Hz window ending now."""

    def __init__(self, keep_s: float):
        self.keep_s = keep_s
        self.t: deque[float] = deque()
        self.j: deque[np.ndarray] = deque()

    def add(self, t: float, joints: np.ndarray) -> None:
        self.t.append(t)
        self.j.append(joints)
        while self.t and self.t[0] < t - self.keep_s:
            self.t.popleft()
            self.j.popleft()

    def clear(self) -> None:
        self.t.clear()
        self.j.clear()

    def window(self, rate: float, n: int) -> np.ndarray:
        return resample(np.stack(self.j), np.array(self.t), rate, n)


class ActivityRecognizer:
    """`update(t, joints) -> {activity: probability}` once per frame (joints: (20, 3) action.JOINTS,
    right-handed, y up, or None when no body is tracked: returns {} then). The model runs when a new
    15 Hz sample is due; the rules run every frame."""

    def __init__(self, model: str | OnnxModel = PERSON_MODEL, directory: Path | None = None):
        """`model`: a name, or an OnnxModel already loaded (shared by several people)."""
        self.model = model if isinstance(model, OnnxModel) else OnnxModel(model, directory)
        win = self.model.card.get("window", {})
        self.window = int(win.get("samples", WINDOW))
        self.rate = float(win.get("rate_hz", RATE_HZ))
        self.classes = tuple(self.model.classes)
        self.activities = self.classes + RULE_ACTIVITIES
        self._h = History(self.window / self.rate + 0.5)
        self._tilt = History(1.5)  # torso tilt (degrees) for the rules
        self._last_model_t = -1e9
        self._probs = np.full(len(self.classes), 1.0 / len(self.classes), np.float32)

    def reset(self) -> None:
        self._h.clear()
        self._tilt.clear()
        self._last_model_t = -1e9

    def update(self, t: float, joints: np.ndarray | None) -> dict[str, float]:
        if joints is None:
            return {}
        j = add_derived(np.asarray(joints, np.float32))
        self._h.add(t, j)
        self._tilt.add(t, float(torso_tilt(j)))
        if len(self._h.t) < 2:
            return {}
        if t - self._last_model_t >= 1.0 / self.rate - 1e-6 or t < self._last_model_t:
            win = normalise_window(self._h.window(self.rate, self.window))
            self._probs = self.model.run(person_features(win[None]))[0]
            self._last_model_t = t
        lie, fall = lying_score(self._tilt.j[-1]), falling_score(np.array(self._tilt.t), np.array(self._tilt.j))
        rest = 1.0 - max(lie, fall)
        out = {c: rest * float(p) for c, p in zip(self.classes, self._probs)}
        out["lying"], out["falling"] = lie, fall
        total = sum(out.values())
        return {k: v / total for k, v in out.items()}


class PairActivity:
    """`update(t, joints_a, joints_b) -> {fighting, friendly, none}` for two tracked people, both
    (20, 3) action.JOINTS in ONE camera frame (metres, y up: their positions relative to each
    other matter). One pair, every frame; live, pair_activity.PairActivityStage handles every pair."""

    def __init__(self, model: str = "activity_pair_mlp", directory: Path | None = None):
        self.model = OnnxModel(model, directory)
        win = self.model.card.get("window", {})
        self.window = int(win.get("samples", WINDOW))
        self.rate = float(win.get("rate_hz", RATE_HZ))
        self.classes = tuple(self.model.classes)
        self._h = History(self.window / self.rate + 0.5)
        self._last_model_t = -1e9
        self._probs: dict[str, float] = {}

    def reset(self) -> None:
        self._h.clear()
        self._last_model_t = -1e9

    def classify(self, window_a: np.ndarray, window_b: np.ndarray) -> dict[str, float]:
        """Two (T, 20, 3) windows already on the 15 Hz grid -> probabilities."""
        p = self.model.run(pair_features(np.asarray(window_a)[None], np.asarray(window_b)[None]))[0]
        return dict(zip(self.classes, (float(v) for v in p)))

    def update(self, t: float, joints_a: np.ndarray, joints_b: np.ndarray) -> dict[str, float]:
        self._h.add(t, np.concatenate([add_derived(joints_a), add_derived(joints_b)]).astype(np.float32))
        if len(self._h.t) >= 2 and (t - self._last_model_t >= 1.0 / self.rate - 1e-6 or t < self._last_model_t):
            w = self._h.window(self.rate, self.window)
            self._probs = self.classify(w[:, :20], w[:, 20:])
            self._last_model_t = t
        return self._probs
