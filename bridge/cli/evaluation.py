"""`avatar-bridge eval expression|action|activity|gesture`: measure a model on labelled data.

Flags only: the data sets are read by bridge.datasets and measured by bridge.evaluate. Each prints
a per-class table and the confusion matrix, and as its last line one JSON object (accuracy,
macro-F1, per-class F1, confusion matrix) for scripts.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..datasets import MSR_FPS
from ..errors import BridgeError
from ..evaluate import (evaluate_action, evaluate_activity, evaluate_expression, evaluate_gesture, format_evaluation,
                        summary_json)


def add_commands(sub) -> None:
    ev = sub.add_parser("eval", help="measure an expression, action or gesture model on labelled data")
    kinds = ev.add_subparsers(dest="kind", required=True, metavar="KIND")
    e = kinds.add_parser("expression", help="expression model on an .npz of faces (images, labels[, classes])")
    e.add_argument("--npz", type=Path, required=True, help="faces in the FER2013 fixture format")
    e.add_argument("--model", help="model name or .onnx file with its card beside it (default: the default model)")
    a = kinds.add_parser("action", help="action model on a folder of MSR Action3D, KARD or Florence 3D skeleton files")
    a.add_argument("--data", type=Path, required=True,
                   help="folder of aAA_sSS_eEE_skeleton3D.txt (MSR), aAA_sSS_eEE_realworld.txt (KARD) or aCC_sA_idV.txt "
                        "(Florence 3D) files and a .toml mapping action numbers to classes "
                        "([classes] 1 = \"wave\"), optionally with their frame rate (fps = 30, before [classes])")
    a.add_argument("--model", help="model name or .onnx file with its card beside it (default: action_msr_tcn)")
    a.add_argument("--subjects", help="only these subjects, e.g. 2,4,6,8,10 (the standard cross-subject test half)")
    a.add_argument("--classes", type=Path, metavar="TOML",
                   help="the TOML mapping action numbers to classes, when it is not in the data folder "
                        "(models/action_eval/ has ones for MSR Action3D, KARD and Florence 3D)")
    a.add_argument("--capture-hz", type=float, metavar="HZ",
                   help="re-capture each file as a camera at this rate with irregular timing would (timestamps "
                        "jittered by a quarter period, one frame in ten dropped, seeded) before the live resampling")
    a.add_argument("--seed", type=int, default=0, help="seed of --capture-hz's timing (default 0)")
    a.add_argument("--fps", type=float,
                   help=f"frame rate of the skeleton files in Hz; overrides the TOML's fps (default: the TOML's "
                        f"fps, else {MSR_FPS:g}, MSR Action3D's rate); each file is resampled to the model's rate")
    v = kinds.add_parser("activity", help="activity models on a KARD, Florence 3D or SBU Kinect Interaction folder")
    v.add_argument("--data", type=Path, required=True,
                   help="KARD or Florence 3D folder (one person: activity_person_mlp) or SBU folder of "
                        "<pair>/<class>/<seq>/skeleton_pos.txt (two people: activity_pair_mlp)")
    v.add_argument("--subjects", help="only these subjects, e.g. 6,7 (KARD's held-back ones); SBU: pairs with any of them")
    v.add_argument("--capture-hz", type=float, default=15.0, metavar="HZ",
                   help="re-capture each clip at this rate with irregular timing (default 15), as the cards do")
    v.add_argument("--seed", type=int, default=0, help="seed of the capture timing (default 0)")
    g = kinds.add_parser("gesture", help="hand gestures on a folder of class sub-folders of photos")
    g.add_argument("--images", type=Path, help="folder with one sub-folder of photos per gesture")
    g.add_argument("--photos", action="append", default=[], metavar="CLASS=PATH",
                   help="photos of one gesture: a folder or a quoted glob, e.g. l_sign=asl_dataset/l or "
                        "'l_sign=asl_dataset/l/hand[345]_*' (repeatable; with or without --images)")
    g.add_argument("--rescue", action=argparse.BooleanOptionalAction, default=True,
                   help="look again around the pose's wrists where no hand was found, as live with [pose] "
                        "(default; the figures without it are given too)")
    for p in (e, a, v, g):
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _subjects(text: str | None) -> set[int] | None:
    if not text:
        return None
    try:
        return {int(s) for s in text.split(",")}
    except ValueError:
        raise BridgeError(f"--subjects {text!r}: give subject numbers separated by commas, e.g. 2,4,6") from None


def cmd_eval(args: argparse.Namespace, status) -> int:
    progress = not args.quiet
    if args.kind == "expression":
        ev = evaluate_expression(args.npz, args.model, progress)
    elif args.kind == "action":
        ev = evaluate_action(args.data, args.model, _subjects(args.subjects), args.fps, progress, args.classes,
                             args.capture_hz, args.seed)
    elif args.kind == "activity":
        ev = evaluate_activity(args.data, _subjects(args.subjects), args.capture_hz, args.seed)
    else:
        ev = evaluate_gesture(args.images, progress, args.rescue, tuple(args.photos))
    print(format_evaluation(ev))
    print(summary_json(args.kind, ev))
    return 0


COMMANDS = {"eval": cmd_eval}
