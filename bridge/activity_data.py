"""Labelled activity windows from the real skeleton sets: what models/train_activity.py trains on and
what `avatar-bridge eval activity` and the activity cards measure.

One person (KARD, Florence 3D): a clip's activity name gives its class; sit-down and stand-up clips
are cut in time by the data (`transition`: per frame the hip-to-ankle height in torso lengths, the
transition running from 15% to 85% of the way between the clip's first and last levels), and each
32-sample window gets its class from where it lies (`person_label`). Two people (SBU): the clip's
interaction gives the class of every window. Clips are padded by holding their first and last
frames (a person keeps the pose they start and end in), re-captured as a camera at some rate would
deliver them (`simulate`: bridge.classify.action_features.capture) and resampled onto the 15 Hz
grid as the live recognizers do (live_resample).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .classify.action import RATE_HZ, WINDOW, J, mirror_joints
from .classify.action_features import (EVAL_DROP, EVAL_JITTER, bone_jitter, capture, live_resample, proportions,
                                       view_change)
from .classify.activity import PAIR_CLASSES, PERSON_CLASSES
from .classify.activity_features import pair_features
from .datasets import KARD_NAME, SBU_FPS, load_florence, load_kard, load_sbu

KARD_FPS, FLORENCE_FPS = 30.0, 7.5  # neither set states its rate: KARD's clips read as 30 Hz, Florence's as 7.5 Hz
SPAN = (WINDOW - 1) / RATE_HZ
SBU_CLASS = {1: "none", 2: "none", 3: "fighting", 4: "fighting", 5: "friendly", 6: "friendly", 7: "none", 8: "fighting"}


def transition(seq: np.ndarray, fps: float) -> tuple[float, float] | None:
    """(start, end) seconds of a sit-down / stand-up: 15% and 85% of the way between the first and
    last hip-to-ankle heights (torso lengths); None when the clip shows no clear change."""
    torso = np.linalg.norm(seq[:, J["neck"]] - seq[:, J["hip_center"]], axis=-1).mean()
    h = (seq[:, J["hip_center"], 1] - 0.5 * (seq[:, J["left_ankle"], 1] + seq[:, J["right_ankle"], 1])) / torso
    k = max(2, len(h) // 10)
    a, b = np.median(h[:k]), np.median(h[-k:])
    if abs(b - a) < 0.3:
        return None
    p = (h - a) / (b - a)
    i = int(np.argmax(p >= 0.15))
    j = i + int(np.argmax(p[i:] >= 0.85))
    return i / fps, j / fps


def person_label(kind: str, ts: float, te: float, ta: float, tb: float) -> str | None:
    """The class of the window [ts, te] of a clip of `kind` whose transition is [ta, tb]."""
    if kind in ("standing", "walking"):
        return kind
    before, after = ("standing", "sitting") if kind == "sitting_down" else ("sitting", "standing")
    if te <= ta + 0.2:
        return before
    if ts >= tb - 0.2:
        return after
    overlap = min(te, tb) - max(ts, ta)
    if ta + 0.4 <= te <= tb + 0.8 and overlap >= 0.6 * min(tb - ta, SPAN):
        return kind
    return None


def load_kard_clips(folder: Path):
    """-> [(subject, kind, seq, (ta, tb), fps)]: KARD activities 14 walk, 17 sit down, 18 stand up, the
    rest standing; sit-down / stand-up clips without a clear transition are left out."""
    out = []
    for p in sorted(folder.iterdir()):
        m = KARD_NAME.match(p.name)
        if not m:
            continue
        a, s = int(m[1]), int(m[2])
        kind = {14: "walking", 17: "sitting_down", 18: "standing_up"}.get(a, "standing")
        seq = load_kard(p)
        tr = transition(seq, KARD_FPS) if kind in ("sitting_down", "standing_up") else (0.0, 0.0)
        if tr is not None:
            out.append((s, kind, seq, tr, KARD_FPS))
    return out


def load_florence_clips(folder: Path):
    """As load_kard_clips for Florence 3D: 6 sit down, 7 stand up, the rest standing."""
    out = []
    for p in sorted(folder.iterdir()):
        m = re.match(r"a(\d+)_s(\d+)_id\d+\.txt$", p.name)
        if not m:
            continue
        a = int(m[1])
        kind = {6: "sitting_down", 7: "standing_up"}.get(a, "standing")
        seq = load_florence(p)
        tr = transition(seq, FLORENCE_FPS) if kind != "standing" else (0.0, 0.0)
        if tr is not None:
            out.append((int(m[2]), kind, seq, tr, FLORENCE_FPS))
    return out


def pad(seq: np.ndarray, fps: float, before_s: float, after_s: float) -> np.ndarray:
    """Hold the first frame before_s and the last after_s (a person keeps the pose they start/end in)."""
    return np.concatenate([np.repeat(seq[:1], int(before_s * fps), 0), seq, np.repeat(seq[-1:], int(after_s * fps), 0)])


def simulate(seq, fps, rng, train: bool, rate: float | None = None):
    """-> (grid times, 15 Hz joints, speed): the clip captured as another camera would (train: random
    rate, speed, timing, noise; else the evaluation protocol at `rate`) and resampled as live."""
    if train:
        speed = rng.uniform(0.75, 1.33)
        rate = float(np.exp(rng.uniform(np.log(7.5), np.log(30.0))))
        t, x = capture(seq, fps * speed, rate, rng, rng.uniform(0, 0.4), rng.uniform(0, 0.25), rng.uniform(0, 0.03))
    else:
        speed = 1.0
        t, x = capture(seq, fps, rate, rng, EVAL_JITTER, EVAL_DROP)
    g = live_resample(t, x)
    tg = t[-1] - np.arange(len(g))[::-1] / RATE_HZ
    return tg, g, speed


def augment_body(seq, rng):
    """Another body, skeleton definition and camera placement, mirrored half the time (training)."""
    seq = view_change(bone_jitter(proportions(seq, rng), rng), rng)
    return mirror_joints(seq) if rng.random() < 0.5 else seq


def person_windows(clips, rng, train: bool, rate=None, per_clip: int = 6, stride: int = 2):
    """Windows (raw 15 Hz) and labels from clips; train: random augmented windows, else every
    `stride`-th window of the evaluation protocol at `rate`."""
    xs, ys = [], []
    for _, kind, seq, (ta, tb), fps in clips:
        pb, pa = 1.0, 2.5
        s = pad(seq, fps, pb, pa)
        if train:
            s = augment_body(s, rng)
        tg, g, speed = simulate(s, fps, rng, train, rate)
        ta_, tb_ = (ta + pb) / speed, (tb + pb) / speed
        ends = list(range(WINDOW - 1, len(g)))
        if train:
            ends = list(rng.choice(ends, min(per_clip * 3, len(ends)), replace=False))
        else:
            ends = ends[::stride]
        got = 0
        for e in ends:
            lab = person_label(kind, tg[e] - SPAN, tg[e], ta_, tb_)
            if lab is None:
                continue
            xs.append(g[e - WINDOW + 1:e + 1])
            ys.append(PERSON_CLASSES.index(lab))
            got += 1
            if train and got >= per_clip:
                break
    return np.stack(xs), np.array(ys)


def load_sbu_clips(folder: Path):
    """-> [(pair name, subjects {a, b}, class, (T, 40, 3) both people)]"""
    out = []
    for f in sorted(folder.glob("*/*/*/skeleton_pos.txt")):
        pair, cls = f.parts[-4], int(f.parts[-3])
        a, b = load_sbu(f)
        out.append((pair, {int(pair[1:3]), int(pair[4:6])}, SBU_CLASS[cls], np.concatenate([a, b], 1)))
    return out


def pair_windows(clips, rng, train: bool, rate=None, per_clip: int = 6):
    """Raw 15 Hz window pairs (B, 32, 40, 3), labels and the clip index of each window."""
    xs, ys, ids = [], [], []
    for ci, (_, _, cls, both) in enumerate(clips):
        s = both
        if train:
            s = view_change(s, rng)
            s = np.concatenate([bone_jitter(s[:, :20], rng), bone_jitter(s[:, 20:], rng)], 1)
            if rng.random() < 0.5:
                s = np.concatenate([mirror_joints(s[:, :20]), mirror_joints(s[:, 20:])], 1)
        _, g, _ = simulate(s, SBU_FPS, rng, train, rate)
        if len(g) < WINDOW:  # short clips: held at the start, as live right after tracking starts
            g = np.concatenate([np.repeat(g[:1], WINDOW - len(g), 0), g])
        lo = max(WINDOW - 1, int(0.6 * len(g)))
        ends = range(lo, len(g))
        ends = rng.choice(list(ends), min(per_clip, len(ends)), replace=False) if train else list(ends)[::2]
        for e in ends:
            xs.append(g[e - WINDOW + 1:e + 1])
            ys.append(PAIR_CLASSES.index(cls))
            ids.append(ci)
    return np.stack(xs), np.array(ys), np.array(ids)


def pair_feats(w: np.ndarray) -> np.ndarray:
    """(B, T, 40, 3) window pairs -> pair_features."""
    return pair_features(w[:, :, :20], w[:, :, 20:])
