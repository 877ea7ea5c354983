"""Train the skeleton action model on MSR Action3D and export it to ONNX (reproducible, seeded).

    pip install torch==2.13.0 tqdm matplotlib    # training-only dependencies
    python models/train_action.py [--epochs 60]

Data: ../shared/fixtures/action/msr_action3d/ (Kinect v1, 15 Hz, 20 joints, metres). Protocol: the
557 sequences listed in the folder's files_used_in_cvpr12_paper.txt (one of them, a13_s09_e02, is
empty in this copy, so 556 are used), cross-subject split: subjects 1,3,5,7,9 train, 2,4,6,8,10
test (the standard one). Classes: the 20 MSR actions plus `idle`, which no dataset here labels:
idle windows are synthetic (a real first or last frame of a training sequence held still, with
1 cm joint jitter and a slow sway), stated as such in the card.

Input: windows of 32 samples at 15 Hz (2.13 s) of the 20 joints, normalised by
bridge.classify.action.normalise_window (hip-centred per frame, rotated to face +z, torso length
units). A sequence is classified by averaging the softmax over its windows (stride 4); the live
recognizer runs the same model on the last 2.13 s.
Augmentation, `--recipe`: msr (the default, the recipe of the shipped model): a random window
time-scaled 0.8-1.25, then after normalisation rotation about y +-15 degrees, scale 0.9-1.1, 1 cm
jitter. mixed (other sensors, people and rates; bridge.classify.action_features): half the windows
as msr, half built as the live recognizer builds one from another camera (`captured_window`): the
motion played at 0.8-1.25x speed, captured at a random 7.5-30 Hz (log-uniform) with timestamps
jittered by up to 40% of a period, 0-25% of frames dropped and 0-1.5 cm tracker noise, then
resampled onto the 15 Hz grid by action.resample (the live function); before that another body
(`bone_jitter`, each bone +-8%), camera placement (`view_change`: facing +-30 degrees, tilt +-10,
scale 0.9-1.1), a smaller movement 30% of the time (`shrink_motion` 0.6-1), hands put on the
wrists 30% of the time (as the 15-joint sets give them), mirrored half the time (MSR's classes are
not sided, so labels stay). Idle windows (synthetic, below) get the same treatment.
Model: a temporal CNN (positions and frame differences -> 4 conv1d blocks -> mean+max pooling ->
linear), softmax output. No model selection on the test subjects: the last epoch is exported.
Measured (write_card): the standard protocol (files at 15 Hz), and each test sequence captured at
7.5, 15 and 30 Hz (timestamps jittered by 25% of a period, 10% of frames dropped, seeded) and
resampled to 15 Hz as live: per-class recall at each rate. Writes models/action_msr_tcn.onnx (or
--out), its card and docs/models/<name>_confusion.png.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from bridge.classify.action import (J, JOINTS, MSR_ACTIONS, RATE_HZ, WINDOW, AVATAR_FROM_MODEL,  # noqa: E402
                                    load_msr_skeleton, mirror_joints, normalise_window,
                                    sequence_windows)
from bridge.classify.action_features import (bone_jitter, captured_window, random_window,  # noqa: E402
                                             shrink_motion, synthetic_idle, view_change)

FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
MSR = FIXTURES / "action" / "msr_action3d"
CLASSES = MSR_ACTIONS + ("idle",)
TRAIN_SUBJECTS = (1, 3, 5, 7, 9)


def load_msr(folder: Path = MSR):
    """-> list of (name, action index 0..19, subject, (T, 20, 3) array)."""
    listed = set((folder / "files_used_in_cvpr12_paper.txt").read_text().split())
    out = []
    for name in sorted(listed):
        p = folder / f"{name}_skeleton3D.txt"
        try:
            seq = load_msr_skeleton(p)
        except (ValueError, OSError):
            continue  # a13_s09_e02 is empty in this copy
        out.append((name, int(name[1:3]) - 1, int(name[5:7]), seq))
    return out


def build_model(n_classes: int, window: int = WINDOW, width: int = 64):
    import torch
    import torch.nn as nn

    class TCN(nn.Module):
        def __init__(self):
            super().__init__()
            c = len(JOINTS) * 3 * 2

            def blk(i, o, k, d=1):
                return nn.Sequential(nn.Conv1d(i, o, k, padding=d * (k // 2), dilation=d, bias=False),
                                     nn.BatchNorm1d(o), nn.ReLU())
            self.body = nn.Sequential(blk(c, width, 5), blk(width, width, 5, 2), nn.MaxPool1d(2),
                                      blk(width, 2 * width, 3), blk(2 * width, 2 * width, 3, 2))
            self.drop = nn.Dropout(0.3)
            self.fc = nn.Linear(4 * width, n_classes)

        def forward(self, x):  # x: (N, T, 20, 3)
            n, t = x.shape[0], x.shape[1]
            p = x.reshape(n, t, -1)
            v = torch.cat([torch.zeros_like(p[:, :1]), p[:, 1:] - p[:, :-1]], 1) * 4.0
            h = self.body(torch.cat([p, v], 2).transpose(1, 2))
            h = torch.cat([h.mean(2), h.amax(2)], 1)
            return self.fc(self.drop(h))

    return TCN()


def train_window(seq: np.ndarray, rng: np.random.Generator, recipe: str = "msr") -> np.ndarray:
    """One augmented, normalised training window from a 15 Hz sequence (see the module doc).
    msr: the shipped model's recipe (a random time-scaled window, rotation, scale, jitter). mixed:
    half of the windows that way, half as another camera, body and sensor would give them."""
    if recipe == "msr" or rng.random() < 0.5:
        return augment_window(normalise_window(random_window(seq, rng)), rng)
    seq = view_change(bone_jitter(seq, rng, 0.08), rng, 30.0, 10.0, (0.9, 1.1))
    if rng.random() < 0.3:
        seq = shrink_motion(seq, rng, 0.6)
    if rng.random() < 0.3:  # the 15-joint sets (KARD, Florence) give one joint for wrist and hand
        seq = seq.copy()
        seq[:, [J["left_hand"], J["right_hand"]]] = seq[:, [J["left_wrist"], J["right_wrist"]]]
    if rng.random() < 0.5:
        seq = mirror_joints(seq)
    return augment_window(normalise_window(captured_window(seq, rng, RATE_HZ, speed=(0.8, 1.25))), rng)


def augment_window(w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A normalised window (T, 20, 3) -> rotated about y, scaled, jittered."""
    a = math.radians(rng.uniform(-15, 15))
    c, s = math.cos(a), math.sin(a)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float32)
    w = (w @ rot.T) * rng.uniform(0.9, 1.1)
    return (w + rng.normal(0, 0.01, w.shape)).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description="train the MSR Action3D skeleton action model")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--per-seq", type=int, default=8, help="random windows per training sequence per epoch")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE / "action_msr_tcn.onnx")
    ap.add_argument("--recipe", choices=("msr", "mixed"), default="msr",
                    help="augmentation: msr (the shipped model's) or mixed (half as other cameras/bodies would give)")
    ap.add_argument("--card-only", action="store_true", help="only measure --out again and rewrite its card")
    a = ap.parse_args()

    import torch
    import torch.nn as nn
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    data = load_msr()
    train = [d for d in data if d[2] in TRAIN_SUBJECTS]
    test = [d for d in data if d[2] not in TRAIN_SUBJECTS]
    print(f"{len(data)} sequences: {len(train)} train (subjects {TRAIN_SUBJECTS}), {len(test)} test")
    if a.card_only:
        write_card(a.out, test, train, rng)
        return
    idle_id = CLASSES.index("idle")

    net = build_model(len(CLASSES))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    bar = tqdm(range(a.epochs), desc="training", file=sys.stdout) if tqdm else range(a.epochs)
    t0 = time.time()
    for ep in bar:
        xs, ys = [], []
        for _, label, _, seq in train:
            for _ in range(a.per_seq):
                xs.append(train_window(seq, rng, a.recipe))
                ys.append(label)
        for _ in range(len(train) * a.per_seq // 20):  # about one class' worth of idle
            seq = train[rng.integers(len(train))][3]
            if a.recipe == "msr":
                xs.append(augment_window(normalise_window(synthetic_idle(seq, rng)), rng))
            else:
                xs.append(train_window(synthetic_idle(seq, rng, 48), rng, a.recipe))
            ys.append(idle_id)
        x = torch.from_numpy(np.stack(xs))
        y = torch.tensor(ys)
        perm = torch.randperm(len(x))
        net.train()
        tot = 0.0
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            loss = loss_fn(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss) * len(idx)
        sched.step()
        torch.save({"epoch": ep + 1, "model": net.state_dict(), "opt": opt.state_dict()}, a.out.with_suffix(".ckpt"))
        if tqdm:
            bar.set_postfix(loss=f"{tot / len(x):.3f}")
        else:
            print(f"epoch {ep + 1}/{a.epochs} loss {tot / len(x):.3f}", flush=True)
    print(f"trained in {time.time() - t0:.0f} s")

    net.eval()

    class Export(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            return torch.softmax(self.m(x), 1)

    torch.onnx.export(Export(net).eval(), torch.zeros(1, WINDOW, len(JOINTS), 3), str(a.out), input_names=["joints"],
                      output_names=["probs"], dynamic_axes={"joints": {0: "N"}, "probs": {0: "N"}}, opset_version=13,
                      dynamo=False)
    write_card(a.out, test, train, rng)


def evaluate_onnx(onnx_path: Path, test) -> tuple[np.ndarray, np.ndarray]:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    preds, labels = [], []
    for _, label, _, seq in test:
        p = s.run(None, {"joints": sequence_windows(seq, WINDOW, 4)})[0].mean(0)
        preds.append(int(p.argmax()))
        labels.append(label)
    return np.array(labels), np.array(preds)


def write_card(onnx_path: Path, test, train, rng) -> None:
    import onnxruntime as ort
    labels, preds = evaluate_onnx(onnx_path, test)
    n = len(CLASSES)
    cm = np.zeros((n, n), int)
    for t, p in zip(labels, preds):
        cm[t, p] += 1
    acc = float((labels == preds).mean())
    # avatar-level accuracy: test sequences of the classes that map to avatar actions
    inv = {m: av for av, ms in AVATAR_FROM_MODEL.items() for m in ms}
    av_t = [inv.get(CLASSES[t]) for t in labels]
    av_p = [inv.get(CLASSES[p]) for p in preds]
    sel = [i for i, v in enumerate(av_t) if v is not None]
    av_acc = float(np.mean([av_t[i] == av_p[i] for i in sel]))
    # synthetic idle on the test subjects (and how often a real test sequence is called idle)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    idle_x = np.stack([normalise_window(synthetic_idle(seq, rng)) for _, _, _, seq in test])
    idle_acc = float((s.run(None, {"joints": idle_x})[0].argmax(1) == CLASSES.index("idle")).mean())
    x = idle_x[:1]
    for _ in range(20):
        s.run(None, {"joints": x})
    ts = []
    for _ in range(200):
        t = time.perf_counter()
        s.run(None, {"joints": x})
        ts.append(time.perf_counter() - t)
    ms = float(np.median(ts) * 1000)
    per_class = {CLASSES[i]: round(float(cm[i, i] / max(cm[i].sum(), 1)), 3) for i in range(20)}
    print(f"cross-subject accuracy (20 MSR classes, {len(test)} test sequences): {acc:.4f}; avatar-mapped {av_acc:.4f}; "
          f"synthetic idle {idle_acc:.3f}; {ms:.3f} ms/window")
    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    card = {
        "name": onnx_path.stem,
        "file": onnx_path.name,
        "sha256": digest,
        "size_bytes": onnx_path.stat().st_size,
        "format": "ONNX opset 13",
        "author": "avatar-bridge (models/train_action.py)",
        "licence": "Apache-2.0 (our weights); trained on MSR Action3D (Microsoft Research / W. Li), research use",
        "source": {"training_data": "MSR Action3D skeletons, ../shared/fixtures/action/msr_action3d (557 listed in "
                                    "files_used_in_cvpr12_paper.txt; a13_s09_e02 is empty, 556 used)",
                   "split": "cross-subject: train subjects 1,3,5,7,9 (" + str(len(train)) + " sequences), test 2,4,6,8,10 ("
                            + str(len(test)) + ")",
                   "idle": "synthetic: a real first/last frame of a sequence held still with 1 cm jitter and sway"},
        "build_script": "train_action.py",
        "runtime": "onnxruntime, 1 thread, via bridge.classify.action.ActionRecognizer",
        "window": {"samples": WINDOW, "rate_hz": RATE_HZ, "seconds": round(WINDOW / RATE_HZ, 3)},
        "inputs": [{"name": "joints", "shape": ["N", WINDOW, len(JOINTS), 3], "dtype": "float32",
                    "joint_order": list(JOINTS),
                    "preprocessing": "bridge.classify.action.normalise_window on each window: neck, spine and "
                                     "hip_center recomputed from shoulders/hips; per-frame origin at hip_center; "
                                     "rotated about y so the mean right->left shoulder+hip line is +x; divided by the "
                                     "window's mean torso length (neck to hip_center)",
                    "axes": "right-handed: +x the subject's left, +y up, +z the subject's forward",
                    "units": "torso lengths (about 0.45-0.5 m on an adult)",
                    "source_coordinates": "Kinect v1 camera space as is (x to the sensor's left, y up, z away, metres); "
                                          "MediaPipe Pose world landmarks through joints_from_mediapipe (x and y negated; "
                                          "hand = mean of index and pinky, foot = mean of heel and toe, head = mean of ears)",
                    "mirroring": "trained with left/right mirror augmentation; for a mirrored (selfie) image pass "
                                 "mirrored=True to joints_from_mediapipe"}],
        "outputs": [{"name": "probs", "shape": ["N", n], "notes": "softmax"}],
        "classes": list(CLASSES),
        "avatar_map": {k: list(v) for k, v in AVATAR_FROM_MODEL.items()},
        "measured": {
            "cross_subject_accuracy_20_classes": round(acc, 4),
            "test_sequences": len(test),
            "how": "each test sequence: softmax averaged over its 32-sample windows (stride 4, edge-padded when "
                   "shorter); argmax over all 21 classes (idle counts as wrong)",
            "avatar_mapped_accuracy": round(av_acc, 4),
            "avatar_mapped_how": "test sequences of the classes in avatar_map (wave, clap, punch, kick, bow): "
                                 "correct when the predicted class maps to the same avatar action",
            "synthetic_idle_recall_test_subjects": round(idle_acc, 4),
            "per_class_recall": per_class,
            "confusion_matrix": {"rows_true_cols_pred": list(CLASSES), "matrix": cm.tolist()},
            "median_ms_per_window_1_thread": round(ms, 3),
            "conditions": "this project's 2-core CI machine (shared), onnxruntime " + ort.__version__,
        },
    }
    onnx_path.with_suffix("").with_suffix(".card.json")
    card_path = onnx_path.parent / f"{onnx_path.stem}.card.json"
    card_path.write_text(json.dumps(card, indent=2) + "\n")  # rate_figures loads the model through its card
    card["measured"].update(rate_figures(onnx_path))
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    docs = ROOT / "docs" / "models" if onnx_path.parent.resolve() == HERE else onnx_path.parent
    plot_confusion(cm, CLASSES, docs / f"{onnx_path.stem}_confusion.png",
                   f"{onnx_path.stem}: MSR Action3D cross-subject, acc {acc:.3f}")
    print(f"wrote {card_path}")


RATES = (7.5, 15.0, 30.0)
EVAL = HERE / "action_eval"
OUT_OF_SOURCE = (("kard", "kard_avatar.toml"), ("florence3d", "florence_avatar.toml"))


def rate_figures(onnx_path: Path) -> dict:
    """Per-class figures with each test sequence re-captured at 7.5, 15 and 30 Hz (irregular timing,
    seeded) and resampled as live, on the MSR test subjects (model classes and avatar actions) and,
    as an out-of-source check never used for training or choosing, on KARD and Florence 3D (avatar
    actions). All through bridge.evaluate.evaluate_action, what `avatar-bridge eval action` runs."""
    from bridge.evaluate import evaluate_action
    test = set(range(1, 11)) - set(TRAIN_SUBJECTS)

    def figures(ev):
        r = ev.report
        return {"n": r["n"], "accuracy": r["accuracy"], "macro_f1": r["macro_f1"],
                "recall": {c: v["recall"] for c, v in r["per_class"].items() if v["support"]},
                "precision": {c: v["precision"] for c, v in r["per_class"].items()
                              if v["support"] or sum(row[list(r["per_class"]).index(c)]
                                                     for row in r["confusion_matrix"]["matrix"])},
                "confusion_matrix": r["confusion_matrix"]}
    out = {"rates_how": "each test sequence re-captured as a camera at that rate would deliver it (timestamps "
                        "jittered by up to a quarter period, one frame in ten dropped, seed 0; "
                        "bridge.classify.action_features.recaptured), resampled to 15 Hz as live, windows "
                        "averaged; `avatar-bridge eval action --capture-hz HZ` (commands below)",
           "at_rates": {}, "out_of_source": {}}
    for hz in RATES:
        m = evaluate_action(MSR, str(onnx_path), test, None, False, EVAL / "msr_classes.toml", hz)
        av = evaluate_action(MSR, str(onnx_path), test, None, False, EVAL / "msr_avatar.toml", hz)
        out["at_rates"][f"{hz:g}"] = {"model_classes": figures(m), "avatar_actions": figures(av)}
        if hz == RATES[0]:
            cm = m.report["confusion_matrix"]
            docs = ROOT / "docs" / "models" if onnx_path.parent.resolve() == HERE else onnx_path.parent
            plot_confusion(np.array(cm["matrix"]), cm["rows_true_cols_pred"], docs / f"{onnx_path.stem}_confusion_7_5hz.png",
                           f"{onnx_path.stem}: MSR cross-subject, captured at 7.5 Hz (irregular), acc {m.report['accuracy']:.3f}")
        print(f"{hz:g} Hz: 20-class accuracy {m.report['accuracy']:.4f}; avatar "
              + ", ".join(f"{c} {v['recall']:.2f}" for c, v in av.report["per_class"].items() if v["support"]))
    for folder, toml in OUT_OF_SOURCE:
        for hz in (None, 7.5):
            ev = evaluate_action(FIXTURES / "action" / folder, str(onnx_path), None, None, False, EVAL / toml, hz)
            out["out_of_source"][f"{folder}@{'file_rate' if hz is None else f'{hz:g}Hz'}"] = {
                "fps": ev.extra["fps"], **figures(ev)}
            print(f"{folder} {hz or 'file rate'}: " + ", ".join(
                f"{c} {v['recall']:.2f}" for c, v in ev.report["per_class"].items() if v["support"]))
    out["commands"] = [
        "avatar-bridge eval action --data ../shared/fixtures/action/msr_action3d --subjects 2,4,6,8,10 "
        "--classes models/action_eval/msr_classes.toml --capture-hz 7.5   (and 15, 30; msr_avatar.toml for avatar actions)",
        "avatar-bridge eval action --data ../shared/fixtures/action/kard --classes models/action_eval/kard_avatar.toml "
        "[--capture-hz 7.5]",
        "avatar-bridge eval action --data ../shared/fixtures/action/florence3d "
        "--classes models/action_eval/florence_avatar.toml [--capture-hz 7.5]"]
    return out


def plot_confusion(cm: np.ndarray, classes, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(9, 8))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
