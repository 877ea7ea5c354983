"""Training windows for the skeleton action models: random time-scaled windows, synthetic idle,
augmentation, capture at other rates, and the custom-action features (positions plus frame differences).

models/train_action.py draws its windows with `random_window` and `synthetic_idle` too, so the
shipped model and the models users teach see the same kind of examples. `captured_window` imitates
another camera: the motion sampled at 7.5-30 Hz with jittered timestamps and dropped frames, then
resampled onto the model's 15 Hz grid by `action.resample`, the function the live recognizer uses.
"""
from __future__ import annotations

import math

import numpy as np

from .action import J, JOINTS, RATE_HZ, WINDOW, add_derived, mirror_joints, resample


def random_window(seq: np.ndarray, rng: np.random.Generator, n: int = WINDOW, scale=(0.8, 1.25)) -> np.ndarray:
    """A random n-sample window of a 15 Hz sequence (T, 20, 3), time-scaled by a random factor, edge-padded."""
    f = rng.uniform(*scale)
    span = (n - 1) * f  # in source frames
    T = len(seq)
    if span >= T - 1:
        start = rng.uniform(-(span - (T - 1)), 0) if span > T - 1 else 0.0
    else:
        start = rng.uniform(0, T - 1 - span)
    pos = np.clip(start + np.arange(n) * f, 0, T - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (pos - i0)[:, None, None].astype(np.float32)
    return seq[i0] * (1 - w) + seq[i1] * w


def synthetic_idle(seq: np.ndarray, rng: np.random.Generator, n: int = WINDOW) -> np.ndarray:
    """An idle window (synthetic): the first or last frame of a real sequence held still, with 1 cm
    joint jitter, a slow sway of up to 2 cm and a small rotation about the vertical axis."""
    frame = seq[0] if rng.random() < 0.5 else seq[-1]
    t = np.arange(n) / RATE_HZ
    sway = rng.uniform(0, 0.02) * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 6.3))
    out = np.repeat(frame[None], n, 0).astype(np.float32)
    out[:, :, 0] += sway[:, None]
    out += rng.normal(0, 0.01, out.shape).astype(np.float32)
    return out


def augment(w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A normalised window (T, 20, 3), mirrored half the time, rotated about y by up to 15 degrees,
    scaled by 0.9-1.1 and jittered by 1 cm (in torso lengths)."""
    if rng.random() < 0.5:
        w = mirror_joints(w)
    a = math.radians(rng.uniform(-15, 15))
    c, s = math.cos(a), math.sin(a)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32)
    return ((w @ rot.T) * rng.uniform(0.9, 1.1) + rng.normal(0, 0.01, w.shape)).astype(np.float32)


def feature_matrix(n: int) -> np.ndarray:
    """(n, n) M: features[k] = sum_t M[k, t] p[t]: n/2 positions averaged over pairs of samples, then
    n/2 frame differences (x4, as in the MSR model) averaged the same way. Linear, so it folds into
    the first layer of the exported model (`fold_first_layer`)."""
    h = n // 2
    pool = np.zeros((h, n), np.float32)
    for k in range(h):
        pool[k, 2 * k] = pool[k, 2 * k + 1] = 0.5
    diff = np.zeros((n, n), np.float32)
    for t in range(1, n):
        diff[t, t], diff[t, t - 1] = 4.0, -4.0
    return np.concatenate([pool, pool @ diff], 0)


def features(w: np.ndarray) -> np.ndarray:
    """(B, T, 20, 3) normalised windows -> (B, T * 60) features (see feature_matrix)."""
    b, t = w.shape[:2]
    return np.einsum("kt,btc->bkc", feature_matrix(t), w.reshape(b, t, -1)).reshape(b, -1)


def fold_first_layer(w1: np.ndarray, b1: np.ndarray, mu: np.ndarray, sd: np.ndarray,
                     n: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """A first layer over standardised features ((x - mu) / sd) -> the same layer over the raw
    flattened window (n * 60), so the exported model needs no feature or scaling step."""
    w1s = w1 / sd[:, None]
    b = b1 - mu @ w1s
    c = len(JOINTS) * 3
    wk = w1s.reshape(n, c, -1)  # features are (k, c) flattened
    wt = np.einsum("kt,kch->tch", feature_matrix(n), wk)
    return wt.reshape(n * c, -1).astype(np.float32), b.astype(np.float32)


# parent of each joint (the kinematic tree bone_jitter scales along); derived joints follow add_derived
PARENT = {"spine": "hip_center", "neck": "spine", "head": "neck", "left_hip": "hip_center",
          "right_hip": "hip_center", "left_shoulder": "neck", "right_shoulder": "neck",
          **{f"{s}_{c}": f"{s}_{p}" for s in ("left", "right") for c, p in
             (("elbow", "shoulder"), ("wrist", "elbow"), ("hand", "wrist"), ("knee", "hip"),
              ("ankle", "knee"), ("foot", "ankle"))}}
_ORDER = [J[n] for n in ("spine", "neck", "head", "left_hip", "right_hip", "left_shoulder", "right_shoulder",
                         "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
                         "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot")]
_PARENT_IDX = {J[c]: J[p] for c, p in PARENT.items()}


def bone_jitter(seq: np.ndarray, rng: np.random.Generator, spread: float = 0.12) -> np.ndarray:
    """Another body: every bone (T, 20, 3) scaled by its own factor 1 +- spread (the same in every
    frame), applied from the hips outwards so the pose and its motion are kept."""
    f = rng.uniform(1 - spread, 1 + spread, len(JOINTS)).astype(np.float32)
    out = np.array(seq, np.float32, copy=True)
    for j in _ORDER:
        p = _PARENT_IDX[j]
        out[:, j] = out[:, p] + f[j] * (seq[:, j] - seq[:, p])
    return add_derived(out)


def view_change(seq: np.ndarray, rng: np.random.Generator, yaw_deg: float = 60.0, pitch_deg: float = 15.0,
                scale=(0.8, 1.25)) -> np.ndarray:
    """Another camera placement: rotated about the vertical by up to yaw_deg (facing), tilted about
    the horizontal by up to pitch_deg (camera height), scaled (body size / distance), in the sensor's frame."""
    a, b = np.radians(rng.uniform(-yaw_deg, yaw_deg)), np.radians(rng.uniform(-pitch_deg, pitch_deg))
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]], np.float32)
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]], np.float32)
    c = seq[:, J["hip_center"]].mean(0)
    return ((seq - c) @ (rx @ ry).T * rng.uniform(*scale) + c).astype(np.float32)


def capture_times(duration: float, rate: float, rng: np.random.Generator, jitter: float = 0.25,
                  drop: float = 0.1) -> np.ndarray:
    """Timestamps (s) of a camera at `rate` Hz over [0, duration]: each frame late or early by up to
    `jitter` of a period (uniform), each dropped with probability `drop`; first and last kept."""
    n = max(int(duration * rate) + 1, 2)
    t = np.arange(n) / rate + rng.uniform(-jitter, jitter, n) / rate
    keep = rng.random(n) >= drop
    keep[0] = keep[-1] = True
    t = np.sort(np.clip(t[keep], 0, duration))
    return t[np.concatenate([[True], np.diff(t) > 1e-4])]


def capture(seq: np.ndarray, src_rate: float, rate: float, rng: np.random.Generator, jitter: float = 0.25,
            drop: float = 0.1, noise_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A sequence (T, 20, 3) at src_rate as another camera would deliver it: (times, joints) sampled
    at `rate` Hz with jittered timestamps and dropped frames (capture_times), plus tracker noise."""
    src_t = np.arange(len(seq)) / src_rate
    t = capture_times(src_t[-1], rate, rng, jitter, drop)
    flat = seq.reshape(len(seq), -1)
    out = np.stack([np.interp(t, src_t, flat[:, k]) for k in range(flat.shape[1])], 1).reshape((len(t),) + seq.shape[1:])
    if noise_m:
        out = out + rng.normal(0, noise_m, out.shape)
    return t, out.astype(np.float32)


def live_resample(times: np.ndarray, joints: np.ndarray, rate: float = RATE_HZ) -> np.ndarray:
    """Captured (times, joints) -> the whole sequence on the model's grid at `rate`, ending at the
    last sample, as the live recognizer sees it (action.resample over the recording)."""
    n = int((times[-1] - times[0]) * rate + 1e-6) + 1
    return resample(joints, times, rate, n)


def captured_window(seq: np.ndarray, rng: np.random.Generator, src_rate: float = RATE_HZ, rates=(7.5, 30.0),
                    speed=(0.7, 1.4), n: int = WINDOW) -> np.ndarray:
    """A training window (n, 20, 3) as the live recognizer would build it from another camera:
    the motion played at a random speed, captured at a random rate in `rates` (log-uniform) with
    jittered timestamps, 0-25% dropped frames and 0-1.5 cm noise, resampled onto the 15 Hz grid
    with action.resample, a window ending at a random captured frame (held at the edges)."""
    rate = float(np.exp(rng.uniform(np.log(rates[0]), np.log(rates[1]))))
    t, x = capture(seq, src_rate * rng.uniform(*speed), rate, rng, rng.uniform(0, 0.4), rng.uniform(0, 0.25),
                   rng.uniform(0, 0.015))
    span = (n - 1) / RATE_HZ
    lo = min(len(t) - 1, int(np.searchsorted(t, min(t[-1], t[0] + 0.5 * span))))
    end = int(rng.integers(lo, len(t)))
    keep = t >= t[end] - span - 1.0
    keep[end + 1:] = False
    return resample(x[keep], t[keep], RATE_HZ, n)


def shrink_motion(seq: np.ndarray, rng: np.random.Generator, lo: float = 0.5) -> np.ndarray:
    """A smaller version of the same movement: each joint's motion about its mean position relative
    to the hips scaled by lo..1 (a small clap, a short wave)."""
    hip = seq[:, J["hip_center"]][:, None]
    rel = seq - hip
    mean = rel.mean(0, keepdims=True)
    return add_derived(hip + mean + rng.uniform(lo, 1.0) * (rel - mean))


# the rate protocol of the card and `avatar-bridge eval action --capture-hz`: a quarter of a period
# of timestamp jitter and one frame in ten dropped
EVAL_JITTER, EVAL_DROP = 0.25, 0.1


def recaptured(seq: np.ndarray, src_rate: float, rate: float, rng: np.random.Generator,
               jitter: float = EVAL_JITTER, drop: float = EVAL_DROP, model_rate: float = RATE_HZ) -> np.ndarray:
    """A recorded sequence as a `rate` Hz camera with irregular timing would have delivered it,
    resampled onto the model's grid the way the live recognizer does (capture, live_resample)."""
    return live_resample(*capture(seq, src_rate, rate, rng, jitter, drop), model_rate)


def proportions(seq: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another skeleton definition (Kinect's hips sit wider and higher on the pelvis than MediaPipe's):
    hip width scaled 0.4-1.3, the torso and head 0.85-1.35, legs 0.8-1.2, and the stance (knees,
    ankles, feet across, relative to the hips) 0.4-1.2, in a (T, 20, 3) sequence of a subject facing
    the sensor roughly (x across the body)."""
    out = np.array(seq, np.float32, copy=True)
    hc = out[:, J["hip_center"]][:, None]
    hips = [J["left_hip"], J["right_hip"]]
    legs = {s: [J[f"{s}_{p}"] for p in ("knee", "ankle", "foot")] for s in ("left", "right")}
    up = [J[n] for n in ("left_shoulder", "right_shoulder", "head", "left_elbow", "right_elbow", "left_wrist",
                         "right_wrist", "left_hand", "right_hand")]
    torso = rng.uniform(0.85, 1.35)
    out[:, up] = hc + (out[:, up] - hc) * torso
    old_hips = out[:, hips].copy()
    out[:, hips] = hc + (out[:, hips] - hc) * rng.uniform(0.4, 1.3)
    leg, stance = rng.uniform(0.8, 1.2), rng.uniform(0.4, 1.2)
    for k, s in enumerate(("left", "right")):
        rel = (out[:, legs[s]] - old_hips[:, k:k + 1]) * leg
        rel[..., 0] *= stance
        out[:, legs[s]] = out[:, hips[k]:hips[k] + 1] + rel
    return add_derived(out)
