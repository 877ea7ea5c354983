"""FER2013's neutral face as MediaPipe reads it, so expressions can be read relative to a user's own.

    python models/extract_fer_blendshapes.py     # once: the blendshape cache (build/fer_blendshapes/)
    python models/measure_fer_neutral.py

Why: the fusion expression model learnt what FER2013's faces look like in MediaPipe's blendshapes;
a user whose resting face MediaPipe reads with a slight frown or a half smile starts off-centre.
With a calibration profile, bridge.classify.expression shifts the live blendshapes by
(reference - the user's neutral), so this user's resting face lands on FER2013's resting face.

Writes `neutral_reference` (per shape, the median over the FER2013 Training faces labelled neutral
in which MediaPipe found a face; PublicTest is not used) into inputs[1] of the fusion models'
cards, and measures what the shift changes on the one real clip here that starts from a neutral
face: `face/single_face.mp4` (labelled by eye: frames 0-14 neutral, 24-71 smiling). Its first 8
frames are the calibration (their median, as `avatar-bridge calibrate` takes it), frames 8-14 the
held-out neutral ones; every frame is classified (no smoothing, no rate limit). The figures go
into the cards' `measured.neutral_relative`.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
CACHE = ROOT / "build" / "fer_blendshapes" / "train.npz"
MODELS = ("expression_fusion", "expression_fusion_fast")
CLIP = FIXTURES / "face" / "single_face.mp4"
CALIBRATION = range(0, 8)
NEUTRAL = range(8, 15)
SMILING = range(24, 72)
NEUTRAL_CLASS = 6  # FER2013 order


def reference() -> np.ndarray:
    from bridge.classify.expression import CLASSES
    if not CACHE.is_file():
        sys.exit(f"{CACHE} is missing: run python models/extract_fer_blendshapes.py first")
    shapes = np.load(CACHE)
    labels = np.load(FIXTURES / "expression" / "fer2013_train.npz")["labels"]
    keep = shapes["found"] & (labels == CLASSES.index("neutral"))
    print(f"FER2013 Training neutral faces with a face found: {int(keep.sum())}")
    return np.median(shapes["blendshapes"][keep], axis=0).astype(np.float32)


def clip_observations() -> list:
    from bridge.tracking.face import FaceTracker
    cap = cv2.VideoCapture(str(CLIP))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    out = []
    with FaceTracker() as tracker:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            out.append((rgb, tracker.process(rgb, int(len(out) * 1000 / fps))))
    return out


def measure(name: str, frames: list, neutral: np.ndarray) -> dict:
    from bridge.classify.expression import CLASSES, ExpressionClassifier
    clf = ExpressionClassifier(name)
    rows = {}
    for mode, user_neutral in (("uncalibrated", None), ("relative_to_neutral", neutral)):
        probs = {i: clf.classify(rgb, obs.landmarks, obs.blendshapes, user_neutral)
                 for i, (rgb, obs) in enumerate(frames) if obs is not None}
        row = {}
        for seg, idx, cls in (("neutral_frames_8_14", NEUTRAL, "neutral"), ("smiling_frames_24_71", SMILING, "happy")):
            ps = [probs[i] for i in idx if i in probs]
            row[seg] = {"frames": len(ps), f"read_{cls}": sum(max(p, key=p.get) == cls for p in ps),
                        f"mean_p_{cls}": round(float(np.mean([p[cls] for p in ps])), 3),
                        "read_as": {c: sum(max(p, key=p.get) == c for p in ps) for c in CLASSES
                                    if any(max(p, key=p.get) == c for p in ps)}}
        rows[mode] = row
    return rows


def main() -> None:
    from bridge.arkit import ARKIT_NAMES
    ref = reference()
    frames = clip_observations()
    calib = [obs.blendshapes for i, (_, obs) in enumerate(frames) if i in CALIBRATION and obs is not None]
    neutral = np.median(np.stack(calib), axis=0).astype(np.float32)
    offset = neutral - ref
    top = np.argsort(-np.abs(offset))[:6]
    print("this person's resting face minus FER2013's:",
          ", ".join(f"{ARKIT_NAMES[i]} {offset[i]:+.3f}" for i in top))
    for name in MODELS:
        card_path = HERE / f"{name}.card.json"
        card = json.loads(card_path.read_text())
        card["inputs"][1]["neutral_reference"] = {n: round(float(v), 5) for n, v in zip(ARKIT_NAMES, ref)}
        card_path.write_text(json.dumps(card, indent=2) + "\n")  # the classifier reads the reference from here
        result = measure(name, frames, neutral)
        card["measured"]["neutral_relative"] = {
            **result,
            "resting_offset_largest": {ARKIT_NAMES[i]: round(float(offset[i]), 3) for i in top},
            "how": "face/single_face.mp4 through the MediaPipe face landmarker (VIDEO mode) and this model, every "
                   "frame, no smoothing; labelled by eye: frames 0-14 neutral, 24-71 smiling; the calibration is "
                   "the median of frames 0-7 (raw blendshapes, as `avatar-bridge calibrate`), so frames 8-14 are "
                   "held-out neutral frames. One person, one clip: a check that the shift helps and does not "
                   "hurt, not an accuracy figure. neutral_reference: per-shape median over the FER2013 Training "
                   "faces labelled neutral in which MediaPipe found a face (models/measure_fer_neutral.py)"}
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        print(name, json.dumps(result))


if __name__ == "__main__":
    main()
