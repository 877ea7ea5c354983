"""Training windows for the skeleton action models: random time-scaled windows, synthetic idle,
augmentation, and the custom-action features (positions plus frame differences).

models/train_action.py draws its windows with `random_window` and `synthetic_idle` too, so the
shipped model and the models users teach see the same kind of examples.
"""
from __future__ import annotations

import math

import numpy as np

from .action import JOINTS, RATE_HZ, WINDOW, mirror_joints


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
