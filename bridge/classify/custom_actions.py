"""Teach your own actions: record example clips of joints, train a small ONNX model from them.

    record_from_source(source, "dab", out_dir)       # CLI: avatar-bridge record-action dab
    record_examples(joint_windows, "dab", out_dir)   # the same from joints already tracked
    report = train_custom(out_dir)                   # CLI: avatar-bridge train-actions

This module keeps the example store and runs the steps: windows and augmentation
(action_features), an MLP over positions plus frame differences fitted by scikit-learn
(action_training), the ONNX file (onnx_export), the card (action_card). The exported model is
loaded back with onnxruntime to measure held-out accuracy. An `idle` class is added from the
recordings themselves (a frame held still, synthetic). The result is `<out_dir>/action_custom.onnx`
with `action_custom.card.json`; run it with ActionRecognizer("action_custom", directory=out_dir).
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import BridgeError
from ..progress import Progress
from .action import JOINTS, WINDOW, normalise_window, sequence_windows
from .action_features import augment, features, random_window, synthetic_idle

CUSTOM_NAME = "action_custom"
_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


def record_from_source(source, name: str, out_dir: str | Path, seconds: float = 10.0,
                       progress: bool = True) -> list[Path]:
    """Tracks the body in `source` (a camera: for `seconds`; a video: to its end), resamples the
    joints to the model's rate and saves overlapping clips of action `name`; returns their paths."""
    from ..tracking.pose import PoseTracker
    from .action import RATE_HZ, joints_from_mediapipe, resample
    joints, times = [], []
    with PoseTracker(still_images=source.still) as pose, \
            Progress(int(seconds * source.fps) if source.live else None, f"recording {name}",
                     enabled=progress) as bar:
        while (f := source.read()) is not None and not (source.live and f.source_time > seconds):
            obs = pose.process(f.rgb, int(f.source_time * 1000))
            if obs is not None:
                joints.append(joints_from_mediapipe(obs.world))
                times.append(f.source_time)
            bar.update(1)
    if len(joints) < 8:
        raise BridgeError(f"the body was seen in only {len(joints)} frames: stand so the camera sees you from head to knees")
    t = np.asarray(times)
    seq = resample(np.stack(joints), t, RATE_HZ, max(WINDOW, int((t[-1] - t[0]) * RATE_HZ)))
    clips = [seq[s:s + WINDOW] for s in range(0, max(1, len(seq) - WINDOW + 1), max(1, WINDOW // 2))]
    return record_examples(clips, name, out_dir)


def record_examples(joint_windows: Iterable[np.ndarray], name: str, out_dir: str | Path) -> list[Path]:
    """Save example clips of one action. Each clip: (T, 20, 3) joints in JOINTS order sampled at
    15 Hz (bridge.classify.action.resample), right-handed, y up (joints_from_mediapipe gives that);
    T >= 8. Files go to <out_dir>/examples/<name>/<n>.npy; returns their paths."""
    if not _NAME_RE.match(name):
        raise BridgeError(f"action name {name!r} is not allowed: use 1-40 letters, digits, '_' or '-'")
    if name == "idle":
        raise BridgeError("`idle` is added automatically from your recordings: record a different action name")
    d = Path(out_dir) / "examples" / name
    d.mkdir(parents=True, exist_ok=True)
    start = len(list(d.glob("*.npy")))
    paths = []
    for k, clip in enumerate(joint_windows):
        a = np.asarray(clip, dtype=np.float32)
        if a.ndim != 3 or a.shape[1:] != (len(JOINTS), 3) or len(a) < 8:
            raise BridgeError(f"example {k} of {name!r} has shape {a.shape}: expected (T >= 8, 20, 3) joints")
        if not np.isfinite(a).all():
            raise BridgeError(f"example {k} of {name!r} contains NaN/inf joints: record it again")
        p = d / f"{start + k:04d}.npy"
        np.save(p, a)
        paths.append(p)
    return paths


def load_examples(out_dir: str | Path) -> dict[str, list[np.ndarray]]:
    """{action name: its clips}, from <out_dir>/examples/<name>/*.npy in name and file order."""
    root = Path(out_dir) / "examples"
    out: dict[str, list[np.ndarray]] = {}
    if root.is_dir():
        for d in sorted(p for p in root.iterdir() if p.is_dir()):
            clips = [np.load(p) for p in sorted(d.glob("*.npy"))]
            if clips:
                out[d.name] = clips
    return out


def _pool_maker(clips: list[tuple[np.ndarray, int]], idle: int, rng: np.random.Generator):
    """() -> one pool of augmented windows: about 240 of the recorded actions (at least 4 per clip)
    plus one action's worth of synthetic idle, as (features, labels)."""
    def make() -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        per = max(4, 240 // len(clips))
        for clip, ci in clips:
            for _ in range(per):
                xs.append(augment(normalise_window(random_window(clip, rng)), rng))
                ys.append(ci)
        for _ in range(per * len(clips) // max(idle, 1)):
            clip = clips[rng.integers(len(clips))][0]
            xs.append(augment(normalise_window(synthetic_idle(clip, rng)), rng))
            ys.append(idle)
        return features(np.stack(xs)), np.array(ys)
    return make


def _confusion(model_path: Path, clips: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """Run the ONNX file on each clip's windows (stride 4), average them: the (n, n) confusion matrix."""
    import onnxruntime as ort
    s = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    cm = np.zeros((n, n), int)
    for clip, ci in clips:
        p = s.run(None, {"joints": sequence_windows(clip, WINDOW, 4)})[0].mean(0)
        cm[ci, int(p.argmax())] += 1
    return cm


def train_custom(out_dir: str | Path, epochs: int = 60, hidden: int = 64, seed: int = 0, holdout: float = 0.25,
                 progress: bool = True) -> dict:
    """Train an action model on the examples under <out_dir>/examples/ and write
    <out_dir>/action_custom.onnx + .card.json. Holds out about `holdout` of each class' clips
    (at least one) for the accuracy report, then trains the shipped model on all clips.
    Returns the report: classes, counts, held-out accuracy, per-class recall, confusion matrix, paths."""
    # imported here so that record-action does not load scikit-learn and onnx
    from .action_card import write_custom_card
    from .action_training import train_mlp
    from .onnx_export import write_mlp_onnx

    out = Path(out_dir)
    ex = load_examples(out)
    few = [k for k, v in ex.items() if len(v) < 2]
    if len(ex) < 1 or few:
        raise BridgeError(f"need at least 2 recorded examples of each action under {out / 'examples'} "
                          f"(too few: {', '.join(few) or 'none recorded'}): run `avatar-bridge record-action NAME`")
    classes = tuple(sorted(ex)) + ("idle",)
    n = len(classes)
    rng = np.random.default_rng(seed)
    train_clips, test_clips = [], []
    for ci, name in enumerate(classes[:-1]):
        clips = ex[name]
        order = rng.permutation(len(clips))
        k = max(1, int(round(len(clips) * holdout)))
        test_clips += [(clips[i], ci) for i in order[:k]]
        train_clips += [(clips[i], ci) for i in order[k:]]

    out.mkdir(parents=True, exist_ok=True)
    shape = (WINDOW, len(JOINTS), 3)
    t0 = time.time()
    with Progress(2 * epochs, "training actions", unit="epoch", enabled=progress) as bar:
        def on_epoch(loss: float) -> None:
            bar.update(1)
            bar.set_description(f"training actions, loss {loss:.3f}")

        # 1) held-out evaluation model
        mlp = train_mlp(_pool_maker(train_clips, n - 1, np.random.default_rng(seed + 1)), n, hidden, epochs, seed,
                        on_epoch=on_epoch)
        eval_path = out / f"{CUSTOM_NAME}.heldout.onnx"
        write_mlp_onnx(eval_path, mlp.w1, mlp.b1, mlp.w2, mlp.b2, shape)
        cm = _confusion(eval_path, test_clips, n)
        eval_path.unlink()
        # 2) the shipped model: all clips
        mlp = train_mlp(_pool_maker(train_clips + test_clips, n - 1, np.random.default_rng(seed + 2)), n, hidden,
                        epochs, seed, on_epoch=on_epoch)
    model_path = out / f"{CUSTOM_NAME}.onnx"
    write_mlp_onnx(model_path, mlp.w1, mlp.b1, mlp.w2, mlp.b2, shape)
    acc = round(float(np.trace(cm) / max(cm.sum(), 1)), 4)
    per_class = {classes[i]: round(float(cm[i, i] / cm[i].sum()), 3) for i in range(n - 1) if cm[i].sum()}
    card_path = write_custom_card(model_path, list(classes), out / "examples",
                                  {"heldout_accuracy": acc, "heldout_clips": len(test_clips),
                                   "per_class_recall": per_class})
    return {
        "classes": list(classes),
        "examples": {k: len(v) for k, v in ex.items()},
        "train_clips": len(train_clips),
        "heldout_clips": len(test_clips),
        "heldout_accuracy": acc,
        "per_class_recall": per_class,
        "confusion_matrix": cm[:-1].tolist(),
        "seconds": round(time.time() - t0, 1),
        "model": str(model_path),
        "card": str(card_path),
    }
