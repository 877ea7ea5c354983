"""The recording commands: record (run's flags plus --out), replay, export, process."""
from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

log = logging.getLogger("avatar_bridge")


def add_commands(sub) -> None:
    """Add record, replay, export and process to `sub` (build_parser's subparsers)."""
    from .flags import add_common, add_tracking_flags, add_transport_flags, positive_int

    rec = sub.add_parser("record", help="like run, and also save every output frame to a recording file")
    add_common(rec, "camera index, video file, image file or image folder (default: camera 0)")
    add_record_flags(rec)

    rep = sub.add_parser("replay", help="stream a recording to VMC/VRChat/WebSocket at its original timing (no camera)")
    rep.add_argument("file", type=Path, help="recording (.abr) made by `avatar-bridge record`")
    rep.add_argument("--loop", action="store_true", help="start again at the end, forever")
    rep.add_argument("--speed", type=float, default=1.0, metavar="X", help="playback speed (default 1 = original timing)")
    rep.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after sending N frames")
    add_transport_flags(rep)

    exp = sub.add_parser("export", help="convert a recording to Live Link Face CSV or BVH")
    exp.add_argument("file", type=Path, help="recording (.abr)")
    exp.add_argument("--format", choices=("csv", "bvh"), help="output format (default: from --out's extension)")
    exp.add_argument("--out", type=Path, required=True, metavar="PATH", help="output file")
    exp.add_argument("--fps", type=float, help="frame rate for timecodes/frame time (default: the recording's)")
    exp.add_argument("--scale", type=float, default=1.0, help="BVH units per metre (1 = metres, 100 = centimetres)")
    exp.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    exp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    pro = sub.add_parser("process", help="turn videos into recordings and exports, in batch")
    pro.add_argument("videos", nargs="+", type=Path, metavar="VIDEO", help="video files")
    pro.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    pro.add_argument("--formats", default="abr,csv,bvh", help="comma-separated: abr, csv, bvh (default: all)")
    pro.add_argument("--landmarks", action="store_true", help="also store the raw 478 face landmarks per frame")
    pro.add_argument("--config", type=Path, help="TOML config file (face, pose, hands, filter, mapping, ...)")
    add_tracking_flags(pro)
    pro.add_argument("--max-frames", type=positive_int, metavar="N", help="at most N frames per video")
    pro.add_argument("--report", action="store_true", help="also write an HTML report per video (needs matplotlib)")
    pro.add_argument("--ray", nargs="?", const="auto", metavar="auto|ADDRESS",
                     help="run on Ray: a local Ray (auto, the default) or a cluster's address (needs ray)")
    pro.add_argument("--chunk-seconds", type=float, metavar="S",
                     help="with --ray, split longer videos into parts of S seconds (default 120)")
    pro.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    pro.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def add_record_flags(p: argparse.ArgumentParser) -> None:
    """The flags `record` adds to run's."""
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="recording file to write (.abr)")
    p.add_argument("--landmarks", action="store_true", help="also store the raw 478 face landmarks per frame")


def setup_recording(args: argparse.Namespace, pipeline):
    """Attach a RecordingWriter for args.out to the pipeline; the caller must close() it."""
    from ..recording import SUFFIX, attach_recorder
    out = Path(args.out)
    if out.suffix == "":
        out = out.with_suffix(SUFFIX)
    return attach_recorder(pipeline, out, getattr(args, "landmarks", False))


def cmd_replay(args: argparse.Namespace, status) -> int:
    from ..outputs import describe
    from .flags import load_config
    from ..errors import BridgeError
    from ..replay import replay
    if not args.speed > 0:
        raise BridgeError(f"--speed {args.speed:g}: must be greater than 0 (1 = original speed, 0.5 = half)")
    cfg, _ = load_config(args)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def started() -> None:
        log.info("replaying %s%s at %gx | %s", args.file, " (looping)" if args.loop else "", args.speed,
                 " | ".join(describe(cfg)))

    on_frame = None if args.quiet else (lambda f: status.update(f"replay: frame {f.seq} | t {f.source_time:7.2f} s"))
    try:
        stats = replay(args.file, cfg, loop=args.loop, max_frames=args.max_frames, speed=args.speed, stop=stop,
                       on_frame=on_frame, on_start=started)
    finally:
        status.clear()
    log.info("done: %d frames sent in %.1f s (%d loops), worst lateness %.1f ms", stats.frames, stats.duration_s,
             stats.loops, stats.max_lag_ms)
    return 0


def cmd_export(args: argparse.Namespace, status) -> int:
    from ..errors import BridgeError
    from ..export import FORMATS, export
    fmt = args.format or args.out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise BridgeError(f"cannot tell the format from {args.out}: pass --format csv or --format bvh")
    kw = {"fps": args.fps}
    if fmt == "bvh":
        kw["scale"] = args.scale
    n = export(args.file, args.out, fmt, progress=not args.quiet, **kw)
    log.info("wrote %s (%d frames)", args.out, n)
    return 0


def cmd_process(args: argparse.Namespace, status) -> int:
    from ..errors import BridgeError
    from .flags import load_config
    cfg, _ = load_config(args)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    kw = dict(progress=not args.quiet, cfg=cfg, landmarks=args.landmarks, max_frames=args.max_frames,
              report=args.report)
    if args.chunk_seconds is not None and (args.ray is None or not args.chunk_seconds > 0):
        raise BridgeError(f"--chunk-seconds {args.chunk_seconds:g}: " + (
            "needs --ray (the single-process path runs each video whole)" if args.ray is None
            else "must be greater than 0"))
    if args.ray is None:
        from ..batch import process_videos
        results = process_videos(args.videos, args.out, formats, **kw)
    else:
        from ..batch_ray import CHUNK_S, process_videos_ray
        results = process_videos_ray(args.videos, args.out, formats, address=args.ray,
                                     chunk_s=args.chunk_seconds or CHUNK_S, **kw)
    failed = [r for r in results if r.error]
    for r in failed:
        log.error("%s: %s", r.video, r.error)
    log.info("processed %d video(s) into %s%s", len(results) - len(failed), args.out,
             f"; {len(failed)} failed" if failed else "")
    return 1 if failed else 0


COMMANDS = {"replay": cmd_replay, "export": cmd_export, "process": cmd_process}  # `record` is cli.cmd_run
