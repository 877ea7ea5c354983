"""The commands that make files people look at: annotate (a video with what was seen drawn on it)
and report (a recording's plots as an HTML page)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("avatar_bridge")


def add_commands(sub) -> None:
    """Add annotate and report to `sub` (build_parser's subparsers)."""
    from ..annotate import DEFAULT_LAYERS, LAYERS
    from .flags import add_tracking_flags, positive_int

    ann = sub.add_parser("annotate", help="write a video with each person's box, labels, face landmarks and skeleton drawn")
    ann.add_argument("video", type=Path, help="video file")
    ann.add_argument("--out", type=Path, required=True, metavar="FILE.mp4", help="annotated video to write (mp4v)")
    ann.add_argument("--layers", default=",".join(DEFAULT_LAYERS), metavar="LIST",
                     help=f"comma-separated, from {','.join(LAYERS)} (default: all)")
    ann.add_argument("--config", type=Path, help="TOML config file (face, pose, hands, classify, ...)")
    add_tracking_flags(ann)
    ann.add_argument("--max-frames", type=positive_int, metavar="N", help="at most N frames")
    ann.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    ann.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    rep = sub.add_parser("report", help="plot a recording (expressions, actions, triggers, coverage) into an HTML page")
    rep.add_argument("file", type=Path, help="recording (.abr)")
    rep.add_argument("--out", type=Path, required=True, metavar="FILE.html", help="report to write")
    rep.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    rep.add_argument("-q", "--quiet", action="store_true", help="(no progress to show; accepted like the other commands)")


def cmd_annotate(args: argparse.Namespace, status) -> int:
    from ..annotate import annotate_video, parse_layers
    from .flags import load_config
    layers = parse_layers(args.layers)
    cfg, _ = load_config(args)
    n = annotate_video(args.video, args.out, cfg, layers, progress=not args.quiet, max_frames=args.max_frames)
    log.info("wrote %s (%d frames)", args.out, n)
    return 0


def cmd_report(args: argparse.Namespace, status) -> int:
    from ..report import write_report
    log.info("wrote %s", write_report(args.file, args.out))
    return 0


COMMANDS = {"annotate": cmd_annotate, "report": cmd_report}
