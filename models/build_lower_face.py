"""Build models/lower_face_mlp.onnx: the mouth, jaw and cheek shapes from the lower face's landmarks,
for headset mode (bridge/tracking/lower_face.py says why).

    python models/build_lower_face.py [--workers 2] [--train 10000] [--val 1200]

1. extract (cached in build/lower_face_video/<split>_<first face>.npz, about 0.8 CPU-minutes per 1000 faces on an idle machine):
   every FER2013 face, prepared as bridge.classify.expression.fer_blendshapes does (padded,
   upscaled), is played as a short video to the face landmarker with headset mode's low
   thresholds: uncovered (the targets: MediaPipe's own blendshapes), then five frames under a
   simulated headset (bench/headset.py's occluder drawn from the uncovered landmarks, its size and shade
   drawn at random per face), tracked from there as a webcam run is (the inputs: the landmarks
   MediaPipe places with the eyes hidden, on the second and the fifth, COVERED_FRAMES).
2. fit: the landmarks below the nose that the headset leaves in view and MediaPipe moves least
   when it goes on (choose_points), aligned (lower_face.features), of the covered frames and of the
   uncovered ones -> the uncovered jaw*, mouth*, cheek* shapes; a one-hidden-layer MLP
   (scikit-learn), its size chosen on FER2013 PublicTest (CHOICES); written as ONNX with the
   points and the alignment template in its metadata, and its card.
Training uses FER2013 Training only; PublicTest chooses the size; the video fixtures are the
held-out evaluation (bench/headset.py), never seen here.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
CACHE = ROOT / "build" / "lower_face_video5"
HERE = Path(__file__).resolve().parent
NAME = "lower_face_mlp"
SEED = 0
BLOCK = 4000
COVERED_FRAMES = (1, 4)  # of five covered frames in a row, these are kept: the tracker has settled by the fifth
# (landmark share, hidden units, L2): chosen on PublicTest's worst shape median with two covered frames per
# face (0.5/64: 0.043 and 0.75/64: 0.035 on 4000 faces; 0.75/128: 0.024, 1.0/128: 0.022 on 10000); with
# COVERED_FRAMES the chosen one measures 0.027. --all-choices refits all three and keeps PublicTest's best.
CHOICES = ((1.0, 128, 1e-3),)
ALL_CHOICES = ((0.5, 128, 1e-3), (0.75, 128, 1e-3), (1.0, 128, 1e-3))


def _extract_chunk(args):
    """Each face as a short video, as a headset wearer's webcam sees it: a blank frame (so the face
    is found afresh, not tracked from the previous face), the face uncovered (the targets), then
    five frames under the headset, tracked from there as in a video (the inputs: COVERED_FRAMES of
    them; each is tracked from the covered one before it, as every frame after the first is in a real run)."""
    faces, seed = args
    from headset import cover

    from bridge.classify.expression import FER_PAD, FER_UPSCALE
    from bridge.tracking.face import FaceTracker, FaceTrackerSettings
    from bridge.tracking.headset import HeadsetSettings
    rng = np.random.default_rng(seed)
    low = HeadsetSettings().min_confidence
    n = len(faces)
    out = {"bare_lm": np.full((n, 478, 3), np.nan, np.float32), "bare_bs": np.zeros((n, 52), np.float32),
           "cov_lm": np.full((n, 2, 478, 3), np.nan, np.float32), "cov_bs": np.zeros((n, 2, 52), np.float32),
           "grow": rng.uniform(1.05, 1.45, n).astype(np.float32), "shade": rng.integers(5, 90, n).astype(np.uint8)}
    blank = np.zeros((FER_UPSCALE, FER_UPSCALE, 3), np.uint8)
    ts = 0
    with FaceTracker(FaceTrackerSettings(low, low, low), still_images=False) as tracker:
        def track(rgb):
            nonlocal ts
            ts += 33
            return tracker.process(rgb, ts)
        for i, face in enumerate(faces):
            big = cv2.resize(cv2.copyMakeBorder(face, FER_PAD, FER_PAD, FER_PAD, FER_PAD, cv2.BORDER_REPLICATE),
                             (FER_UPSCALE, FER_UPSCALE), interpolation=cv2.INTER_CUBIC)
            rgb = cv2.cvtColor(big, cv2.COLOR_GRAY2RGB)
            track(blank)
            o = track(rgb)
            if o is None:
                continue
            out["bare_lm"][i], out["bare_bs"][i] = o.landmarks, o.blendshapes
            shade = int(out["shade"][i])
            covered = cover(rgb, o.landmarks, float(out["grow"][i]), (shade, shade, shade))
            for k in range(COVERED_FRAMES[-1] + 1):
                c = track(covered)
                if c is None:
                    break
                if k in COVERED_FRAMES:
                    j = COVERED_FRAMES.index(k)
                    out["cov_lm"][i, j], out["cov_bs"][i, j] = c.landmarks, c.blendshapes
    return out

def extract(split: str, workers: int, n: int) -> dict[str, np.ndarray]:
    """The first `n` faces of a split, extracted in blocks of BLOCK faces cached one file each."""
    faces = np.load(FIXTURES / "expression" / f"fer2013_{split}.npz")["images"][:n]
    blocks = []
    for start in range(0, len(faces), BLOCK):
        path = CACHE / f"{split}_{start:05d}.npz"
        part = faces[start:start + BLOCK]
        if not path.is_file() or len(np.load(path)["grow"]) < len(part):
            t0 = time.time()
            print(f"extract {split} {start}..{start + len(part)} on {workers} workers", flush=True)
            with ProcessPoolExecutor(workers) as ex:
                parts = list(ex.map(_extract_chunk, [(p, SEED + start + i) for i, p in
                                                      enumerate(np.array_split(part, workers))]))
            CACHE.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **{k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
            print(f"extract {split} {start}..: {time.time() - t0:.0f} s", flush=True)
        blocks.append(dict(np.load(path)))
    d = {k: np.concatenate([b[k] for b in blocks])[:len(faces)] for k in blocks[0]}
    print(f"{split}: {len(faces)} faces, found uncovered {np.isfinite(d['bare_lm'][:, 0, 0]).mean():.1%}, "
          f"under the headset {np.isfinite(d['cov_lm'][:, -1, 0, 0]).mean():.1%}", flush=True)
    return d

def _hull_masks(lms: np.ndarray, side: int, grow: float) -> np.ndarray:
    """(N, 478) which landmarks fall under bench/headset.py's occluder grown by `grow`."""
    from headset import cover
    out = np.zeros(lms.shape[:2], bool)
    blank = np.zeros((side, side, 3), np.uint8)
    for i, lm in enumerate(lms):
        mask = cover(blank, lm, grow, (255, 255, 255))[..., 0] > 0
        xy = np.clip((lm[:, :2] * side).astype(int), 0, side - 1)
        out[i] = mask[xy[:, 1], xy[:, 0]]
    return out


def choose_points(bare: np.ndarray, covered: np.ndarray, side: int, share: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keep, anchor, template) from training faces found both uncovered and under the headset:
    of the landmarks below the nose tip that the largest occluder leaves in view on 95% of faces,
    keep the `share` that MediaPipe moves least when the headset goes on (the lips and the nose base;
    the jaw line and chin move most, as the landmarker fits the face's outline to the eyes it
    guesses); anchor on the 40% of those that move least with expression once aligned (generalised
    Procrustes); the template is their mean shape."""
    from bridge.tracking.lower_face import align, to_pixels
    under = _hull_masks(bare, side, 1.45).mean(0)
    below = (bare[:, :, 1] > bare[:, 1:2, 1]).mean(0)
    candidates = np.where((under < 0.05) & (below > 0.9))[0]
    size = np.linalg.norm(bare[:, 152, :2] - bare[:, 1, :2], axis=1)
    shift = np.median(np.linalg.norm(bare[:, :, :2] - covered[:, :, :2], axis=2) / size[:, None], axis=0)
    keep = np.sort(candidates[np.argsort(shift[candidates])[:int(round(share * len(candidates)))]])
    px = to_pixels(bare[:, keep], side, side)

    def mean_shape(anchor, t):
        for _ in range(4):
            t = t - t.mean(0)
            t = t / np.linalg.norm(t)
            t = align(px, anchor, t)[:, anchor].mean(0)
        t = t - t.mean(0)
        return t / np.linalg.norm(t)
    everything = np.arange(len(keep))
    al = align(px, everything, mean_shape(everything, px[0]))
    spread = np.linalg.norm(al - al.mean(0), axis=2).mean(0)
    anchor = np.sort(np.argsort(spread)[:max(6, int(0.4 * len(keep)))])
    return keep, anchor, mean_shape(anchor, px[0, anchor])

def _samples(d: dict, covered_only: bool, keep, anchor, template, side: int):
    """(inputs, targets, MediaPipe's own covered shapes) of every covered frame with an uncovered
    target, and with `covered_only` false also of the uncovered frames (their own targets)."""
    from bridge.tracking.lower_face import SHAPES, features
    bare = np.isfinite(d["bare_lm"][:, 0, 0])
    xs, ys, base = [], [], []
    for k in range(d["cov_lm"].shape[1]):
        cov = bare & np.isfinite(d["cov_lm"][:, k, 0, 0])
        xs.append(features(d["cov_lm"][cov, k], side, side, keep, anchor, template))
        ys.append(d["bare_bs"][cov][:, SHAPES])
        base.append(d["cov_bs"][cov, k][:, SHAPES])
    if not covered_only:
        xs.append(features(d["bare_lm"][bare], side, side, keep, anchor, template))
        ys.append(d["bare_bs"][bare][:, SHAPES])
        base.append(d["bare_bs"][bare][:, SHAPES])
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(base)

def _per_shape(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    from bridge.arkit import ARKIT_NAMES
    from bridge.tracking.lower_face import SHAPES
    med = np.median(np.abs(np.clip(pred, 0, 1) - y), axis=0)
    return {ARKIT_NAMES[i]: round(float(m), 4) for i, m in zip(SHAPES, med)}


def write_onnx(path: Path, mlp, mean: np.ndarray, std: np.ndarray, meta: dict) -> None:
    """The MLP with the input standardisation folded into its first layer, outputs clipped to 0..1."""
    import onnx
    from onnx import TensorProto, checker, helper, numpy_helper
    w1, w2 = mlp.coefs_
    b1, b2 = mlp.intercepts_
    w1f = w1 / std[:, None]
    b1f = b1 - (mean / std) @ w1
    nodes = [helper.make_node("MatMul", ["features", "W1"], ["h0"]), helper.make_node("Add", ["h0", "b1"], ["h1"]),
             helper.make_node("Relu", ["h1"], ["h2"]), helper.make_node("MatMul", ["h2", "W2"], ["z0"]),
             helper.make_node("Add", ["z0", "b2"], ["z1"]), helper.make_node("Clip", ["z1", "lo", "hi"], ["shapes"])]
    inits = [numpy_helper.from_array(np.ascontiguousarray(a, np.float32), k)
             for k, a in (("W1", w1f), ("b1", b1f), ("W2", w2), ("b2", b2))]
    inits += [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in (("lo", 0.0), ("hi", 1.0))]
    graph = helper.make_graph(nodes, NAME, [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", w1.shape[0]])],
                              [helper.make_tensor_value_info("shapes", TensorProto.FLOAT, ["N", w2.shape[1]])], inits)
    model = helper.make_model_gen_version(graph, producer_name="avatar-bridge", opset_imports=[helper.make_opsetid("", 13)])
    helper.set_model_props(model, {"lower_face": json.dumps(meta)})
    checker.check_model(model, full_check=True)
    onnx.save_model(model, str(path))


def fit(train: dict, val: dict, choices) -> None:
    from sklearn.neural_network import MLPRegressor

    from bridge.arkit import ARKIT_NAMES
    from bridge.classify.expression import FER_UPSCALE
    from bridge.tracking.lower_face import SHAPES
    side = FER_UPSCALE
    ok = np.isfinite(train["bare_lm"][:, 0, 0])
    both = ok & np.isfinite(train["cov_lm"][:, -1, 0, 0])
    best = None
    for share, hidden, alpha in choices:
        keep, anchor, template = choose_points(train["bare_lm"][both][:4000], train["cov_lm"][both, -1][:4000], side, share)
        x, y, _ = _samples(train, False, keep, anchor, template, side)
        vx, vy, vbase = _samples(val, True, keep, anchor, template, side)
        mean, std = x.mean(0), x.std(0) + 1e-6
        t0 = time.time()
        mlp = MLPRegressor(hidden_layer_sizes=(hidden,), alpha=alpha, batch_size=256, learning_rate_init=1e-3, max_iter=150,
                           early_stopping=True, validation_fraction=0.1, n_iter_no_change=10, random_state=SEED)
        mlp.fit((x - mean) / std, y)
        per = _per_shape(mlp.predict((vx - mean) / std), vy)
        worst = max(per.values())
        print(f"fit: {len(keep)} landmarks ({len(anchor)} anchor), hidden {hidden}, alpha {alpha}: PublicTest "
              f"covered worst shape median {worst:.4f}, mean {np.mean(list(per.values())):.4f} "
              f"({time.time() - t0:.0f} s, {mlp.n_iter_} epochs)", flush=True)
        if best is None or worst < best[0]:
            best = (worst, share, hidden, alpha, mlp, per, keep, anchor, template, mean, std, vbase, vy)
    worst, share, hidden, alpha, mlp, per, keep, anchor, template, mean, std, vbase, vy = best
    before = _per_shape(vbase, vy)
    meta = {"keep": keep.tolist(), "anchor": anchor.tolist(), "template": np.round(template, 7).tolist(),
            "shapes": [ARKIT_NAMES[i] for i in SHAPES]}
    path = HERE / f"{NAME}.onnx"
    write_onnx(path, mlp, mean, std, meta)
    card = {
        "name": NAME, "file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "size_bytes": path.stat().st_size, "format": "ONNX opset 13 (MatMul/Add/Relu/MatMul/Add/Clip)",
        "author": "avatar-bridge (models/build_lower_face.py)",
        "licence": "Apache-2.0 (our weights); trained on FER2013 (research use) with MediaPipe's blendshapes as targets",
        "source": {
            "training_data": f"FER2013 Training, first {len(train['bare_bs'])} faces ({int(ok.sum())} found uncovered), "
                             "../shared/fixtures/expression/fer2013_train.npz, padded and upscaled as "
                             "bridge.classify.expression.fer_blendshapes does, each played as a short video to the "
                             "shipped face_landmarker.task (headset mode's thresholds)",
            "inputs": "landmarks MediaPipe tracks on the 2nd and 5th of five frames under a simulated headset (bench/headset.py's occluder "
                      "from the uncovered landmarks, grown 1.05-1.45x, shade 5-89 at random), and the uncovered ones",
            "targets": "MediaPipe's blendshapes of the same face uncovered (jaw*, mouth*, cheek*)",
            "validation": f"FER2013 PublicTest, first {len(val['bare_bs'])} faces, covered: chooses the size; "
                          "the video fixtures are held out for bench/headset.py",
        },
        "build_script": "build_lower_face.py",
        "runtime": "onnxruntime, 1 thread, via bridge.tracking.lower_face (headset mode, while the upper face is covered)",
        "inputs": [{"name": "features", "shape": ["N", len(keep) * 3], "dtype": "float32",
                    "preprocessing": "bridge.tracking.lower_face.features: the metadata's `keep` landmarks in pixels "
                                     "(z in x's units), aligned by a 3D similarity on `anchor` to `template`, flattened"}],
        "outputs": [{"name": "shapes", "shape": ["N", len(SHAPES)], "notes": "0..1, in the metadata's `shapes` order"}],
        "hyperparameters": {"landmark_share": share, "hidden": hidden, "alpha": alpha, "epochs": int(mlp.n_iter_),
                            "keep_landmarks": len(keep), "anchor_landmarks": len(anchor)},
        "measured": {
            "how": "FER2013 PublicTest faces found both uncovered and under the simulated headset: median over faces "
                   "of |shape - MediaPipe's uncovered shape|, per shape",
            "publictest_covered_faces": int(len(vy)),
            "publictest_worst_shape_median": worst,
            "publictest_per_shape_median": per,
            "mediapipe_covered_worst_shape_median": max(before.values()),
            "mediapipe_covered_per_shape_median": before,
        },
    }
    from bridge.tracking.lower_face import LowerFace
    card_path = HERE / f"{NAME}.card.json"
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    lf = LowerFace()
    lm = val["cov_lm"][:, -1][np.isfinite(val["cov_lm"][:, -1, 0, 0])][:300]
    for m in lm[:20]:
        lf(m, side, side)
    times = []
    for m in lm:
        t0 = time.perf_counter()
        lf(m, side, side)
        times.append((time.perf_counter() - t0) * 1000)
    card["measured"]["median_ms_per_frame"] = round(float(np.median(times)), 4)
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"fit: wrote {path.name} (hidden {hidden}, alpha {alpha}), PublicTest covered worst shape median "
          f"{worst:.4f} (MediaPipe covered {max(before.values()):.4f}), {card['measured']['median_ms_per_frame']} ms", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--train", type=int, default=10000, help="use the first N training faces")
    ap.add_argument("--val", type=int, default=1200, help="use the first N PublicTest faces")
    ap.add_argument("--extract-only", action="store_true")
    ap.add_argument("--all-choices", action="store_true", help="fit every choice in ALL_CHOICES, keep PublicTest's best")
    a = ap.parse_args()
    val = extract("publictest", a.workers, a.val)
    train = extract("train", a.workers, a.train)
    if a.extract_only:
        return
    fit(train, val, ALL_CHOICES if a.all_choices else CHOICES)


if __name__ == "__main__":
    main()
