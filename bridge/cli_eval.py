"""`avatar-bridge eval expression|action|gesture`: measure a model on labelled data.

Each prints a per-class table and the confusion matrix, and as its last line one JSON object
(accuracy, macro-F1, per-class F1, confusion matrix) for scripts.
"""
from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import numpy as np

from .errors import BridgeError
from .evaluate import classification_report, format_report, summary_json

# what people call HaGRID's gestures (sub-folder names accepted by `eval gesture`)
GESTURE_ALIASES = {"thumbs_up": "like", "thumb_up": "like", "thumbs_down": "dislike", "thumb_down": "dislike",
                   "open_palm": "palm", "victory": "peace", "v": "peace", "pointing": "one", "point": "one",
                   "horns": "rock", "no_gesture": "none"}
MSR_NAME = re.compile(r"a(\d+)_s(\d+)_e(\d+)_skeleton3D\.txt$")
IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def add_commands(sub) -> None:
    ev = sub.add_parser("eval", help="measure an expression, action or gesture model on labelled data")
    kinds = ev.add_subparsers(dest="kind", required=True, metavar="KIND")
    e = kinds.add_parser("expression", help="expression model on an .npz of faces (images, labels[, classes])")
    e.add_argument("--npz", type=Path, required=True, help="faces in the FER2013 fixture format")
    e.add_argument("--model", help="model name or .onnx file with its card beside it (default: the default model)")
    a = kinds.add_parser("action", help="action model on a folder of MSR Action3D skeleton files")
    a.add_argument("--data", type=Path, required=True,
                   help="folder of aAA_sSS_eEE_skeleton3D.txt files and a .toml mapping action numbers to classes")
    a.add_argument("--model", help="model name or .onnx file with its card beside it (default: action_msr_tcn)")
    a.add_argument("--subjects", help="only these subjects, e.g. 2,4,6,8,10 (the standard cross-subject test half)")
    g = kinds.add_parser("gesture", help="hand gestures on a folder of class sub-folders of photos")
    g.add_argument("--images", type=Path, required=True, help="folder with one sub-folder of photos per gesture")
    for p in (e, a, g):
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def cmd_eval(args: argparse.Namespace, status) -> int:
    report, title, model, extra = {"expression": eval_expression, "action": eval_action,
                                   "gesture": eval_gesture}[args.kind](args)
    print(format_report(report, title))
    print(summary_json(args.kind, model, report, **extra))
    return 0


# ------------------------------------------------------------------------------------- expression

def load_faces_npz(path: Path, classes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """-> (N, H, W) uint8 grayscale faces and labels as indices into `classes`."""
    try:
        d = np.load(path, allow_pickle=False)
        images, labels = d["images"], d["labels"]
        names = [str(c).lower() for c in d["classes"]] if "classes" in d.files else None
    except KeyError as e:
        raise BridgeError(f"{path} lacks the array {e}: it needs `images` (N, H, W) and `labels`") from None
    except (OSError, ValueError) as e:
        raise BridgeError(f"cannot read {path} as .npz ({str(e)[:120]}): give a file saved by numpy.savez") from None
    if images.ndim == 4 and images.shape[-1] in (1, 3):
        images = images.mean(-1) if images.shape[-1] == 3 else images[..., 0]
    if images.ndim != 3 or len(images) == 0 or len(images) != len(labels):
        raise BridgeError(f"{path}: `images` must be (N, H, W) grayscale faces with one label each "
                          f"(got images {images.shape}, labels {labels.shape})")
    if images.dtype != np.uint8:
        images = np.clip(images * 255 if images.max() <= 1.0 else images, 0, 255).astype(np.uint8)
    if labels.dtype.kind in "US":
        names, labels = None, np.char.lower(labels.astype(str))
        unknown = sorted(set(labels) - set(classes))
        if unknown:
            raise BridgeError(f"{path}: unknown expression labels {unknown[:5]}; use {', '.join(classes)}")
        return images, np.array([classes.index(v) for v in labels])
    labels = labels.astype(np.int64)
    names = names or list(classes)
    if labels.min() < 0 or labels.max() >= len(names):
        raise BridgeError(f"{path}: labels run from {labels.min()} to {labels.max()} but there are {len(names)} classes")
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise BridgeError(f"{path}: `classes` holds {unknown[:5]}, not expression classes ({', '.join(classes)})")
    return images, np.array([classes.index(n) for n in names])[labels]


def eval_expression(args):
    from .classify.expression import DEFAULT_MODEL, ExpressionClassifier, fer_blendshapes
    from .progress import Progress
    clf = ExpressionClassifier(args.model or DEFAULT_MODEL)
    images, labels = load_faces_npz(args.npz, clf.classes)
    shapes, extra = None, {}
    if clf.uses_blendshapes:
        from .tracking.face import FaceTracker
        with FaceTracker(still_images=True) as tr, Progress(len(images), "blendshapes", "faces",
                                                            enabled=not args.quiet) as bar:
            shapes, found = fer_blendshapes(images, tr, bar)
        extra["face_found"] = round(float(found.mean()), 4)
    with Progress(len(images), f"classifying with {clf.model.name}", "faces", enabled=not args.quiet) as bar:
        preds = clf.predict(images, shapes, progress=bar).argmax(1)
    report = classification_report(labels, preds, clf.classes)
    return report, f"{clf.model.name} on {args.npz.name}", clf.model.name, extra


def _report_on_seen_classes(labels: list[int], preds: list[int], names: list[str]) -> dict:
    """The report over the classes that occur as a label or a prediction (not every class a model has)."""
    used = sorted(set(labels) | set(preds))
    return classification_report([used.index(v) for v in labels], [used.index(v) for v in preds],
                                 [names[i] for i in used])


# ------------------------------------------------------------------------------------- action

def read_class_map(folder: Path) -> dict[int, str]:
    """The folder's TOML: `[classes]` action number -> class name, e.g. `1 = "wave"` (or a01 = ...)."""
    tomls = sorted(folder.glob("*.toml"))
    if len(tomls) != 1:
        raise BridgeError(f"{folder} needs exactly one .toml file mapping action numbers to classes "
                          f"(found {len(tomls)}); e.g. classes.toml with [classes] 1 = \"wave\"")
    try:
        table = tomllib.loads(tomls[0].read_text())["classes"]
        return {int(str(k).lstrip("aA")): str(v) for k, v in table.items()}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BridgeError(f"{tomls[0]} is not valid TOML ({e})") from None
    except (KeyError, AttributeError):
        raise BridgeError(f"{tomls[0]} needs a [classes] table, e.g. [classes] 1 = \"wave\"") from None
    except ValueError:
        raise BridgeError(f"{tomls[0]}: [classes] keys must be action numbers as in the file names (1 or a01)") from None


def eval_action(args):
    from .classify.action import WINDOW, load_msr_skeleton, sequence_windows
    from .classify.onnx_runner import OnnxModel
    from .progress import Progress
    folder = args.data
    if not folder.is_dir():
        raise BridgeError(f"{folder} is not a folder: give the folder holding the *_skeleton3D.txt files")
    cmap = read_class_map(folder)
    subjects = None
    if args.subjects:
        try:
            subjects = {int(s) for s in args.subjects.split(",")}
        except ValueError:
            raise BridgeError(f"--subjects {args.subjects!r}: give subject numbers separated by commas, e.g. 2,4,6") from None
    model = OnnxModel(args.model or "action_msr_tcn")
    avatar_map = model.card.get("avatar_map") or {}
    wanted = sorted(set(cmap.values()))
    if set(wanted) <= set(model.classes):
        names, groups = list(model.classes), None  # judged on the model's own classes
    elif set(wanted) <= set(avatar_map):
        names = list(avatar_map) + ["other"]  # judged on avatar actions; unmapped model classes are "other"
        idx = {c: i for i, c in enumerate(model.classes)}
        groups = [[idx[c] for c in avatar_map[a]] for a in avatar_map]
        groups.append([i for c, i in idx.items() if not any(c in v for v in avatar_map.values())])
    else:
        raise BridgeError(f"the TOML names {wanted} are neither {model.name}'s classes ({', '.join(model.classes)}) "
                          f"nor its avatar actions ({', '.join(avatar_map)})")
    files = []
    for p in sorted(folder.iterdir()):
        m = MSR_NAME.match(p.name)
        if m and int(m[1]) in cmap and (subjects is None or int(m[2]) in subjects):
            files.append((p, cmap[int(m[1])]))
    if not files:
        raise BridgeError(f"no skeleton files in {folder} match the TOML's actions"
                          + (f" and subjects {sorted(subjects)}" if subjects else ""))
    labels, preds, skipped = [], [], []
    with Progress(len(files), f"classifying with {model.name}", "sequences", enabled=not args.quiet) as bar:
        for p, cls in files:
            try:
                seq = load_msr_skeleton(p)
            except (ValueError, OSError):
                skipped.append(p.name)
                bar.update()
                continue
            prob = model.run(sequence_windows(seq, WINDOW, 4)).mean(0)
            if groups is not None:
                prob = np.array([prob[g].sum() for g in groups])
            labels.append(names.index(cls))
            preds.append(int(prob.argmax()))
            bar.update()
    if not labels:
        raise BridgeError(f"none of the {len(files)} skeleton files in {folder} could be read")
    report = _report_on_seen_classes(labels, preds, names)
    title = f"{model.name} on {folder.name} ({'model classes' if groups is None else 'avatar actions'})"
    if skipped:
        title += f"; {len(skipped)} unreadable file(s) skipped: {', '.join(skipped[:3])}"
    return report, title, model.name, {"skipped": skipped}


# ------------------------------------------------------------------------------------- gesture

def eval_gesture(args):
    import cv2

    from .classify.gesture import GESTURES, classify
    from .progress import Progress
    from .tracking.hands import HandTracker
    folder = args.images
    if not folder.is_dir():
        raise BridgeError(f"{folder} is not a folder: give a folder with one sub-folder of photos per gesture")
    photos = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        cls = GESTURE_ALIASES.get(sub.name.lower(), sub.name.lower())
        if cls not in GESTURES + ("none",):
            raise BridgeError(f"sub-folder {sub.name!r} is not a gesture: name sub-folders after "
                              f"{', '.join(GESTURES)} (or none)")
        photos += [(f, cls) for f in sorted(sub.iterdir()) if f.suffix.lower() in IMAGE_TYPES]
    if not photos:
        raise BridgeError(f"no photos in the sub-folders of {folder} ({', '.join(IMAGE_TYPES)})")
    names = list(GESTURES) + ["none"]
    labels, preds, found, unreadable = [], [], 0, []
    with HandTracker(still_images=True) as tracker, \
            Progress(len(photos), "classifying gestures", "photos", enabled=not args.quiet) as bar:
        for f, cls in photos:
            bgr = cv2.imread(str(f))
            bar.update()
            if bgr is None:
                unreadable.append(f.name)
                continue
            hands = tracker.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 0) or []
            found += bool(hands)
            pred = "none"
            # the higher hand speaks first: a gesture is shown raised, a second hand often rests below
            for h in sorted(hands, key=lambda h: h.landmarks[:, 1].min()):
                scores = classify(h.world, h.landmarks)
                best = max(scores, key=scores.get)
                if scores[best] > 0:
                    pred = best
                    break
            labels.append(names.index(cls))
            preds.append(names.index(pred))
    if not labels:
        raise BridgeError(f"none of the {len(photos)} photos in {folder} could be read")
    report = _report_on_seen_classes(labels, preds, names)
    title = f"hand gestures (finger geometry) on {folder.name}: a hand found in {found}/{len(labels)} photos"
    return report, title, "gesture_rules", {"hands_found": found, "unreadable": unreadable}


COMMANDS = {"eval": cmd_eval}
