"""Static hand gestures from the 21 hand landmarks, by finger geometry (no model to train).

A finger is extended when its joints are nearly straight (the angles at its PIP and DIP joints,
or IP for the thumb) and its tip is farther from the wrist than its PIP joint (MediaPipe sometimes
draws curled fingers of a side-on fist straight but folded back); the thumb also counts as folded
when its tip lies across the palm. Classes
follow HaGRID's names: like (thumb up), dislike (thumb down), fist, palm, one, peace, ok, rock,
and l_sign (HaGRID v2's thumb_index, the "loser" L): thumb and index out, the rest curled. Its index
must be as straight as a pointing finger (`one`) and its thumb out as in `like`; the angle between
the thumb (MCP to tip) and the index (MCP to tip) must lie between 45 and 120 degrees. A drawn L is
a right angle, but in MediaPipe's world landmarks the thumbs of real L hands (ASL L photos, HaGRID
v2 thumb_index) lie 50-80 degrees from the index, while a thumb held along it (ASL P, Q) stays
under 41. Measured on HaGRID photos (../shared/fixtures/gesture) and, for l_sign, on ASL letter
photos and HaGRID v2 samples (docs/models.md).
"""
from __future__ import annotations

import numpy as np

from ..classes import GESTURES
from ..landmarks import FINGER_CHAINS, WRIST

THUMB, INDEX, MIDDLE, RING, LITTLE = (FINGER_CHAINS[f] for f in ("Thumb", "Index", "Middle", "Ring", "Little"))
L_MIN_DEG, L_MAX_DEG = 45.0, 120.0  # thumb-to-index angle of an L; 45 chosen on ASL signers 1-2 (docs/models.md)


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Angle at b (degrees) between b->a and b->c; 180 is straight."""
    u, v = a - b, c - b
    cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def l_sign(p: np.ndarray) -> bool:
    """Thumb and a pointing index at 45..120 degrees. `p`: (21, 3) world landmarks whose thumb and
    index alone are extended. A pointing index is straight at its PIP joint (above 155 degrees, where
    `extended` admits 140 for the spread fingers of an open palm): a half-curled index beside a
    thumbs-up is not an L."""
    straight = _angle(p[INDEX[0]], p[INDEX[1]], p[INDEX[2]]) > 155.0
    index_dir = p[INDEX[3]] - p[INDEX[0]]
    return straight and L_MIN_DEG <= _angle(p[THUMB[3]], p[THUMB[1]], p[THUMB[1]] + index_dir) <= L_MAX_DEG


def extended(world: np.ndarray, straight_deg: float = 140.0) -> np.ndarray:
    """(5,) bool: thumb, index, middle, ring, little extended. world: (21, 3) hand world landmarks."""
    p = np.asarray(world, dtype=np.float64)
    out = np.zeros(5, bool)
    for k, (mcp, pip, dip, tip) in enumerate((INDEX, MIDDLE, RING, LITTLE), start=1):
        out[k] = (_angle(p[mcp], p[pip], p[dip]) > straight_deg and _angle(p[pip], p[dip], p[tip]) > straight_deg - 20
                  and np.linalg.norm(p[tip] - p[WRIST]) > np.linalg.norm(p[pip] - p[WRIST]))
    palm = np.linalg.norm(p[INDEX[0]] - p[LITTLE[0]]) + 1e-9
    tip_to_palm = np.linalg.norm(p[THUMB[3]] - p[MIDDLE[0]]) / palm
    out[0] = _angle(p[THUMB[1]], p[THUMB[2]], p[THUMB[3]]) > straight_deg - 10 and tip_to_palm > 1.0
    return out


def classify(world: np.ndarray, image: np.ndarray) -> dict[str, float]:
    """Scores 0..1 per gesture (one is 1, the rest 0, or all 0 when nothing matches).

    world: (21, 3) metres; image: (21, 3) normalized image landmarks (y down), for thumb up/down.
    """
    p = np.asarray(world, dtype=np.float64)
    ext = extended(p)
    thumb, fingers = ext[0], ext[1:]
    palm = np.linalg.norm(p[INDEX[0]] - p[LITTLE[0]]) + 1e-9
    pinch = np.linalg.norm(p[THUMB[3]] - p[INDEX[3]]) / palm
    out = dict.fromkeys(GESTURES, 0.0)
    name = None
    if pinch < 0.8 and fingers[1:].sum() >= 2:  # thumb and index touch, two or more others up
        name = "ok"
    elif fingers.all():
        name = "palm"
    elif not fingers.any():
        if thumb:
            up = image[THUMB[3], 1] < image[THUMB[1], 1]  # image y grows downwards
            name = "like" if up else "dislike"
        else:
            name = "fist"
    elif fingers.tolist() == [True, False, False, False]:
        name = "l_sign" if thumb and l_sign(p) else "one"
    elif fingers.tolist() == [True, True, False, False]:
        name = "peace"
    elif fingers.tolist() == [True, False, False, True]:
        name = "rock"
    if name is not None:
        out[name] = 1.0
    return out


def classify_hands(hands) -> dict[str, float]:
    """Scores of one frame's hands (HandObservations): per gesture the highest over the hands, as
    either hand showing a gesture counts. The live classifier stage and `avatar-bridge eval gesture`
    both read gestures through this one rule."""
    scores = dict.fromkeys(GESTURES, 0.0)
    for h in hands:
        for k, v in classify(h.world, h.landmarks).items():
            scores[k] = max(scores[k], v)
    return scores
