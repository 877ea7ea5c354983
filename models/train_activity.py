"""Train the everyday-activity models on real Kinect skeletons and export them to ONNX (seeded).

    pip install tqdm    # optional progress bar; scikit-learn and onnx are runtime dependencies already
    python models/train_activity.py [--seed 0]

One person, activity_person_mlp (standing, sitting, walking, sitting_down, standing_up): KARD
(../shared/fixtures/action/kard, 15 joints mapped onto the action model's JOINTS by
bridge.datasets.load_kard), taken as 30 Hz. Labels come from the activity names, with the sit-down
and stand-up clips cut in time by the data: per frame the hip-to-ankle height in torso lengths;
the transition runs from 15% to 85% of the way between the clip's first and last levels. A window
(32 samples at 15 Hz, what the live recognizer keeps) ending before the transition is standing
(sit down) or sitting (stand up), one starting after it the reverse, one that holds most of it
sitting_down / standing_up; walk is walking; the other 14 activities (waves, kicks, bend,
drinking, phone call, ...) are done standing and count as standing. Split by subject: 1-5 train,
6-7 validation (KARD's subjects 8-10 are not here). Florence 3D (actors 1-7; sit down, stand up,
the rest standing) is an out-of-source check only, taken as 7.5 Hz.

Two people, activity_pair_mlp (fighting, friendly, none): SBU Kinect Interaction (15 Hz;
bridge.datasets.load_sbu), kicking, pushing, punching = fighting; shaking hands, hugging =
friendly; approaching, departing, exchanging an object = none. Split by subject: the pairs
without subjects 3 or 4 train, every pair with 3 or 4 validates (no validation subject is seen
in training).

Robustness (bridge.classify.action_features, as the action model): every training window is
captured at a random 7.5-30 Hz with jittered timestamps, dropped frames and tracker noise,
played at 0.75-1.33x speed, 0-3 cm tracker noise, resampled onto the 15 Hz grid with
action.resample (the live function), from another body (bone_jitter) and skeleton definition
(proportions: MediaPipe's hips sit narrower and lower than Kinect's, its torso reads longer),
another camera placement (view_change), and mirrored half the time. Features: bridge.classify.activity_features. Models: scikit-learn MLPs (one hidden layer),
standardisation folded into the first layer, written with bridge.classify.onnx_export.
Validation figures at 7.5, 15 and 30 Hz (timestamps jittered by a quarter period, one frame in
ten dropped, seed 0) go into the cards. No selection on the validation data: fixed settings.
Lying and falling have no labelled data here: rules (bridge/classify/activity.py).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from bridge.activity_data import (load_florence_clips, load_kard_clips, load_sbu_clips, pair_feats,  # noqa: E402
                                  pair_windows, person_windows)
from bridge.classify.action import RATE_HZ, WINDOW, normalise_window  # noqa: E402
from bridge.classify.activity import PAIR_CLASSES, PERSON_CLASSES  # noqa: E402
from bridge.classify.activity_features import person_features  # noqa: E402
from bridge.classify.onnx_export import OPSET, write_mlp_onnx  # noqa: E402
from bridge.evaluate import classification_report  # noqa: E402

FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
KARD_TRAIN, KARD_VAL = (1, 2, 3, 4, 5), (6, 7)
SBU_VAL_SUBJECTS = (3, 4)
RATES = (7.5, 15.0, 30.0)


def fit_mlp(x, y, n_classes, seed, hidden=64, bar=None):
    """A balanced (oversampled) scikit-learn MLP; standardisation folded into the first layer."""
    from sklearn.neural_network import MLPClassifier
    rng = np.random.default_rng(seed)
    counts = np.bincount(y, minlength=n_classes)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), counts.max(), replace=True) for c in range(n_classes)])
    x, y = x[idx], y[idx]
    mu, sd = x.mean(0), x.std(0) + 1e-3
    net = MLPClassifier((hidden,), alpha=1e-2, batch_size=128, learning_rate_init=2e-3, max_iter=1, random_state=seed)
    classes = np.arange(n_classes)
    for ep in range(80):
        perm = rng.permutation(len(x))
        net.partial_fit((x[perm] - mu) / sd, y[perm], classes=classes)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{net.loss_:.3f}")
    w1, w2 = net.coefs_
    b1, b2 = net.intercepts_
    w1s = w1 / sd[:, None]
    return (w1s.astype(np.float32), (b1 - mu @ w1s).astype(np.float32), w2.astype(np.float32), b2.astype(np.float32))


def run_onnx(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return s.run(None, {"features": x.astype(np.float32)})[0]


def write_card(path: Path, classes, n_features, preprocessing, source, measured) -> None:
    card = {
        "name": path.stem, "file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "size_bytes": path.stat().st_size, "format": f"ONNX opset {OPSET} (bridge.classify.onnx_export)",
        "author": "avatar-bridge (models/train_activity.py)",
        "licence": "Apache-2.0 (our weights); trained on research data sets (see source), research use",
        "source": source, "build_script": "train_activity.py",
        "runtime": "onnxruntime, 1 thread, via bridge.classify.activity",
        "window": {"samples": WINDOW, "rate_hz": RATE_HZ, "seconds": round(WINDOW / RATE_HZ, 3)},
        "inputs": [{"name": "features", "shape": ["N", n_features], "dtype": "float32", "preprocessing": preprocessing}],
        "outputs": [{"name": "probs", "shape": ["N", len(classes)], "notes": "softmax"}],
        "classes": list(classes), "measured": measured,
    }
    path.with_name(path.stem + ".card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {path.with_name(path.stem + '.card.json')}")


def figures(report: dict) -> dict:
    return {"n": report["n"], "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
            "per_class": {c: {k: v[k] for k in ("precision", "recall", "support")} for c, v in report["per_class"].items()},
            "confusion_matrix": report["confusion_matrix"]}


def main() -> None:
    ap = argparse.ArgumentParser(description="train the everyday-activity models (one person, two people)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--plots-only", action="store_true", help="only redraw the confusion plots from the cards")
    a = ap.parse_args()
    if a.plots_only:
        plot_cards(a.out)
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    rng = np.random.default_rng(a.seed)

    # ---------------- one person
    kard = load_kard_clips(FIXTURES / "action" / "kard")
    train = [c for c in kard if c[0] in KARD_TRAIN]
    val = [c for c in kard if c[0] in KARD_VAL]
    print(f"KARD: {len(train)} training clips (subjects {KARD_TRAIN}), {len(val)} validation ({KARD_VAL})")
    xs, ys = [], []
    for _ in range(4):
        x, y = person_windows(train, rng, True)
        xs.append(person_features(np.stack([normalise_window(w) for w in x])))
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    print("training windows per class:", dict(zip(PERSON_CLASSES, np.bincount(y, minlength=len(PERSON_CLASSES)).tolist())))
    bar = tqdm(total=80, desc="one-person MLP", file=sys.stdout) if tqdm else None
    w = fit_mlp(x, y, len(PERSON_CLASSES), a.seed, bar=bar)
    if bar:
        bar.close()
    person_path = a.out / "activity_person_mlp.onnx"
    write_mlp_onnx(person_path, *w, input_shape=(x.shape[1],), input_name="features", name="activity_person")
    measured = {"how": "windows (32 samples at 15 Hz) every 2 samples of each validation clip, re-captured at the "
                       "rate (timestamps jittered by a quarter period, one frame in ten dropped, seed 0) and resampled "
                       "as live; labelled as in training; argmax", "kard_validation_subjects_6_7": {},
                "florence3d_out_of_source": {}}
    for hz in RATES:
        for key, clips in (("kard_validation_subjects_6_7", val), ("florence3d_out_of_source", load_florence_clips(FIXTURES / "action" / "florence3d"))):
            xv, yv = person_windows(clips, np.random.default_rng(0), False, hz)
            p = run_onnx(person_path, person_features(np.stack([normalise_window(w) for w in xv]))).argmax(1)
            present = sorted(set(yv) | set(p))
            rep = classification_report(yv, p, PERSON_CLASSES)
            measured[key][f"{hz:g}"] = figures(rep)
            print(f"{key} {hz:g} Hz: acc {rep['accuracy']:.3f} " + ", ".join(
                f"{c} P{v['precision']:.2f}/R{v['recall']:.2f}" for c, v in rep["per_class"].items() if v["support"]
                or PERSON_CLASSES.index(c) in present))
    write_card(person_path, PERSON_CLASSES, x.shape[1],
               "bridge.classify.activity_features.person_features of the window normalised by "
               "bridge.classify.action.normalise_window (the action model's window: 32 samples at 15 Hz of "
               "action.JOINTS, resampled by action.resample)",
               {"training_data": "KARD (Gaglio et al. 2014) subjects 1-5, ../shared/fixtures/action/kard, taken as 30 Hz; "
                                 "labels: activity names, sit-down/stand-up clips cut at the hip-height transition",
                "validation": "KARD subjects 6-7 (by subject); Florence 3D actors 1-7 as an out-of-source check (7.5 Hz assumed)",
                "augmentation": "captured at 7.5-30 Hz with jittered timestamps, dropped frames, noise; 0.75-1.33x speed; "
                                "bone lengths +-12%; facing +-60 deg, tilt +-15 deg, scale; mirrored"},
               measured)

    # ---------------- two people
    sbu = load_sbu_clips(FIXTURES / "action" / "sbu")
    strain = [c for c in sbu if not c[1] & set(SBU_VAL_SUBJECTS)]
    sval = [c for c in sbu if c[1] & set(SBU_VAL_SUBJECTS)]
    print(f"SBU: {len(strain)} training clips ({len({c[0] for c in strain})} pairs), {len(sval)} validation "
          f"({len({c[0] for c in sval})} pairs with subjects {SBU_VAL_SUBJECTS})")
    xs, ys = [], []
    for _ in range(4):
        xw, yw, _ = pair_windows(strain, rng, True)
        xs.append(pair_feats(xw))
        ys.append(yw)
    x, y = np.concatenate(xs), np.concatenate(ys)
    bar = tqdm(total=80, desc="two-person MLP", file=sys.stdout) if tqdm else None
    w = fit_mlp(x, y, len(PAIR_CLASSES), a.seed, bar=bar)
    if bar:
        bar.close()
    pair_path = a.out / "activity_pair_mlp.onnx"
    write_mlp_onnx(pair_path, *w, input_shape=(x.shape[1],), input_name="features", name="activity_pair")
    measured = {"how": "each validation clip re-captured at the rate (as above) and resampled as live; clip: the mean "
                       "of its windows' probabilities (windows ending in its last 40%, every 2 samples); window: each "
                       "such window alone", "sbu_validation_pairs_with_subjects_3_4": {}}
    for hz in RATES:
        xv, yv, ids = pair_windows(sval, np.random.default_rng(0), False, hz)
        p = run_onnx(pair_path, pair_feats(xv))
        clip_p = np.stack([p[ids == i].mean(0) for i in np.unique(ids)])
        clip_y = np.array([yv[ids == i][0] for i in np.unique(ids)])
        rc = classification_report(clip_y, clip_p.argmax(1), PAIR_CLASSES)
        rw = classification_report(yv, p.argmax(1), PAIR_CLASSES)
        measured["sbu_validation_pairs_with_subjects_3_4"][f"{hz:g}"] = {"clips": figures(rc), "windows": figures(rw)}
        print(f"SBU {hz:g} Hz: clips acc {rc['accuracy']:.3f}, windows {rw['accuracy']:.3f}: " + ", ".join(
            f"{c} P{v['precision']:.2f}/R{v['recall']:.2f}" for c, v in rc["per_class"].items()))
    write_card(pair_path, PAIR_CLASSES, x.shape[1],
               "bridge.classify.activity_features.pair_features of two people's windows (32 samples at 15 Hz of "
               "action.JOINTS each, in one camera frame, metres, y up)",
               {"training_data": "SBU Kinect Interaction (Yun et al. 2012), ../shared/fixtures/action/sbu, actor pairs "
                                 "without subjects 3 and 4; 15 Hz; coordinates back-projected by bridge.datasets.load_sbu",
                "labels": "kicking, pushing, punching = fighting; shaking hands, hugging = friendly; approaching, "
                          "departing, exchanging an object = none",
                "validation": "every pair with subject 3 or 4 (by subject)",
                "augmentation": "as activity_person_mlp, the same camera timing for both people"},
               measured)
    plot_cards(a.out)


def plot_cards(folder: Path) -> None:
    """docs/models/activity_*_confusion.png from the cards' 15 Hz validation confusion matrices."""
    from models.train_action import plot_confusion
    docs = ROOT / "docs" / "models" if folder.resolve() == HERE else folder
    for name, key, sub in (("activity_person_mlp", "kard_validation_subjects_6_7", None),
                           ("activity_pair_mlp", "sbu_validation_pairs_with_subjects_3_4", "clips")):
        m = json.loads((folder / f"{name}.card.json").read_text())["measured"][key]["15"]
        m = m[sub] if sub else m
        cm = np.array(m["confusion_matrix"]["matrix"])
        plot_confusion(cm, m["confusion_matrix"]["rows_true_cols_pred"], docs / f"{name}_confusion.png",
                       f"{name}: {key} at 15 Hz (irregular), accuracy {m['accuracy']:.3f}")


if __name__ == "__main__":
    main()
