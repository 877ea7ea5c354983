"""Body actions from a sliding window of joints: an ONNX temporal model plus transparent rules.

Joint set (JOINTS, 20 joints, the Kinect v1 order that MSR Action3D files use, established from the
data: a standing subject's first frames put joint 19 highest (head), 15-18 lowest (ankles, feet),
and in single-arm actions, which MSR subjects performed with the right arm, joints 8/10/12 move).
Both MediaPipe Pose (33 landmarks, `joints_from_mediapipe`) and a Kinect v1 skeleton
(`load_msr_skeleton`) map onto it. The derived joints neck, spine and hip_center are recomputed
from shoulders and hips for every source, so both sources define them the same way.

Normalisation (`normalise_window`, the model input): per frame the hip centre is the origin; the
window is rotated about the vertical axis so that the subject's mean shoulder+hip line is the x
axis; positions are divided by the window's mean torso length (neck to hip centre, about 0.45 m on
an adult). Axes after normalisation (right-handed): +x the subject's left, +y up, +z the subject's
forward (the VRM/glTF convention). Input coordinates must be right-handed with y up: Kinect camera
space as is (x to the sensor's left, y up, z away from the sensor; retarget/conventions.py);
MediaPipe world landmarks are converted by `joints_from_mediapipe` (conventions.kinect_points,
indices from bridge/landmarks.py). A mirrored (selfie) image labels
the left side as right: pass mirrored=True there and the labels and x are swapped back.

The model was trained with mirror augmentation, so it recognises actions done with either side.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import landmarks as LM
from ..classes import RULE_ACTIONS
from ..retarget.conventions import MP_WORLD_TO_SUBJECT, kinect_points, reflect_x_pos
from .onnx_runner import OnnxModel

JOINTS = (
    "left_shoulder", "right_shoulder", "neck", "spine", "left_hip", "right_hip", "hip_center",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot", "head",
)
J = {n: i for i, n in enumerate(JOINTS)}
# left <-> right permutation for mirroring
MIRROR = np.array([JOINTS.index(n.replace("left_", "@").replace("right_", "left_").replace("@", "right_"))
                   for n in JOINTS])

WINDOW = 32  # samples per window
RATE_HZ = 15.0  # the window's sample rate (MSR Action3D's capture rate): 32 samples = 2.13 s

# MSR Action3D classes (a01..a20) and how they map onto avatar actions
MSR_ACTIONS = ("high_arm_wave", "horizontal_arm_wave", "hammer", "hand_catch", "forward_punch", "high_throw",
               "draw_x", "draw_tick", "draw_circle", "hand_clap", "two_hand_wave", "side_boxing", "bend",
               "forward_kick", "side_kick", "jogging", "tennis_swing", "tennis_serve", "golf_swing",
               "pick_up_and_throw")
AVATAR_FROM_MODEL = {
    "wave": ("high_arm_wave", "horizontal_arm_wave", "two_hand_wave"),
    "clap": ("hand_clap",),
    "punch": ("forward_punch", "side_boxing"),
    "kick": ("forward_kick", "side_kick"),
    "bow": ("bend",),
    "idle": ("idle",),
}
# held states get start/end events; the others are one-shot triggers
HELD_ACTIONS = ("idle", "raise_hand", "squat")


def add_derived(j: np.ndarray) -> np.ndarray:
    """Recompute neck, spine, hip_center from shoulders and hips (any leading shape, (..., 20, 3))."""
    j = np.array(j, dtype=np.float32, copy=True)
    j[..., J["neck"], :] = 0.5 * (j[..., J["left_shoulder"], :] + j[..., J["right_shoulder"], :])
    j[..., J["hip_center"], :] = 0.5 * (j[..., J["left_hip"], :] + j[..., J["right_hip"], :])
    j[..., J["spine"], :] = 0.5 * (j[..., J["neck"], :] + j[..., J["hip_center"], :])
    return j


def joints_from_mediapipe(world: np.ndarray, mirrored: bool = False) -> np.ndarray:
    """MediaPipe Pose world landmarks (33, 3+) -> (20, 3) JOINTS in Kinect camera space (the frame the
    model was trained in). Hands: mid-knuckles; feet: between heel and foot index; head: between the ears."""
    w = kinect_points(np.asarray(world)[:, :3])
    p = LM.POSE
    out = np.zeros((20, 3), np.float32)
    for side in ("left", "right"):
        for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            out[J[f"{side}_{joint}"]] = w[p[f"{side}_{joint}"]]
        out[J[f"{side}_hand"]] = 0.5 * (w[p[f"{side}_pinky"]] + w[p[f"{side}_index"]])
        out[J[f"{side}_foot"]] = 0.5 * (w[p[f"{side}_heel"]] + w[p[f"{side}_foot_index"]])
    out[J["head"]] = 0.5 * (w[LM.L_EAR] + w[LM.R_EAR])
    out = add_derived(out)
    return mirror_joints(out) if mirrored else out


def mirror_joints(j: np.ndarray) -> np.ndarray:
    """Mirror a skeleton (..., 20, 3): swap left/right labels and negate x."""
    return reflect_x_pos(np.asarray(j, dtype=np.float32)[..., MIRROR, :]).astype(np.float32)


def load_msr_skeleton(path: str | Path) -> np.ndarray:
    """An MSR Action3D `*_skeleton3D.txt` file -> (T, 20, 3) metres (Kinect camera space), derived
    joints recomputed. Raises ValueError on a malformed file."""
    a = np.loadtxt(path, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] != 4 or len(a) % 20 or len(a) == 0:
        raise ValueError(f"{path}: expected lines of `x y z confidence`, 20 per frame")
    return add_derived(a.reshape(-1, 20, 4)[:, :, :3])


def normalise_window(seq: np.ndarray) -> np.ndarray:
    """(T, 20, 3) joints (right-handed, y up) -> the model input (T, 20, 3); see the module doc."""
    seq = add_derived(seq)
    x = seq - seq[:, J["hip_center"]][:, None]
    across = (x[:, J["left_shoulder"]] - x[:, J["right_shoulder"]]) + (x[:, J["left_hip"]] - x[:, J["right_hip"]])
    v = across.mean(0)
    ang = math.atan2(v[2], v[0])  # rotate about y so that `across` (towards the subject's left) is +x
    c, s = math.cos(ang), math.sin(ang)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32)
    x = x @ rot.T
    torso = float(np.linalg.norm(x[:, J["neck"]] - x[:, J["hip_center"]], axis=-1).mean())
    return (x / max(torso, 1e-6)).astype(np.float32)


def resample(seq: np.ndarray, times: np.ndarray, rate: float = RATE_HZ, n: int = WINDOW) -> np.ndarray:
    """Linear resampling of (T, ...) samples at `times` (s) to the last `n` instants at `rate` Hz."""
    flat = seq.reshape(len(seq), -1)
    if len(times) == 1:
        return np.repeat(flat, n, axis=0).astype(np.float32).reshape((n,) + seq.shape[1:])
    ts = times[-1] - np.arange(n)[::-1] / rate
    # np.interp's result for every column at once; the edge values are held outside `times`
    hi = np.clip(np.searchsorted(times, ts, side="right"), 1, len(times) - 1)
    lo = hi - 1
    w = np.clip((ts - times[lo]) / np.maximum(times[hi] - times[lo], 1e-12), 0.0, 1.0)[:, None]
    out = flat[lo] + w * (flat[hi] - flat[lo])
    return out.astype(np.float32).reshape((n,) + seq.shape[1:])


def sequence_windows(seq: np.ndarray, n: int = WINDOW, stride: int = 8) -> np.ndarray:
    """All windows of a 15 Hz sequence (edge-padded when shorter than n) -> (W, n, 20, 3) normalised."""
    if len(seq) < n:
        pad = n - len(seq)
        seq = np.concatenate([np.repeat(seq[:1], pad // 2, 0), seq, np.repeat(seq[-1:], pad - pad // 2, 0)])
    starts = list(range(0, len(seq) - n + 1, stride))
    if starts[-1] != len(seq) - n:
        starts.append(len(seq) - n)
    return np.stack([normalise_window(seq[s:s + n]) for s in starts])


# ---------------------------------------------------------------------------------------------
# Rule-based detectors for classes no public labelled data covers. Each returns a score 0..1.
# ---------------------------------------------------------------------------------------------

def vertical_from_pose(landmarks: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float] | None:
    """MediaPipe Pose image landmarks (33, 3; normalized, y down) -> (hip centre, mean ankle) heights
    in torso lengths, up positive, in the (fixed) camera image: the `vertical` input of jump.
    None when the torso is degenerate (e.g. a body seen edge-on from above)."""
    w, h = image_size
    p = np.asarray(landmarks, np.float64)[:, :2] * (w, h)
    shoulders = 0.5 * (p[LM.L_SH] + p[LM.R_SH])
    hips = 0.5 * (p[LM.L_HIP] + p[LM.R_HIP])
    torso = float(np.linalg.norm(shoulders - hips))
    if torso < 1e-3 * h:
        return None
    ankles = 0.5 * (p[LM.L_ANK, 1] + p[LM.R_ANK, 1])
    up = MP_WORLD_TO_SUBJECT[1]  # image y points down
    return up * hips[1] / torso, up * ankles / torso


def head_angles(q_xyzw: np.ndarray) -> tuple[float, float]:
    """Head quaternion (x, y, z, w; Unity frame, as in FaceState.head_rotation) -> (pitch, yaw)
    degrees, from the rotated forward axis (+z): positive pitch looks down, positive yaw right."""
    x, y, z, w = (float(v) for v in q_xyzw)
    fx = 2 * (x * z + w * y)
    fy = 2 * (y * z - w * x)
    fz = 1 - 2 * (x * x + y * y)
    return math.degrees(math.atan2(-fy, math.hypot(fx, fz))), math.degrees(math.atan2(fx, fz))


def oscillation(sig: np.ndarray, min_swing: float) -> tuple[int, float]:
    """Swings of at least `min_swing` in a signal (hysteresis turning points): returns (number of
    reversals after the first swing, peak-to-peak). Down-up-down is 2 reversals."""
    sig = np.asarray(sig, dtype=np.float64)
    if len(sig) < 3:
        return 0, 0.0
    rev, direction = 0, 0
    lo = hi = ext = sig[0]
    for v in sig[1:]:
        if direction == 0:
            lo, hi = min(lo, v), max(hi, v)
            if v - lo >= min_swing:
                direction, ext = 1, v
            elif hi - v >= min_swing:
                direction, ext = -1, v
        elif direction == 1:
            if v > ext:
                ext = v
            elif ext - v >= min_swing:
                rev, direction, ext = rev + 1, -1, v
        else:
            if v < ext:
                ext = v
            elif v - ext >= min_swing:
                rev, direction, ext = rev + 1, 1, v
    return rev, float(sig.max() - sig.min())


@dataclass
class RuleSettings:
    head_window_s: float = 1.5  # nod / shake look at the last 1.5 s of head angles
    head_min_swing_deg: float = 6.0  # each half-swing at least this many degrees
    head_min_reversals: int = 2  # down-up-down (or left-right-left)
    head_cross_ratio: float = 0.6  # the other axis' peak-to-peak must stay below this fraction
    raise_margin: float = 0.15  # wrist above the head by this many torso lengths
    squat_ratio: float = 0.7  # hip-to-ankle height below this fraction of the standing height
    jump_rise: float = 0.2  # hips AND ankles rise this many torso lengths above their 1 s baseline
    still_std: float = 0.06  # every joint's std over the last second below this (torso lengths): still


def head_rules(times: np.ndarray, pitch_yaw: np.ndarray, s: RuleSettings = RuleSettings()) -> dict[str, float]:
    """nod: pitch swings >= head_min_swing_deg with >= head_min_reversals reversals in the last
    head_window_s while yaw stays small; head_shake: the same on yaw. Scores 0..1 (0.5 at the bar)."""
    out = {"nod": 0.0, "head_shake": 0.0}
    recent = times >= times[-1] - s.head_window_s
    if recent.sum() < 5:
        return out
    p, y = pitch_yaw[recent, 0], pitch_yaw[recent, 1]
    rp, pp = oscillation(p, s.head_min_swing_deg)
    ry, py = oscillation(y, s.head_min_swing_deg)
    if rp >= s.head_min_reversals and py < s.head_cross_ratio * pp:
        out["nod"] = min(1.0, 0.5 + 0.5 * pp / (4 * s.head_min_swing_deg))
    if ry >= s.head_min_reversals and pp < s.head_cross_ratio * py:
        out["head_shake"] = min(1.0, 0.5 + 0.5 * py / (4 * s.head_min_swing_deg))
    return out


def leg_height(norm_frame: np.ndarray) -> float:
    """Hip centre above the mean ankle height (torso lengths) in one normalised frame."""
    return float(norm_frame[J["hip_center"], 1] - 0.5 * (norm_frame[J["left_ankle"], 1] + norm_frame[J["right_ankle"], 1]))


def knee_angles(f: np.ndarray) -> tuple[float, float]:
    """Hip-knee-ankle angles (degrees, 180 = straight) of both legs in one frame."""
    out = []
    for s in ("left", "right"):
        a = f[J[f"{s}_hip"]] - f[J[f"{s}_knee"]]
        b = f[J[f"{s}_ankle"]] - f[J[f"{s}_knee"]]
        c = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9))
        out.append(math.degrees(math.acos(max(-1.0, min(1.0, c)))))
    return out[0], out[1]


def body_rules(norm_frame: np.ndarray, standing_leg: float | None, s: RuleSettings = RuleSettings()) -> dict[str, float]:
    """raise_hand: a wrist above the head by raise_margin torso lengths; squat: hip-to-ankle height
    below squat_ratio of the standing height. Scores 0..1 (0.5 at the bar)."""
    top = max(norm_frame[J["left_wrist"], 1], norm_frame[J["right_wrist"], 1])
    margin = top - norm_frame[J["head"], 1]
    out = {"raise_hand": float(np.clip(0.5 + (margin - s.raise_margin) / (2 * s.raise_margin), 0, 1)), "squat": 0.0}
    if standing_leg:
        ratio = leg_height(norm_frame) / standing_leg
        out["squat"] = float(np.clip(0.5 + (s.squat_ratio - ratio) / 0.2, 0, 1))
    return out


def jump_rule(times: np.ndarray, vertical: np.ndarray, s: RuleSettings = RuleSettings()) -> float:
    """vertical (T, 2): hip-centre and mean-ankle heights (torso lengths, up positive) in a fixed
    camera frame. A jump lifts both above their low baseline (20th percentile of the last 1 s);
    standing up from a squat lifts only the hips. Score 0..1 (0.5 at the bar)."""
    recent = times >= times[-1] - 1.0
    if recent.sum() < 3:
        return 0.0
    base = np.percentile(vertical[recent], 20, axis=0)
    rise = float(min(vertical[-1, 0] - base[0], vertical[-1, 1] - base[1]))
    return float(np.clip(0.5 + (rise - s.jump_rise) / (2 * s.jump_rise), 0, 1))


def stillness(norm: np.ndarray) -> float:
    """The largest per-joint standard deviation (torso lengths) over a stretch of normalised frames:
    below RuleSettings.still_std the body counts as still (tracker jitter of a few mm stays far below)."""
    if len(norm) < 2:
        return 0.0
    return float(np.linalg.norm(norm.std(0), axis=-1).max())


class ActionRecognizer:
    """Per-frame: `update(t, joints=..., head_rotation=..., vertical=...) -> {action: probability}`.

    joints: (20, 3) JOINTS (use joints_from_mediapipe / a Kinect skeleton), right-handed, y up, or
    None when no body is tracked. head_rotation: FaceState.head_rotation (xyzw) or None. vertical: hip
    centre and mean ankle heights in a fixed camera frame in torso lengths (up positive; e.g. from the
    image landmarks) for jump, or None.
    The model runs when a new 15 Hz sample is due (about 0.1 ms); the rest is numpy bookkeeping.
    Returns ACTIONS: wave, clap, punch, kick, bow, idle (model), raise_hand, nod, head_shake, jump,
    squat (rules); `model_probs` holds the model's own classes of the last run.
    """

    def __init__(self, model: str | OnnxModel = "action_msr_tcn", directory: Path | None = None,
                 rules: RuleSettings = RuleSettings(), history_s: float = 3.0):
        """`model`: a name (or .onnx path), or an OnnxModel already loaded (shared by several people)."""
        self.model = model if isinstance(model, OnnxModel) else OnnxModel(model, directory)
        inp = self.model.card["inputs"][0]
        self.window = int(inp["shape"][1])
        self.rate = float(self.model.card.get("window", {}).get("rate_hz", RATE_HZ))
        self.rules = rules
        self.history_s = max(history_s, self.window / self.rate + 0.5)
        self._t: deque[float] = deque()
        self._j: deque[np.ndarray] = deque()
        self._head_t: deque[float] = deque()
        self._head: deque[tuple[float, float]] = deque()
        self._root_t: deque[float] = deque()
        self._root: deque[float] = deque()
        self._last_model_t = -1e9
        self._model_probs = np.full(len(self.model.classes), 1.0 / len(self.model.classes), np.float32)
        self._standing_leg: float | None = None
        self.model_probs: dict[str, float] = {}
        amap = self.model.card.get("avatar_map") or {c: [c] for c in self.model.classes}
        self.avatar_map = {k: tuple(v) for k, v in amap.items()}
        self.actions = tuple(self.avatar_map) + tuple(a for a in RULE_ACTIONS if a not in self.avatar_map)

    def reset(self) -> None:
        """Forget the history (e.g. after a tracking loss); the learned standing height is kept."""
        for d in (self._t, self._j, self._head_t, self._head, self._root_t, self._root):
            d.clear()
        self._last_model_t = -1e9
        self._model_probs[:] = 1.0 / len(self._model_probs)

    @staticmethod
    def _trim(ts: deque, vals: deque, t: float, keep: float) -> None:
        while ts and ts[0] < t - keep:
            ts.popleft()
            vals.popleft()

    def update(self, t: float, joints: np.ndarray | None = None, head_rotation: np.ndarray | None = None,
               vertical: tuple[float, float] | None = None) -> dict[str, float]:
        """One frame at time t (seconds). Returns {action: probability 0..1} for self.actions."""
        if joints is not None:
            self._t.append(t)
            self._j.append(add_derived(np.asarray(joints, np.float32)))
            self._trim(self._t, self._j, t, self.history_s)
        if head_rotation is not None:
            self._head_t.append(t)
            self._head.append(head_angles(head_rotation))
            self._trim(self._head_t, self._head, t, self.history_s)
        if vertical is not None:
            self._root_t.append(t)
            self._root.append(tuple(float(v) for v in vertical))
            self._trim(self._root_t, self._root, t, self.history_s)

        out = {k: 0.0 for k in self.actions}
        have_body = len(self._t) >= 2 and self._t[-1] == t
        if have_body:
            times = np.array(self._t)
            seq = np.stack(self._j)
            if t - self._last_model_t >= 1.0 / self.rate - 1e-6:
                win = resample(seq, times, self.rate, self.window)
                self._model_probs = self.model.run(normalise_window(win)[None])[0]
                self._last_model_t = t
            probs = dict(zip(self.model.classes, (float(p) for p in self._model_probs)))
            for avatar, names in self.avatar_map.items():
                out[avatar] = sum(probs.get(n, 0.0) for n in names)
            self.model_probs = probs
            recent = times >= t - 1.0
            norm = normalise_window(seq[recent])
            if stillness(norm) < self.rules.still_std and min(knee_angles(norm[-1])) > 150:
                # standing still with straight knees: learn the standing hip-to-ankle height
                leg = leg_height(norm[-1])
                self._standing_leg = leg if self._standing_leg is None else max(0.999 * self._standing_leg, leg)
            out.update(body_rules(norm[-1], self._standing_leg, self.rules))
            if "idle" in out and (out["raise_hand"] > 0.5 or out["squat"] > 0.5):
                out["idle"] = min(out["idle"], 1 - max(out["raise_hand"], out["squat"]))
        if self._head and self._head_t[-1] == t:
            out.update(head_rules(np.array(self._head_t), np.array(self._head), self.rules))
        if self._root and self._root_t[-1] == t:
            out["jump"] = jump_rule(np.array(self._root_t), np.array(self._root), self.rules)
        return out
