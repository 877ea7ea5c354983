"""Features of everyday activities, computed from the action model's 15 Hz window of JOINTS.

One person (`person_features`): per frame of a normalised window (action.normalise_window: hip
centred, facing +z, torso lengths, y up) the quantities that tell standing, sitting and walking
apart: hip-to-ankle height, knee and thigh angles, torso tilt, head height, ankle spread; each
summarised over the window (start, middle, end, min, max, change, spread) plus how fast the ankles,
knees and wrists move. Two people (`pair_features`): two skeletons in one camera frame (metres,
both JOINTS, y up): how close they are, how close each one's hands and feet come to the other's
body, how fast those hands and feet move, and how the gap between them changes; made symmetric
(max and min over the two orders) so it does not matter who is A.

The torso tilt is the angle of the hip->neck line to the +y axis of the joints' frame: with
MediaPipe world landmarks that is the image's vertical, so it means "to gravity" only with a
level camera (`lying_score` and `falling_score` rely on it).
"""
from __future__ import annotations

import numpy as np

from .action import J, add_derived, normalise_window

PERSON_QUANTITIES = ("leg_height", "knee_angle", "thigh_angle", "torso_tilt", "head_height", "ankle_spread",
                     "knee_above_hip")


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (degrees) between vectors a and b (..., 3)."""
    c = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def torso_tilt(joints: np.ndarray) -> np.ndarray:
    """(..., 20, 3) joints (y up) -> the hip->neck line's angle to +y, degrees (0 upright, 90 flat)."""
    return _angle(joints[..., J["neck"], :] - joints[..., J["hip_center"], :], np.array([0.0, 1.0, 0.0]))


def per_frame(norm: np.ndarray) -> np.ndarray:
    """(B, T, 20, 3) normalised windows -> (B, T, len(PERSON_QUANTITIES))."""
    n = norm
    ank = 0.5 * (n[..., J["left_ankle"], :] + n[..., J["right_ankle"], :])
    down = np.array([0.0, -1.0, 0.0])
    knee, thigh = [], []
    for s in ("left", "right"):
        hip, kn, an = n[..., J[f"{s}_hip"], :], n[..., J[f"{s}_knee"], :], n[..., J[f"{s}_ankle"], :]
        knee.append(_angle(hip - kn, an - kn))
        thigh.append(_angle(kn - hip, down))
    q = [n[..., J["hip_center"], 1] - ank[..., 1],
         0.5 * (knee[0] + knee[1]) / 90.0,
         0.5 * (thigh[0] + thigh[1]) / 90.0,
         torso_tilt(n) / 90.0,
         n[..., J["head"], 1],
         np.linalg.norm(n[..., J["left_ankle"], :] - n[..., J["right_ankle"], :], axis=-1),
         0.5 * (n[..., J["left_knee"], 1] + n[..., J["right_knee"], 1]) - n[..., J["hip_center"], 1]]
    return np.stack(q, -1).astype(np.float32)


def _summary(q: np.ndarray) -> list[np.ndarray]:
    """(B, T, Q) -> summaries over T, each (B, Q): start, middle, end, min, max, end - start, std."""
    t = q.shape[1]
    a, m, e = q[:, : t // 4].mean(1), q[:, 3 * t // 8: 5 * t // 8].mean(1), q[:, -(t // 4):].mean(1)
    return [a, m, e, q.min(1), q.max(1), e - a, q.std(1)]


def _speed(norm: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Mean and max per-sample displacement (torso lengths per 15 Hz sample) of joints, (B, 2)."""
    idx = [J[n] for n in names]
    d = np.linalg.norm(np.diff(norm[:, :, idx], axis=1), axis=-1).mean(-1)
    return np.stack([d.mean(1), d.max(1)], 1)


def smooth(norm: np.ndarray) -> np.ndarray:
    """A 5-tap binomial filter over time (B, T, ...), edges held: tracker jitter (MediaPipe's ankles
    move by several cm from frame to frame on a person standing still) aliased onto the 15 Hz grid
    would otherwise read as leg motion; walking's 1-2 Hz passes (70% at 2 Hz)."""
    p = np.concatenate([norm[:, :1], norm[:, :1], norm, norm[:, -1:], norm[:, -1:]], 1)
    t = norm.shape[1]
    return (p[:, :t] + 4 * p[:, 1:t + 1] + 6 * p[:, 2:t + 2] + 4 * p[:, 3:t + 3] + p[:, 4:t + 4]) / 16.0


def person_features(norm: np.ndarray) -> np.ndarray:
    """(B, T, 20, 3) normalised windows -> (B, F) features (the one-person activity model's input),
    computed on the smoothed window (`smooth`)."""
    norm = smooth(np.asarray(norm, np.float32))
    q = per_frame(norm)
    parts = _summary(q)
    parts += [_speed(norm, ("left_ankle", "right_ankle")), _speed(norm, ("left_knee", "right_knee")),
              _speed(norm, ("left_wrist", "right_wrist")), _speed(norm, ("head",))]
    return np.concatenate(parts, 1).astype(np.float32)


N_PERSON_FEATURES = 7 * len(PERSON_QUANTITIES) + 8


def person_windows(windows: np.ndarray) -> np.ndarray:
    """(B, T, 20, 3) raw 15 Hz windows -> person_features of their normalised versions."""
    return person_features(np.stack([normalise_window(w) for w in windows]))


# ------------------------------------------------------------------------------------- two people
_BODY = [J[n] for n in ("head", "neck", "spine", "hip_center", "left_shoulder", "right_shoulder")]
_HANDS = [J["left_hand"], J["right_hand"]]
_FEET = [J["left_foot"], J["right_foot"], J["left_ankle"], J["right_ankle"]]


def _one_way(a: np.ndarray, b: np.ndarray, unit: np.ndarray) -> list[np.ndarray]:
    """a, b: (B, T, 20, 3) metres; unit (B,) metres per torso length. a's limbs against b's body."""
    u = unit[:, None]

    def near(limbs, targets):
        d = np.linalg.norm(a[:, :, limbs, None, :] - b[:, :, None, targets, :], axis=-1)  # (B, T, L, K)
        return d.min((2, 3)) / u  # (B, T)

    hand_body = near(_HANDS, _BODY)
    foot_body = near(_FEET, _BODY + [J["left_knee"], J["right_knee"]])
    hand_hand = near(_HANDS, _HANDS)
    hand_speed = np.linalg.norm(np.diff(a[:, :, _HANDS], axis=1), axis=-1).max(-1) / u  # (B, T-1)
    foot_speed = np.linalg.norm(np.diff(a[:, :, _FEET], axis=1), axis=-1).max(-1) / u
    close = hand_body[:, 1:] < 0.6  # hand speed while the hand is near the other's body
    fast_close = np.where(close, hand_speed, 0).max(1)
    reach = np.linalg.norm(a[:, :, _HANDS] - a[:, :, [J["left_shoulder"], J["right_shoulder"]]], axis=-1).max(-1) / u
    return [hand_body.min(1), hand_body.mean(1), foot_body.min(1), foot_body.mean(1), hand_hand.min(1),
            hand_hand.mean(1), hand_speed.max(1), hand_speed.mean(1), foot_speed.max(1), foot_speed.mean(1),
            fast_close, reach.max(1), (hand_body < 0.35).mean(1), (hand_hand < 0.35).mean(1)]


def pair_features(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two people's windows (B, T, 20, 3) in one camera frame (metres, y up) -> (B, F) symmetric features."""
    a, b = add_derived(np.asarray(a, np.float32)), add_derived(np.asarray(b, np.float32))
    unit = 0.5 * (np.linalg.norm(a[:, :, J["neck"]] - a[:, :, J["hip_center"]], axis=-1).mean(1)
                  + np.linalg.norm(b[:, :, J["neck"]] - b[:, :, J["hip_center"]], axis=-1).mean(1))
    unit = np.maximum(unit, 1e-3)
    gap = np.linalg.norm(a[:, :, J["spine"]] - b[:, :, J["spine"]], axis=-1) / unit[:, None]
    t = gap.shape[1]
    shared = [gap.min(1), gap.mean(1), gap[:, -(t // 4):].mean(1) - gap[:, : t // 4].mean(1),
              np.abs(np.diff(gap, axis=1)).max(1)]
    ab, ba = _one_way(a, b, unit), _one_way(b, a, unit)
    sym = [np.maximum(x, y) for x, y in zip(ab, ba)] + [np.minimum(x, y) for x, y in zip(ab, ba)]
    return np.stack(shared + sym, 1).astype(np.float32)


N_PAIR_FEATURES = 4 + 2 * 14


# ------------------------------------------------------------------------------------- rules
def lying_score(tilt_deg: float, flat_deg: float = 60.0, width_deg: float = 15.0) -> float:
    """A torso tilt (degrees, torso_tilt) against flat_deg: 0.5 at flat_deg, 1 at flat_deg + width_deg."""
    return float(np.clip(0.5 + (tilt_deg - flat_deg) / (2 * width_deg), 0, 1))


def falling_score(times: np.ndarray, tilts: np.ndarray, within_s: float = 1.0, rise_deg: float = 40.0,
                  upright_deg: float = 35.0) -> float:
    """A fall, from torso tilts (degrees) at `times`: within the last `within_s` the torso went from
    upright (tilt below upright_deg) to at least rise_deg more tilted. 0.5 at the bar."""
    recent = np.asarray(times) >= times[-1] - within_s
    if recent.sum() < 3:
        return 0.0
    tilt = np.asarray(tilts)[recent]
    start = float(tilt[: max(1, len(tilt) // 3)].min())
    if start > upright_deg:
        return 0.0
    rise = float(tilt[-1] - start)
    return float(np.clip(0.5 + (rise - rise_deg) / rise_deg, 0, 1))
