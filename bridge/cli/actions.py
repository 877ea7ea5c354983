"""CLI commands to teach your own actions: `record-action NAME` and `train-actions`."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..calibration import user_config_dir

log = logging.getLogger("avatar_bridge")


def default_dir() -> Path:
    return user_config_dir() / "actions"


def add_commands(sub) -> None:
    rec = sub.add_parser("record-action", help="record examples of your own action from the camera or a video")
    rec.add_argument("name", help="the action's name, e.g. dab")
    rec.add_argument("--source", default="0", help="camera index or video file (default: camera 0)")
    rec.add_argument("--seconds", type=float, default=10.0, help="how long to record from a camera (default 10)")
    rec.add_argument("--dir", type=Path, help=f"where examples and the model live (default {default_dir()})")
    rec.add_argument("-v", "--verbose", action="store_true")
    rec.add_argument("-q", "--quiet", action="store_true")
    tr = sub.add_parser("train-actions", help="train an action model from your recorded examples (held-out report)")
    tr.add_argument("--dir", type=Path, help=f"examples folder (default {default_dir()})")
    tr.add_argument("--epochs", type=int, default=60)
    tr.add_argument("-v", "--verbose", action="store_true")
    tr.add_argument("-q", "--quiet", action="store_true")


def cmd_record_action(args: argparse.Namespace, status) -> int:
    from ..classify.custom_actions import record_from_source
    from ..sources import open_source
    source = open_source(args.source, fast=not args.source.isdigit())
    try:
        paths = record_from_source(source, args.name, args.dir or default_dir(), args.seconds, not args.quiet)
    finally:
        source.close()
    log.info("saved %d example clips of %r to %s; record other actions too, then run `avatar-bridge train-actions`",
             len(paths), args.name, paths[0].parent)
    return 0


def cmd_train_actions(args: argparse.Namespace, status) -> int:
    from ..classify.custom_actions import train_custom
    out = args.dir or default_dir()
    report = train_custom(out, epochs=args.epochs, progress=not args.quiet)
    log.info("trained %s: held-out accuracy %.1f%% on %d clips", out / "action_custom.onnx",
             100 * report["heldout_accuracy"], report["heldout_clips"])
    log.info("use it: [classify] action_model = \"action_custom\" and action_model_dir = \"%s\"", out)
    return 0


COMMANDS = {"record-action": cmd_record_action, "train-actions": cmd_train_actions}
