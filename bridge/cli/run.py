"""run, record, demo and calibrate: the commands that track and stream."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
from importlib import resources
from pathlib import Path

from ..errors import BridgeError
from .flags import load_config
from .recording import setup_recording

log = logging.getLogger("avatar_bridge")


def demo_clip() -> Path:
    return Path(str(resources.files("bridge.assets").joinpath("demo_face.mp4")))


def _make_pipeline(args: argparse.Namespace, cfg, overrides):
    from ..pipeline import Pipeline
    from ..sources import open_source
    s = cfg.source
    source = open_source(s.input, s.loop, s.fast, s.width, s.height, s.fps)
    try:
        return Pipeline(cfg, source, args.config, overrides, args.max_frames)
    except BaseException:
        source.close()
        raise


def _install_sigterm(pipeline) -> None:
    signal.signal(signal.SIGTERM, lambda *_: pipeline.stop())


def cmd_run(args: argparse.Namespace, status) -> int:
    """`run`, and `record` (the same with --out FILE: every output frame is also saved)."""
    cfg, o = load_config(args)
    pipeline = _make_pipeline(args, cfg, o)
    writer = None
    if getattr(args, "out", None) is not None:
        try:
            writer = setup_recording(args, pipeline)
        except BaseException:
            pipeline.close()
            raise
    _install_sigterm(pipeline)
    rec = f" | recording to {writer.path}" if writer else ""
    log.info("source: %s | %s%s", pipeline.source.description, " | ".join(pipeline.outputs.describe()), rec)
    if not args.quiet:
        suffix = (lambda: f" | rec {writer.frames}") if writer else (lambda: "")
        pipeline.listeners.append(lambda f: status.update(_status_text(pipeline) + suffix()))
    try:
        stats = pipeline.run()
    finally:
        if writer is not None:
            writer.close()  # also on Ctrl+C or a failing source: everything received so far is on disk
            status.clear()
            log.info("recorded %d frames (%.0f kB) to %s", writer.frames, writer.bytes / 1024, writer.path)
        status.clear()
    log.info("done: %d frames, face found in %d, %.1f fps", stats.frames, stats.faces, stats.fps)
    return 0


def _status_text(pipeline) -> str:
    st = pipeline.stats
    if pipeline.people > 1:
        seen = [c for c in list(pipeline.chains.values()) if c.seen]  # by face or by body
        names = ", ".join(c.name or f"#{c.person_id}" for c in seen)
        face = f"{len(seen)} of {pipeline.people} people" + (f" ({names})" if names else "") if st.recent else "nobody"
    else:
        face = "face" if st.recent and pipeline.found else "no face"
    ws = f" | ws clients {pipeline.outputs.client_count}" if pipeline.cfg.websocket.enabled else ""
    cal = f" | calibrating: {pipeline.calibration_phase}" if pipeline.calibration_phase else ""
    paused = " | PAUSED" if pipeline.paused else ""
    return f"{st.fps:5.1f} fps | latency {st.latency_ms:5.1f} ms | {face}{ws}{cal}{paused}"


def cmd_demo(args: argparse.Namespace, status) -> int:
    from ..monitor import Monitor
    cfg, o = load_config(args, {"source": {"input": str(demo_clip())}})
    if cfg.websocket.enabled and args.max_frames is None and not cfg.source.loop:
        # the clip is 20 s: keep it going until Ctrl+C, so the dashboard's avatar has something to copy
        cfg, o = load_config(args, {"source": {"input": str(demo_clip()), "loop": True}})
    pipeline = _make_pipeline(args, cfg, o)
    _install_sigterm(pipeline)
    monitor = Monitor(sys.stdout)
    monitor.header(pipeline.source.description, pipeline.outputs.describe())
    pipeline.listeners.append(monitor.on_frame)
    stats = pipeline.run()
    monitor.footer(stats)
    return 0


def cmd_calibrate(args: argparse.Namespace, status) -> int:
    quiet = {section: {"enabled": False} for section in ("vmc", "vrchat", "websocket")}
    cfg, o = load_config(args, quiet)  # calibration sends nothing unless asked to
    pipeline = _make_pipeline(args, cfg, o)
    _install_sigterm(pipeline)
    seconds = args.seconds or cfg.calibration.neutral_seconds

    def announce(phase: str, secs: float) -> None:
        status.clear()
        if phase == "neutral":
            print(f"Look at the screen with a relaxed, neutral face for {secs:g} s ...", flush=True)
        else:
            print(f"Now make big expressions for {secs:g} s: open your mouth wide, smile, frown, raise and "
                  "lower your brows, puff your cheeks, blink, look around ...", flush=True)

    from concurrent.futures import Future
    fut: Future = Future()
    pipeline.start_calibration(seconds, args.extremes, fut, announce)
    pipeline.listeners.append(lambda f: pipeline.stop() if fut.done() else None)
    pipeline.run()
    if not fut.done():
        raise BridgeError("the source ended before calibration finished: use a longer video or a camera")
    ok, _ = fut.result()  # the pipeline has logged where the profile went
    return 0 if ok else 1


