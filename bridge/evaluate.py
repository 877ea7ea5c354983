"""Classification metrics, and the three `avatar-bridge eval` measurements built on them.

One report shape for every model: accuracy, macro-F1, per-class precision/recall/F1/support and
the confusion matrix (rows: true class, columns: predicted class). The model-card scripts in
models/ use `classification_report`; `evaluate_expression`, `evaluate_action` and
`evaluate_gesture` run a model on a data set read by bridge.datasets and return an Evaluation.
"""
from __future__ import annotations

import glob
import json
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets import MSR_FPS, gesture_photos, load_faces_npz, read_action_toml, skeleton_files
from .errors import BridgeError


@dataclass
class Evaluation:
    """What one `eval` command prints: the report over every item, reports over subsets (JSON key ->
    (heading, report)), and command-specific figures for the JSON."""
    title: str
    model: str
    report: dict
    extra: dict = field(default_factory=dict)
    subsets: dict[str, tuple[str, dict]] = field(default_factory=dict)


def classification_report(labels, preds, classes) -> dict:
    """labels, preds: class indices into `classes`. A class with no support still gets a row."""
    labels = np.asarray(labels, dtype=np.intp)
    preds = np.asarray(preds, dtype=np.intp)
    n = len(classes)
    cm = np.zeros((n, n), np.int64)
    np.add.at(cm, (labels, preds), 1)
    tp = np.diag(cm).astype(float)
    prec = tp / np.maximum(cm.sum(0), 1)
    rec = tp / np.maximum(cm.sum(1), 1)
    f1 = 2 * prec * rec / np.maximum(prec + rec, 1e-12)
    present = cm.sum(1) > 0
    per = {c: {"precision": round(float(prec[i]), 4), "recall": round(float(rec[i]), 4),
               "f1": round(float(f1[i]), 4), "support": int(cm[i].sum())} for i, c in enumerate(classes)}
    return {
        "n": int(len(labels)),
        "accuracy": round(float((labels == preds).mean()) if len(labels) else 0.0, 4),
        "macro_f1": round(float(f1[present].mean()) if present.any() else 0.0, 4),
        "per_class": per,
        "confusion_matrix": {"rows_true_cols_pred": list(classes), "matrix": cm.tolist()},
    }


def format_report(report: dict, title: str) -> str:
    """The report as text: a per-class table, then the confusion matrix with short column heads."""
    classes = report["confusion_matrix"]["rows_true_cols_pred"]
    cm = report["confusion_matrix"]["matrix"]
    w = max(8, *(len(c) for c in classes))
    lines = [title, f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   n {report['n']}", "",
             f"{'class':<{w}}  precision  recall     f1  support"]
    for c in classes:
        p = report["per_class"][c]
        lines.append(f"{c:<{w}}  {p['precision']:9.3f}  {p['recall']:6.3f}  {p['f1']:5.3f}  {p['support']:7d}")
    short = [c[:6] for c in classes]
    lines += ["", "confusion matrix (rows: true, columns: predicted)",
              " " * w + "  " + " ".join(f"{s:>6}" for s in short)]
    lines += [f"{c:<{w}}  " + " ".join(f"{v:6d}" for v in row) for c, row in zip(classes, cm)]
    return "\n".join(lines)


def format_evaluation(ev: Evaluation) -> str:
    """The whole printed report: the main one, then each subset's."""
    return "\n\n".join([format_report(ev.report, ev.title)]
                       + [format_report(rep, heading) for heading, rep in ev.subsets.values()])


def _figures(report: dict) -> dict:
    return {"n": report["n"], "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
            "classes": report["confusion_matrix"]["rows_true_cols_pred"],
            "f1": {c: v["f1"] for c, v in report["per_class"].items()},
            "confusion_matrix": report["confusion_matrix"]["matrix"]}


def summary_json(kind: str, ev: Evaluation) -> str:
    """The machine-readable last line of `avatar-bridge eval`; each subset is a nested object of the same figures."""
    return json.dumps({"eval": kind, "model": ev.model, **_figures(ev.report),
                       **{k: _figures(rep) for k, (_, rep) in ev.subsets.items()}, **ev.extra},
                      separators=(",", ":"))


def report_on_seen_classes(labels: list[int], preds: list[int], names: list[str]) -> dict:
    """The report over the classes that occur as a label or a prediction (not every class a model has)."""
    used = sorted(set(labels) | set(preds))
    return classification_report([used.index(v) for v in labels], [used.index(v) for v in preds],
                                 [names[i] for i in used])


def evaluate_expression(npz: Path, model: str | None = None, progress: bool = True) -> Evaluation:
    """An expression model on an .npz of faces; a fusion model gets MediaPipe's blendshapes of each face."""
    from .classify.expression import DEFAULT_MODEL, ExpressionClassifier, fer_blendshapes
    from .progress import Progress
    clf = ExpressionClassifier(model or DEFAULT_MODEL)
    images, labels = load_faces_npz(npz, clf.classes)
    shapes, extra = None, {}
    if clf.uses_blendshapes:
        from .tracking.face import FaceTracker
        with FaceTracker(still_images=True) as tr, Progress(len(images), "blendshapes", "faces",
                                                            enabled=progress) as bar:
            shapes, found = fer_blendshapes(images, tr, bar)
        extra["face_found"] = round(float(found.mean()), 4)
    with Progress(len(images), f"classifying with {clf.model.name}", "faces", enabled=progress) as bar:
        preds = clf.predict(images, shapes, progress=bar).argmax(1)
    report = classification_report(labels, preds, clf.classes)
    return Evaluation(f"{clf.model.name} on {npz.name}", clf.model.name, report, extra)


def evaluate_action(folder: Path, model: str | None = None, subjects: set[int] | None = None,
                    fps: float | None = None, progress: bool = True, classes_toml: Path | None = None,
                    capture_hz: float | None = None, seed: int = 0) -> Evaluation:
    """An action model on skeleton files (MSR Action3D, KARD, Florence 3D). Each file is resampled
    from its frame rate (`fps`, else the TOML's `fps`, else MSR_FPS) to the model's window rate (its
    card), so the model sees motions at the speed it was trained on, then judged on the mean over
    its windows. capture_hz: first re-capture each file as a camera at that rate with irregular
    timing would (action_features.recaptured: timestamps jittered by a quarter period, one frame in
    ten dropped, seeded) and resample that as the live recognizer does."""
    from .classify.action import RATE_HZ, resample, sequence_windows
    from .classify.action_features import recaptured
    from .datasets import load_skeleton
    from .classify.onnx_runner import OnnxModel
    from .progress import Progress
    if fps is not None and not 0 < fps < float("inf"):
        raise BridgeError(f"a frame rate of {fps:g} fps: give the skeleton files' rate in Hz, "
                          "a finite number above 0 (e.g. 30)")
    if capture_hz is not None and not 0 < capture_hz < float("inf"):
        raise BridgeError(f"--capture-hz {capture_hz:g}: give a camera rate in Hz, a finite number above 0 (e.g. 7.5)")
    cmap, toml_fps = read_action_toml(folder, classes_toml)
    fps = fps or toml_fps or MSR_FPS
    onnx = OnnxModel(model or "action_msr_tcn")
    window = int(onnx.card["inputs"][0]["shape"][1])
    rate = float(onnx.card.get("window", {}).get("rate_hz", RATE_HZ))
    avatar_map = onnx.card.get("avatar_map") or {}
    wanted = sorted(set(cmap.values()))
    if set(wanted) <= set(onnx.classes):
        names, groups = list(onnx.classes), None  # judged on the model's own classes
    elif set(wanted) <= set(avatar_map) | {"other"}:
        names = list(avatar_map) + ["other"]  # judged on avatar actions; unmapped model classes are "other"
        idx = {c: i for i, c in enumerate(onnx.classes)}
        groups = [[idx[c] for c in avatar_map[a]] for a in avatar_map]
        groups.append([i for c, i in idx.items() if not any(c in v for v in avatar_map.values())])
    else:
        raise BridgeError(f"the TOML names {wanted} are neither {onnx.name}'s classes ({', '.join(onnx.classes)}) "
                          f"nor its avatar actions ({', '.join(avatar_map)})")
    files = skeleton_files(folder, cmap, subjects)
    labels, preds, skipped = [], [], []
    rng = np.random.default_rng(seed)
    with Progress(len(files), f"classifying with {onnx.name}", "sequences", enabled=progress) as bar:
        for p, cls in files:
            bar.update()
            try:
                seq = load_skeleton(p)
            except (ValueError, OSError):
                skipped.append(p.name)
                continue
            if capture_hz:
                seq = recaptured(seq, fps, capture_hz, rng, model_rate=rate)
            else:
                seq = resample(seq, np.arange(len(seq)) / fps, rate, int((len(seq) - 1) * rate / fps + 1e-6) + 1)
            prob = onnx.run(sequence_windows(seq, window, 4)).mean(0)
            if groups is not None:
                prob = np.array([prob[g].sum() for g in groups])
            labels.append(names.index(cls))
            preds.append(int(prob.argmax()))
    if not labels:
        raise BridgeError(f"none of the {len(files)} skeleton files in {folder} could be read")
    how = f"captured at {capture_hz:g} Hz (irregular, seed {seed}), " if capture_hz else ""
    title = (f"{onnx.name} on {folder.name} at {fps:g} fps, {how}resampled to {rate:g} Hz "
             f"({'model classes' if groups is None else 'avatar actions'})")
    if skipped:
        title += f"; {len(skipped)} unreadable file(s) skipped: {', '.join(skipped[:3])}"
    return Evaluation(title, onnx.name, report_on_seen_classes(labels, preds, names), {"fps": fps, "capture_hz": capture_hz, "skipped": skipped})


def _gesture_prediction(hands: list, cls: str) -> tuple[str, bool]:
    """The live rule on one photo's hands -> (prediction, whether several gestures tie for the top)."""
    from .classify.gesture import classify_hands
    if not hands:
        return "no_hand", False
    scores = classify_hands(hands)
    top = max(scores.values())
    shown = [k for k, v in scores.items() if v == top] if top > 0 else []
    return (cls if cls in shown else shown[0] if shown else "none"), len(shown) > 1


def evaluate_activity(folder: Path, subjects: set[int] | None = None, capture_hz: float = 15.0,
                      seed: int = 0) -> Evaluation:
    """The activity models on a KARD or Florence 3D folder (one person, activity_person_mlp: every
    2nd window of each clip) or an SBU folder (two people, activity_pair_mlp: each clip the mean of
    its windows), each clip re-captured at capture_hz with irregular timing (as the cards).
    subjects: only those subjects (SBU: pairs with any of them)."""
    from .activity_data import (load_florence_clips, load_kard_clips, load_sbu_clips, pair_feats, pair_windows,
                                person_windows)
    from .classify.action import normalise_window
    from .classify.activity import PAIR_CLASSES, PERSON_CLASSES
    from .classify.activity_features import person_features
    from .classify.onnx_runner import OnnxModel
    from .datasets import FLORENCE_NAME, KARD_NAME
    if not 0 < capture_hz < float("inf"):
        raise BridgeError(f"--capture-hz {capture_hz:g}: give a camera rate in Hz, a finite number above 0 (e.g. 7.5)")
    if not folder.is_dir():
        raise BridgeError(f"{folder} is not a folder: give a KARD, Florence 3D or SBU Kinect Interaction folder")
    names = [p.name for p in folder.iterdir()]
    rng = np.random.default_rng(seed)
    if any(folder.glob("*/*/*/skeleton_pos.txt")):
        clips = [c for c in load_sbu_clips(folder) if subjects is None or c[1] & subjects]
        if not clips:
            raise BridgeError(f"no SBU clips in {folder}" + (f" of subjects {sorted(subjects)}" if subjects else ""))
        m = OnnxModel("activity_pair_mlp")
        x, y, ids = pair_windows(clips, rng, False, capture_hz)
        p = m.run(pair_feats(x))
        u = np.unique(ids)
        report = classification_report([y[ids == i][0] for i in u], [p[ids == i].mean(0).argmax() for i in u],
                                       PAIR_CLASSES)
        what = f"{len(u)} two-person clips"
    elif any(KARD_NAME.match(n) or FLORENCE_NAME.match(n) for n in names):
        load = load_kard_clips if any(KARD_NAME.match(n) for n in names) else load_florence_clips
        clips = [c for c in load(folder) if subjects is None or c[0] in subjects]
        if not clips:
            raise BridgeError(f"no clips in {folder}" + (f" of subjects {sorted(subjects)}" if subjects else ""))
        m = OnnxModel("activity_person_mlp")
        x, y = person_windows(clips, rng, False, capture_hz)
        p = m.run(person_features(np.stack([normalise_window(w) for w in x])))
        report = classification_report(y, p.argmax(1), PERSON_CLASSES)
        what = f"{len(x)} windows of {len(clips)} clips"
    else:
        raise BridgeError(f"{folder} holds no KARD (aAA_sSS_eEE_realworld.txt), Florence 3D (aCC_sA_idV.txt) "
                          "or SBU (<pair>/<class>/<seq>/skeleton_pos.txt) skeleton files")
    title = f"{m.name} on {folder.name}: {what}, captured at {capture_hz:g} Hz (irregular, seed {seed})"
    return Evaluation(title, m.name, report, {"capture_hz": capture_hz})


def gesture_photo_set(spec: str) -> list[tuple[Path, str]]:
    """`CLASS=PATH` (`eval gesture --photos`): the photos in a folder, or matching a glob, all of one
    gesture (a name or alias, or none), e.g. one letter of a sign-language set, or some signers of it."""
    from .classify.gesture import GESTURES
    from .datasets import GESTURE_ALIASES, IMAGE_TYPES
    name, sep, path = spec.partition("=")
    if not sep or not path:
        raise BridgeError(f"--photos {spec!r}: give CLASS=PATH, e.g. l_sign=asl_dataset/l or "
                          "'l_sign=asl_dataset/l/hand[345]_*'")
    cls = GESTURE_ALIASES.get(name.strip().lower(), name.strip().lower())
    if cls not in GESTURES + ("none",):
        raise BridgeError(f"--photos {spec!r}: {name!r} is not a gesture: use {', '.join(GESTURES)} (or none)")
    p = Path(path)
    files = sorted(p.iterdir()) if p.is_dir() else sorted(Path(f) for f in glob.glob(path))
    files = [f for f in files if f.suffix.lower() in IMAGE_TYPES]
    if not files:
        raise BridgeError(f"--photos {spec!r}: no photos ({', '.join(IMAGE_TYPES)}) in or matching {path}")
    return [(f, cls) for f in files]


def evaluate_gesture(folder: Path | None, progress: bool = True, rescue: bool = True,
                     photos: tuple[str, ...] = ()) -> Evaluation:
    """The live gesture rule (classify_hands: per gesture the best score over the hands) on class
    sub-folders of photos (`folder`) and on sets of one class each (`photos`, CLASS=PATH:
    gesture_photo_set). A photo with no hand found is predicted `no_hand`, one whose hands show no
    gesture `none`. When two hands show different gestures the live stage reports both: the photo
    is right if its class is one of them, else the first of them is its prediction (counted as
    `several_gestures`). The main report counts every photo, a subset report those with a hand found.
    With `rescue` (as live with [pose]), the pose tracker runs too and tracking.hands.HandRescuer
    looks again around each pose wrist without a hand; the figures without the rescue are also
    given (`before_rescue`), from the same run."""
    import cv2

    from .classify.gesture import GESTURES
    from .progress import Progress
    from .tracking.hands import HandRescuer, HandTracker
    from .tracking.pose import PoseTracker
    if folder is None and not photos:
        raise BridgeError("give --images (a folder of gesture sub-folders) or --photos CLASS=PATH, or both")
    sets = [gesture_photo_set(spec) for spec in photos]
    items = (gesture_photos(folder, GESTURES) if folder is not None else []) + [x for s in sets for x in s]
    names = list(GESTURES) + ["none", "no_hand"]
    labels, preds, before, unreadable, several = [], [], [], [], 0
    with HandTracker(still_images=True) as tracker, \
            (PoseTracker(still_images=True) if rescue else nullcontext()) as pose_tracker, \
            (closing(HandRescuer()) if rescue else nullcontext()) as rescuer, \
            Progress(len(items), "classifying gestures", "photos", enabled=progress) as bar:
        for f, cls in items:
            bgr = cv2.imread(str(f))
            bar.update()
            if bgr is None:
                unreadable.append(f.name)
                continue
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            hands = tracker.process(rgb, 0)
            before.append(names.index(_gesture_prediction(hands, cls)[0]))
            if rescue:
                hands = hands + rescuer.rescue(rgb, pose_tracker.process(rgb, 0), hands)
            pred, tie = _gesture_prediction(hands, cls)
            several += tie
            labels.append(names.index(cls))
            preds.append(names.index(pred))
    if not labels:
        raise BridgeError(f"none of the {len(items)} photos could be read")
    no_hand = preds.count(names.index("no_hand"))
    seen = [(t, p) for t, p in zip(labels, preds) if p != names.index("no_hand")]
    subsets = {}
    if seen:
        subsets["hand_found"] = (f"over the {len(seen)} photos where a hand was found",
                                 report_on_seen_classes([t for t, _ in seen], [p for _, p in seen], names))
    where = " + ".join(([folder.name] if folder is not None else [])
                       + [f"{spec} ({len(s)})" for spec, s in zip(photos, sets)])
    title = (f"hand gestures (finger geometry{', hand rescue' if rescue else ''}) on {where}: "
             f"all {len(labels)} photos, {no_hand} with no hand found")
    extra = {"hands_found": len(seen), "no_hand": no_hand, "several_gestures": several, "unreadable": unreadable}
    if rescue:
        extra["before_rescue"] = {"no_hand": before.count(names.index("no_hand")),
                                  "accuracy": round(float(np.mean(np.array(before) == labels)), 4)}
    return Evaluation(title, "gesture_rules", report_on_seen_classes(labels, preds, names), extra, subsets)

