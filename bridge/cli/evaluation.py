"""`avatar-bridge eval expression|action|gesture`: measure a model on labelled data.

Flags only: the data sets are read by bridge.datasets and measured by bridge.evaluate. Each prints
a per-class table and the confusion matrix, and as its last line one JSON object (accuracy,
macro-F1, per-class F1, confusion matrix) for scripts.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..datasets import MSR_FPS
from ..errors import BridgeError
from ..evaluate import evaluate_action, evaluate_expression, evaluate_gesture, format_evaluation, summary_json


def add_commands(sub) -> None:
    ev = sub.add_parser("eval", help="measure an expression, action or gesture model on labelled data")
    kinds = ev.add_subparsers(dest="kind", required=True, metavar="KIND")
    e = kinds.add_parser("expression", help="expression model on an .npz of faces (images, labels[, classes])")
    e.add_argument("--npz", type=Path, required=True, help="faces in the FER2013 fixture format")
    e.add_argument("--model", help="model name or .onnx file with its card beside it (default: the default model)")
    a = kinds.add_parser("action", help="action model on a folder of MSR Action3D skeleton files")
    a.add_argument("--data", type=Path, required=True,
                   help="folder of aAA_sSS_eEE_skeleton3D.txt files and a .toml mapping action numbers to classes "
                        "([classes] 1 = \"wave\"), optionally with their frame rate (fps = 30, before [classes])")
    a.add_argument("--model", help="model name or .onnx file with its card beside it (default: action_msr_tcn)")
    a.add_argument("--subjects", help="only these subjects, e.g. 2,4,6,8,10 (the standard cross-subject test half)")
    a.add_argument("--fps", type=float,
                   help=f"frame rate of the skeleton files in Hz; overrides the TOML's fps (default: the TOML's "
                        f"fps, else {MSR_FPS:g}, MSR Action3D's rate); each file is resampled to the model's rate")
    g = kinds.add_parser("gesture", help="hand gestures on a folder of class sub-folders of photos")
    g.add_argument("--images", type=Path, required=True, help="folder with one sub-folder of photos per gesture")
    for p in (e, a, g):
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
        ev = evaluate_action(args.data, args.model, _subjects(args.subjects), args.fps, progress)
    else:
        ev = evaluate_gesture(args.images, progress)
    print(format_evaluation(ev))
    print(summary_json(args.kind, ev))
    return 0


COMMANDS = {"eval": cmd_eval}
