"""The `avatar-bridge` command: one module per group of subcommands, the shared flags in `flags.py`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import __version__
from ..errors import BridgeError
from . import actions, annotate, evaluation, people, recording
from .flags import PROFILE, add_common
from .run import cmd_calibrate, cmd_demo, cmd_run
from .tools import cmd_doctor, cmd_init_config


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="avatar-bridge", description="Webcam face tracking to VMC, VRChat OSC and WebSocket.")
    ap.add_argument("--version", action="version", version=f"avatar-bridge {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="track a camera or video and stream to the avatar")
    add_common(run, "camera index, video file, image file or image folder (default: camera 0)")
    demo = sub.add_parser("demo", help="run the full pipeline on the built-in clip and show what is sent")
    add_common(demo, "override the built-in clip")
    cal = sub.add_parser("calibrate", help="capture your neutral face (and optionally extremes) into a profile")
    add_common(cal, "camera index or video (default: camera 0)", f"profile file to write (default {PROFILE})")
    cal.add_argument("--seconds", type=float, default=None, help="neutral capture length (default from config, 2 s)")
    cal.add_argument("--extremes", type=float, default=0.0, metavar="SECONDS",
                     help="then capture big expressions for this long to set each shape's range")
    doc = sub.add_parser("doctor", help="check models, camera, ports and config; say how to fix problems")
    doc.add_argument("--config", type=Path)
    doc.add_argument("--camera", default="0", help="camera index to test (default 0)")
    init = sub.add_parser("init-config", help="write a commented config file to start from")
    init.add_argument("path", type=Path)
    recording.add_commands(sub)
    actions.add_commands(sub)
    evaluation.add_commands(sub)
    annotate.add_commands(sub)
    people.add_commands(sub)
    return ap


COMMANDS = {"run": cmd_run, "record": cmd_run, "demo": cmd_demo, "calibrate": cmd_calibrate, "doctor": cmd_doctor,
            "init-config": cmd_init_config, **recording.COMMANDS, **actions.COMMANDS, **evaluation.COMMANDS,
            **annotate.COMMANDS, **people.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    from ..status import StatusLine, setup_logging
    args = build_parser().parse_args(argv)
    status = StatusLine(enabled=not getattr(args, "quiet", False))
    setup_logging(status, getattr(args, "verbose", False))
    try:
        return COMMANDS[args.command](args, status)
    except BridgeError as e:
        status.clear()
        print(f"avatar-bridge: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        status.clear()
        print("avatar-bridge: stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
