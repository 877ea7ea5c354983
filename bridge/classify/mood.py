"""One mood from face and body evidence, fused at the decision level.

The face's expression probabilities are the main evidence; body actions and hand gestures add
evidence for the moods they usually go with (decision-level fusion of face and body, as in Gunes &
Piccardi's bimodal face-and-body affect work). BODY_EVIDENCE is a hand-written prior, not learned:
no dataset here labels mood from body actions, so its weights are a starting point for users to
tune ([classify] mood_body_weight), not a measured result.

    mood = normalise(P_face + body_weight * sum over body classes of score * BODY_EVIDENCE[class])

Body evidence decays with time constant `hold_s`, so a clap lifts the mood for about a second
instead of one frame. Mood classes are the FER2013 expression classes.
"""
from __future__ import annotations

import numpy as np

from .expression import CLASSES

BODY_EVIDENCE: dict[tuple[str, str], dict[str, float]] = {
    ("action", "clap"): {"happy": 1.0},
    ("action", "wave"): {"happy": 1.0},
    ("action", "jump"): {"happy": 0.5, "surprise": 0.5},
    ("action", "punch"): {"angry": 1.0},
    ("action", "kick"): {"angry": 1.0},
    ("action", "head_shake"): {"angry": 0.5, "disgust": 0.5},
    ("action", "bow"): {"sad": 0.5, "neutral": 0.5},
    ("gesture", "like"): {"happy": 1.0},
    ("gesture", "peace"): {"happy": 1.0},
    ("gesture", "rock"): {"happy": 0.5, "surprise": 0.5},
    ("gesture", "dislike"): {"disgust": 1.0},
    ("gesture", "fist"): {"angry": 1.0},
}
_IDX = {c: i for i, c in enumerate(CLASSES)}
_ROWS = {k: np.array([v.get(c, 0.0) for c in CLASSES], np.float32) for k, v in BODY_EVIDENCE.items()}


class MoodFusion:
    """`update(t, classes) -> {mood: probability}` or {} when neither face nor body says anything."""

    def __init__(self, body_weight: float = 0.5, hold_s: float = 1.0):
        self.body_weight = body_weight
        self.hold_s = hold_s
        self._body = np.zeros(len(CLASSES), np.float32)
        self._t: float | None = None

    def update(self, t: float, classes: dict[str, dict[str, float]]) -> dict[str, float]:
        if self._t is not None:
            self._body *= np.float32(np.exp(-max(t - self._t, 0.0) / self.hold_s))
        self._t = t
        for (kind, name), row in _ROWS.items():
            score = classes.get(kind, {}).get(name, 0.0)
            if score > 0:
                self._body = np.maximum(self._body, row * np.float32(score))
        face = classes.get("expression")
        p = np.array([face[c] for c in CLASSES], np.float32) if face else np.zeros(len(CLASSES), np.float32)
        p += self.body_weight * self._body
        total = float(p.sum())
        if total < 1e-3:
            return {}
        return dict(zip(CLASSES, (float(v) for v in p / total)))
