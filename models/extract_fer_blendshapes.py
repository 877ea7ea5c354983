"""Read MediaPipe's 52 blendshapes from every FER2013 face, for training the fusion expression model.

    python models/extract_fer_blendshapes.py [--workers 2]

Runs bridge.classify.expression.fer_blendshapes (the same code `avatar-bridge eval expression`
uses) on ../shared/fixtures/expression/fer2013_{train,publictest}.npz, split over worker
processes, and writes build/fer_blendshapes/<split>.npz with `blendshapes` (N, 52) float32 and
`found` (N,) bool and `landmarks` (N, 478, 3) float16 (normalised in the padded, upscaled crop; NaN
where no face was found). Takes about 6 CPU-minutes; the result is a cache, not committed.
"""
from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", ROOT.parent / "shared" / "fixtures"))
OUT = ROOT / "build" / "fer_blendshapes"


def _chunk(args):
    faces, show = args
    from bridge.classify.expression import fer_blendshapes
    from bridge.progress import Progress
    from bridge.tracking.face import FaceTracker
    with FaceTracker(still_images=True) as tr, Progress(len(faces), "blendshapes (worker 1)", "faces",
                                                        enabled=show) as bar:
        lms = np.empty((len(faces), 478, 3), np.float32)
        shapes, found = fer_blendshapes(faces, tr, bar, lms)
        return shapes, found, lms.astype(np.float16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for split in ("publictest", "train"):
        faces = np.load(FIXTURES / "expression" / f"fer2013_{split}.npz")["images"]
        parts = np.array_split(faces, a.workers)
        print(f"{split}: {len(faces)} faces on {a.workers} workers", flush=True)
        with ProcessPoolExecutor(a.workers) as ex:
            res = list(ex.map(_chunk, [(p, i == 0) for i, p in enumerate(parts)]))
        bs = np.concatenate([r[0] for r in res])
        found = np.concatenate([r[1] for r in res])
        lms = np.concatenate([r[2] for r in res])
        np.savez_compressed(OUT / f"{split}.npz", blendshapes=bs, found=found, landmarks=lms)
        print(f"{split}: face found in {found.mean():.1%} -> {OUT / f'{split}.npz'}", flush=True)


if __name__ == "__main__":
    main()
