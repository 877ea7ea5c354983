"""Measure where FER2013 puts a face in its 48x48 crops, for bridge/classify/face_crop.py.

Runs the project's MediaPipe face landmarker (IMAGE mode) on FER2013 training images upscaled
4x (192x192, grayscale -> RGB) and averages the detected positions of the template landmarks
(bridge.classify.face_crop.TEMPLATE_IDX) in crop coordinates (0..1). The printed TEMPLATE is what
face_crop.py aligns live faces to, so the live crop frames a face the way the training data did.

    python models/measure_fer_face_template.py [--n 600]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))


def main() -> None:
    from bridge.classify.face_crop import TEMPLATE_IDX
    from bridge.tracking.face import FaceTracker

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    a = ap.parse_args()
    d = np.load(FIXTURES / "expression" / "fer2013_train.npz")
    rng = np.random.default_rng(0)
    idx = rng.choice(len(d["images"]), a.n, replace=False)
    pts = []
    with FaceTracker(still_images=True) as tr:
        for k, i in enumerate(idx):
            im = cv2.resize(d["images"][i], (192, 192), interpolation=cv2.INTER_CUBIC)
            obs = tr.process(cv2.cvtColor(im, cv2.COLOR_GRAY2RGB), k)
            if obs is not None:
                pts.append(obs.landmarks[list(TEMPLATE_IDX), :2])
    pts = np.array(pts)
    print(f"faces found in {len(pts)}/{a.n} upscaled FER2013 training images")
    med = np.median(pts, axis=0)
    print("TEMPLATE = np.array([")
    for (x, y), j in zip(med, TEMPLATE_IDX):
        print(f"    [{x:.4f}, {y:.4f}],  # {j}")
    print("], np.float32)")
    print("spread (IQR, crop fraction):", np.round(np.percentile(pts, 75, 0) - np.percentile(pts, 25, 0), 3).tolist())


if __name__ == "__main__":
    main()
