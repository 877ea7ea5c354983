"""Teach your own actions: record example clips of joints, train a small ONNX model from them.

    record_examples(joint_windows, "dab", out_dir)   # CLI: avatar-bridge record-action dab
    report = train_custom(out_dir)                   # CLI: avatar-bridge train-actions

Needs nothing beyond numpy and onnxruntime: the model (an MLP over the normalised window,
positions plus frame differences) is trained with numpy (Adam, mirror/rotation/jitter/time-scale
augmentation) and written as ONNX protobuf by a small encoder below (no `onnx` package), then
loaded back with onnxruntime to measure held-out accuracy. An `idle` class is added from the
recordings themselves (a frame held still, synthetic). The result is `<out_dir>/action_custom.onnx`
with `action_custom.card.json`; run it with ActionRecognizer("action_custom", directory=out_dir).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..errors import BridgeError
from ..progress import Progress
from .action import JOINTS, RATE_HZ, WINDOW, mirror_joints, normalise_window

CUSTOM_NAME = "action_custom"
_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


# --------------------------------------------------------------------------- windows / synthetic idle

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


# --------------------------------------------------------------------------- recording

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
    root = Path(out_dir) / "examples"
    out: dict[str, list[np.ndarray]] = {}
    if root.is_dir():
        for d in sorted(p for p in root.iterdir() if p.is_dir()):
            clips = [np.load(p) for p in sorted(d.glob("*.npy"))]
            if clips:
                out[d.name] = clips
    return out


# --------------------------------------------------------------------------- features / MLP

def _feature_matrix(n: int) -> np.ndarray:
    """(n, n) M: features[k] = sum_t M[k, t] p[t]: n/2 positions averaged over pairs of samples, then
    n/2 frame differences (x4, as in the MSR model) averaged the same way. Linear, so it folds into
    the first layer of the exported model."""
    h = n // 2
    pool = np.zeros((h, n), np.float32)
    for k in range(h):
        pool[k, 2 * k] = pool[k, 2 * k + 1] = 0.5
    diff = np.zeros((n, n), np.float32)
    for t in range(1, n):
        diff[t, t], diff[t, t - 1] = 4.0, -4.0
    return np.concatenate([pool, pool @ diff], 0)


def _features(w: np.ndarray) -> np.ndarray:
    """(B, T, 20, 3) normalised windows -> (B, T * 60) features (see _feature_matrix)."""
    b, t = w.shape[:2]
    return np.einsum("kt,btc->bkc", _feature_matrix(t), w.reshape(b, t, -1)).reshape(b, -1)


def _augment(w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        w = mirror_joints(w)
    a = math.radians(rng.uniform(-15, 15))
    c, s = math.cos(a), math.sin(a)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32)
    return ((w @ rot.T) * rng.uniform(0.9, 1.1) + rng.normal(0, 0.01, w.shape)).astype(np.float32)


def _train_mlp(x: np.ndarray, y: np.ndarray, n_classes: int, hidden: int, epochs: int, seed: int,
               make_batch: Callable[[], tuple[np.ndarray, np.ndarray]], bar) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    mu = x.mean(0)
    sd = x.std(0) + 1e-3
    d_in = x.shape[1]
    W1 = (rng.normal(0, 1, (d_in, hidden)) * math.sqrt(2 / d_in)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    W2 = (rng.normal(0, 1, (hidden, n_classes)) * math.sqrt(1 / hidden)).astype(np.float32)
    b2 = np.zeros(n_classes, np.float32)
    params = [W1, b1, W2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, wd, step = 2e-3, 1e-3, 0
    pools = [(x, y)] + [make_batch() for _ in range(3)]
    for ep in range(epochs):
        xb, yb = pools[ep % len(pools)]
        xb = (xb - mu) / sd
        perm = rng.permutation(len(xb))
        tot = 0.0
        for i in range(0, len(xb), 64):
            idx = perm[i:i + 64]
            a0 = xb[idx]
            h = a0 @ W1 + b1
            mask = (h > 0) & (rng.random(h.shape) > 0.3)
            hr = np.where(mask, h, 0) / 0.7
            z = hr @ W2 + b2
            z -= z.max(1, keepdims=True)
            pz = np.exp(z)
            pz /= pz.sum(1, keepdims=True)
            onehot = np.eye(n_classes, dtype=np.float32)[yb[idx]] * 0.95 + 0.05 / n_classes
            tot += float(-(onehot * np.log(pz + 1e-9)).sum(1).sum())
            g = (pz - onehot) / len(idx)
            gW2 = hr.T @ g
            gb2 = g.sum(0)
            gh = (g @ W2.T) * mask / 0.7
            gW1 = a0.T @ gh
            gb1 = gh.sum(0)
            step += 1
            lr_t = lr * 0.5 * (1 + math.cos(math.pi * ep / epochs))
            for p, gp, mm, vv in zip(params, (gW1, gb1, gW2, gb2), m, v):
                mm *= 0.9
                mm += 0.1 * gp
                vv *= 0.999
                vv += 0.001 * gp * gp
                mh = mm / (1 - 0.9 ** step)
                vh = vv / (1 - 0.999 ** step)
                p -= lr_t * (mh / (np.sqrt(vh) + 1e-8) + wd * p)
        if bar is not None:
            bar.update(1)
            bar.set_description(f"training actions, loss {tot / len(xb):.3f}")
    return W1, b1, W2, b2, mu, sd


def _fold(W1, b1, mu, sd, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fold standardisation and the feature matrix into one matrix on the raw flattened window."""
    W1s = W1 / sd[:, None]
    b = b1 - mu @ W1s
    c = len(JOINTS) * 3
    Wk = W1s.reshape(n, c, -1)  # features are (k, c) flattened
    Wt = np.einsum("kt,kch->tch", _feature_matrix(n), Wk)
    return Wt.reshape(n * c, -1).astype(np.float32), b.astype(np.float32)


# --------------------------------------------------------------------------- a minimal ONNX writer

def _varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _f(num: int, wire: int) -> bytes:
    return _varint((num << 3) | wire)


def _int(num: int, v: int) -> bytes:
    return _f(num, 0) + _varint(v)


def _bytes(num: int, b: bytes | str) -> bytes:
    if isinstance(b, str):
        b = b.encode()
    return _f(num, 2) + _varint(len(b)) + b


def _tensor(name: str, a: np.ndarray) -> bytes:
    dt = {np.dtype(np.float32): 1, np.dtype(np.int64): 7}[a.dtype]
    return b"".join(_int(1, d) for d in a.shape) + _int(2, dt) + _bytes(8, name) + _bytes(9, a.tobytes())


def _value_info(name: str, dims: list) -> bytes:
    shape = b"".join(_bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    tensor_type = _int(1, 1) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def _node(op: str, ins: list[str], outs: list[str], name: str, attrs: dict[str, int] | None = None) -> bytes:
    b = b"".join(_bytes(1, i) for i in ins) + b"".join(_bytes(2, o) for o in outs) + _bytes(3, name) + _bytes(4, op)
    for k, v in (attrs or {}).items():
        b += _bytes(5, _bytes(1, k) + _int(3, v) + _int(20, 2))
    return b


def write_mlp_onnx(path: Path, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray, window: int) -> None:
    """joints [N, window, 20, 3] -> Reshape -> MatMul/Add/Relu -> MatMul/Add -> Softmax -> probs."""
    n_cls = W2.shape[1]
    nodes = [
        _node("Reshape", ["joints", "flat_shape"], ["flat"], "flatten"),
        _node("MatMul", ["flat", "W1"], ["h0"], "fc1"),
        _node("Add", ["h0", "b1"], ["h1"], "fc1_bias"),
        _node("Relu", ["h1"], ["h2"], "relu"),
        _node("MatMul", ["h2", "W2"], ["z0"], "fc2"),
        _node("Add", ["z0", "b2"], ["z1"], "fc2_bias"),
        _node("Softmax", ["z1"], ["probs"], "softmax", {"axis": 1}),
    ]
    inits = [_tensor("flat_shape", np.array([-1, window * len(JOINTS) * 3], np.int64)),
             _tensor("W1", np.ascontiguousarray(W1, np.float32)), _tensor("b1", np.ascontiguousarray(b1, np.float32)),
             _tensor("W2", np.ascontiguousarray(W2, np.float32)), _tensor("b2", np.ascontiguousarray(b2, np.float32))]
    graph = (b"".join(_bytes(1, n) for n in nodes) + _bytes(2, "custom_actions")
             + b"".join(_bytes(5, t) for t in inits)
             + _bytes(11, _value_info("joints", ["N", window, len(JOINTS), 3]))
             + _bytes(12, _value_info("probs", ["N", n_cls])))
    model = (_int(1, 8) + _bytes(2, "avatar-bridge custom_actions") + _bytes(7, graph)
             + _bytes(8, _bytes(1, "") + _int(2, 13)))
    path.write_bytes(model)


# --------------------------------------------------------------------------- training

def train_custom(out_dir: str | Path, epochs: int = 60, hidden: int = 64, seed: int = 0, holdout: float = 0.25,
                 progress: bool = True) -> dict:
    """Train an action model on the examples under <out_dir>/examples/ and write
    <out_dir>/action_custom.onnx + .card.json. Holds out about `holdout` of each class' clips
    (at least one) for the accuracy report, then trains the shipped model on all clips.
    Returns the report: classes, counts, held-out accuracy, per-class recall, confusion matrix, paths."""
    out = Path(out_dir)
    ex = load_examples(out)
    few = [k for k, v in ex.items() if len(v) < 2]
    if len(ex) < 1 or few:
        raise BridgeError(f"need at least 2 recorded examples of each action under {out / 'examples'} "
                          f"(too few: {', '.join(few) or 'none recorded'}): run `avatar-bridge record-action NAME`")
    classes = tuple(sorted(ex)) + ("idle",)
    rng = np.random.default_rng(seed)
    train_clips, test_clips = [], []
    for ci, name in enumerate(classes[:-1]):
        clips = ex[name]
        order = rng.permutation(len(clips))
        k = max(1, int(round(len(clips) * holdout)))
        test_clips += [(clips[i], ci) for i in order[:k]]
        train_clips += [(clips[i], ci) for i in order[k:]]

    def batches(clips, brng):
        def make():
            xs, ys = [], []
            per = max(4, 240 // max(len(clips), 1))
            for clip, ci in clips:
                for _ in range(per):
                    xs.append(_augment(normalise_window(random_window(clip, brng)), brng))
                    ys.append(ci)
            for _ in range(per * len(clips) // max(len(classes) - 1, 1)):
                clip = clips[brng.integers(len(clips))][0]
                xs.append(_augment(normalise_window(synthetic_idle(clip, brng)), brng))
                ys.append(len(classes) - 1)
            return _features(np.stack(xs)), np.array(ys)
        return make

    bar = Progress(2 * epochs, "training actions", unit="epoch", enabled=progress)
    t0 = time.time()
    # 1) held-out evaluation model
    mk = batches(train_clips, np.random.default_rng(seed + 1))
    x0, y0 = mk()
    W1, b1, W2, b2, mu, sd = _train_mlp(x0, y0, len(classes), hidden, epochs, seed, mk, bar)
    Wf, bf = _fold(W1, b1, mu, sd, WINDOW)
    out.mkdir(parents=True, exist_ok=True)
    eval_path = out / f"{CUSTOM_NAME}.heldout.onnx"
    write_mlp_onnx(eval_path, Wf, bf, W2, b2, WINDOW)
    import onnxruntime as ort
    s = ort.InferenceSession(str(eval_path), providers=["CPUExecutionProvider"])
    from .action import sequence_windows
    n = len(classes)
    cm = np.zeros((n, n), int)
    for clip, ci in test_clips:
        p = s.run(None, {"joints": sequence_windows(clip, WINDOW, 4)})[0].mean(0)
        cm[ci, int(p.argmax())] += 1
    del s
    eval_path.unlink()
    acc = float(np.trace(cm) / max(cm.sum(), 1))
    # 2) the shipped model: all clips
    all_clips = train_clips + test_clips
    mk = batches(all_clips, np.random.default_rng(seed + 2))
    x0, y0 = mk()
    W1, b1, W2, b2, mu, sd = _train_mlp(x0, y0, len(classes), hidden, epochs, seed, mk, bar)
    if bar is not None:
        bar.close()
    Wf, bf = _fold(W1, b1, mu, sd, WINDOW)
    model_path = out / f"{CUSTOM_NAME}.onnx"
    write_mlp_onnx(model_path, Wf, bf, W2, b2, WINDOW)
    per_class = {classes[i]: round(float(cm[i, i] / cm[i].sum()), 3) for i in range(n - 1) if cm[i].sum()}
    report = {
        "classes": list(classes),
        "examples": {k: len(v) for k, v in ex.items()},
        "train_clips": len(train_clips),
        "heldout_clips": len(test_clips),
        "heldout_accuracy": round(acc, 4),
        "per_class_recall": per_class,
        "confusion_matrix": cm[:-1].tolist(),
        "seconds": round(time.time() - t0, 1),
        "model": str(model_path),
    }
    card = {
        "name": CUSTOM_NAME, "file": model_path.name,
        "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "size_bytes": model_path.stat().st_size, "format": "ONNX opset 13 (written by bridge.classify.custom_actions)",
        "author": "you (avatar-bridge train-actions)", "licence": "yours",
        "source": {"training_data": str(out / "examples"), "idle": "synthetic, from your recordings"},
        "build_script": "avatar-bridge train-actions",
        "window": {"samples": WINDOW, "rate_hz": RATE_HZ, "seconds": round(WINDOW / RATE_HZ, 3)},
        "inputs": [{"name": "joints", "shape": ["N", WINDOW, len(JOINTS), 3], "dtype": "float32",
                    "joint_order": list(JOINTS), "preprocessing": "bridge.classify.action.normalise_window"}],
        "outputs": [{"name": "probs", "shape": ["N", n]}],
        "classes": list(classes),
        "measured": {"heldout_accuracy": report["heldout_accuracy"], "heldout_clips": len(test_clips),
                     "per_class_recall": per_class,
                     "how": "a model trained without the held-out clips, each clip scored by averaging its windows"},
    }
    card_path = out / f"{CUSTOM_NAME}.card.json"
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    report["card"] = str(card_path)
    return report
