"""The `avatar-bridge` command: run, demo, calibrate, doctor, init-config."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
from importlib import resources
from pathlib import Path

from . import __version__, cli_actions, cli_eval, cli_recording
from .errors import BridgeError, ConfigError

log = logging.getLogger("avatar_bridge")


def demo_clip() -> Path:
    return Path(str(resources.files("bridge.assets").joinpath("demo_face.mp4")))


DEFAULT_PORTS = {"--vmc": 39539, "--vrchat": 9000, "--ws": 8765}
PROFILE = "~/.config/avatar-bridge/calibration.json"


def host_port(text: str, flag: str) -> tuple[str, int]:
    """'HOST:PORT', '[v6]:PORT' or 'PORT' (loopback)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"{flag} {text!r}: expected HOST:PORT with a port from 1 to 65535, "
                          f"e.g. 127.0.0.1:{DEFAULT_PORTS.get(flag, 39539)}")
    return host, int(port)


def overrides_from(args: argparse.Namespace) -> tuple[dict, dict]:
    """Flags -> (raw config tables, validated exactly like the config file; the flag as typed per
    (section, key), so that an error names the flag rather than a config key)."""
    o: dict = {}
    labels: dict = {}

    def put(section: str, flag: str, **kv) -> None:
        o.setdefault(section, {}).update(kv)
        labels.update({(section, k): flag for k in kv})

    if getattr(args, "source", None) is not None:
        put("source", f"--source {args.source}", input=str(args.source))
    if getattr(args, "loop", False):
        put("source", "--loop", loop=True)
    if getattr(args, "fast", False):
        put("source", "--fast", fast=True)
    if getattr(args, "mirror", None) is not None:
        put("source", "--mirror" if args.mirror else "--no-mirror", mirror=args.mirror)
    if getattr(args, "face", None) is False:
        put("face", "--no-face", enabled=False)
    if getattr(args, "pose", None):
        put("pose", f"--pose {args.pose}", enabled=True, model=args.pose)
    if getattr(args, "body_mode", None):
        put("pose", f"--body-mode {args.body_mode}", mode=args.body_mode)
    if getattr(args, "hands", False):
        put("hands", "--hands", enabled=True)
    if getattr(args, "preset", None):
        put("mapping", f"--preset {args.preset}", preset=args.preset)
    if getattr(args, "calibration", None):
        put("calibration", f"--calibration {args.calibration}", profile=str(args.calibration))
    if getattr(args, "vmc", None):
        h, p = host_port(args.vmc, "--vmc")
        put("vmc", f"--vmc {args.vmc}", enabled=True, host=h, port=p)
    if getattr(args, "no_vmc", False):
        put("vmc", "--no-vmc", enabled=False)
    if getattr(args, "vrchat", None):
        h, p = host_port(args.vrchat, "--vrchat")
        put("vrchat", f"--vrchat {args.vrchat}", enabled=True, host=h, port=p)
    if getattr(args, "vrchat_names", None):
        put("vrchat", f"--vrchat-names {args.vrchat_names}", names=args.vrchat_names)
    if getattr(args, "ws", None):
        h, p = host_port(args.ws, "--ws")
        put("websocket", f"--ws {args.ws}", enabled=True, host=h, port=p)
    if getattr(args, "no_ws", False):
        put("websocket", "--no-ws", enabled=False)
    if getattr(args, "ws_allow_remote", False):
        put("websocket", "--ws-allow-remote", allow_remote=True)
    if getattr(args, "ws_token", None):
        put("websocket", "--ws-token", token=args.ws_token)
    return o, labels


def positive_int(text: str) -> int:
    """argparse type for counts such as --max-frames: a whole number, at least 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return n


def _add_common(p: argparse.ArgumentParser, source_help: str,
                calibration_help: str = f"calibration profile to use (default {PROFILE})") -> None:
    p.add_argument("--source", help=source_help)
    p.add_argument("--loop", action="store_true", help="restart a video/image source at its end")
    p.add_argument("--fast", action="store_true", help="process as fast as possible instead of at the source's frame rate")
    p.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N frames")
    add_tracking_flags(p, calibration_help)
    add_transport_flags(p)


def add_tracking_flags(p: argparse.ArgumentParser,
                       calibration_help: str = f"calibration profile to use (default {PROFILE})") -> None:
    """What to track and how it maps: shared by every command that runs the trackers (run, process, ...)."""
    from .config import POSE_MODELS
    p.add_argument("--mirror", dest="mirror", action="store_true", default=None, help="avatar mirrors you (default)")
    p.add_argument("--no-mirror", dest="mirror", action="store_false", help="avatar is you (first person)")
    p.add_argument("--preset", choices=("arkit", "vrm0", "vrm1", "none"), help="blendshape mapping preset")
    p.add_argument("--calibration", type=Path, metavar="FILE", help=calibration_help)
    p.add_argument("--no-face", dest="face", action="store_false", default=None, help="no face tracking")
    p.add_argument("--pose", nargs="?", const="full", choices=POSE_MODELS,
                   help=f"body tracking (model: {' or '.join(POSE_MODELS)}; default full)")
    p.add_argument("--body-mode", choices=("auto", "full", "upper"), help="upper = seated: legs at rest, hips fixed")
    p.add_argument("--hands", action="store_true", help="finger tracking")


def add_transport_flags(p: argparse.ArgumentParser) -> None:
    """--config, the transports' flags, -v and -q: shared by every command that streams."""
    p.add_argument("--config", type=Path, help="TOML config file (reloaded when it changes)")
    p.add_argument("--vmc", metavar="HOST:PORT", help="send VMC to this address (default 127.0.0.1:39539)")
    p.add_argument("--no-vmc", action="store_true", help="do not send VMC")
    p.add_argument("--vrchat", metavar="HOST:PORT", nargs="?", const="127.0.0.1:9000",
                   help="send VRChat OSC (default address 127.0.0.1:9000)")
    p.add_argument("--vrchat-names", choices=("unified", "mapping"), help="VRChat parameter names")
    p.add_argument("--ws", metavar="HOST:PORT", help="WebSocket server address (default 127.0.0.1:8765)")
    p.add_argument("--no-ws", action="store_true", help="no WebSocket server")
    p.add_argument("--ws-allow-remote", action="store_true", help="allow a non-loopback WebSocket host (needs --ws-token)")
    p.add_argument("--ws-token", metavar="SECRET", help="WebSocket clients must present this token")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("-q", "--quiet", action="store_true", help="no live status line")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="avatar-bridge", description="Webcam face tracking to VMC, VRChat OSC and WebSocket.")
    ap.add_argument("--version", action="version", version=f"avatar-bridge {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="track a camera or video and stream to the avatar")
    _add_common(run, "camera index, video file, image file or image folder (default: camera 0)")
    demo = sub.add_parser("demo", help="run the full pipeline on the built-in clip and show what is sent")
    _add_common(demo, "override the built-in clip")
    cal = sub.add_parser("calibrate", help="capture your neutral face (and optionally extremes) into a profile")
    _add_common(cal, "camera index or video (default: camera 0)", f"profile file to write (default {PROFILE})")
    cal.add_argument("--seconds", type=float, default=None, help="neutral capture length (default from config, 2 s)")
    cal.add_argument("--extremes", type=float, default=0.0, metavar="SECONDS",
                     help="then capture big expressions for this long to set each shape's range")
    doc = sub.add_parser("doctor", help="check models, camera, ports and config; say how to fix problems")
    doc.add_argument("--config", type=Path)
    doc.add_argument("--camera", default="0", help="camera index to test (default 0)")
    init = sub.add_parser("init-config", help="write a commented config file to start from")
    init.add_argument("path", type=Path)
    cli_recording.add_commands(sub)
    cli_actions.add_commands(sub)
    cli_eval.add_commands(sub)
    return ap


def load_config(args: argparse.Namespace, defaults: dict | None = None):
    """(config, flag overrides) for a command: the file, then `defaults` (the command's own), then the flags."""
    from .config import deep_merge, load
    o, labels = overrides_from(args)
    o = deep_merge(defaults or {}, o)
    return load(args.config, o, labels), o


def _make_pipeline(args: argparse.Namespace, cfg, overrides):
    from .pipeline import Pipeline
    from .sources import open_source
    s = cfg.source
    source = open_source(s.input, s.loop, s.fast, s.width, s.height, s.fps)
    try:
        return Pipeline(cfg, source, args.config, overrides, args.max_frames)
    except BaseException:
        source.close()
        raise


def _describe_outputs(cfg) -> list[str]:
    out = []
    if cfg.vmc.enabled:
        out.append(f"VMC -> udp://{cfg.vmc.host}:{cfg.vmc.port}")
    if cfg.vrchat.enabled:
        out.append(f"VRChat OSC -> udp://{cfg.vrchat.host}:{cfg.vrchat.port} ({cfg.vrchat.names} names)")
    if cfg.websocket.enabled:
        out.append(f"WebSocket on ws://{cfg.websocket.host}:{cfg.websocket.port} "
                   f"(dashboard: http://{cfg.websocket.host}:{cfg.websocket.port}/)")
    return out or ["no transport enabled"]


def _install_sigterm(pipeline) -> None:
    signal.signal(signal.SIGTERM, lambda *_: pipeline.stop())


def cmd_run(args: argparse.Namespace, status) -> int:
    """`run`, and `record` (the same with --out FILE: every output frame is also saved)."""
    cfg, o = load_config(args)
    pipeline = _make_pipeline(args, cfg, o)
    writer = None
    if getattr(args, "out", None) is not None:
        try:
            writer = cli_recording.setup_recording(args, pipeline)
        except BaseException:
            pipeline.close()
            raise
    _install_sigterm(pipeline)
    rec = f" | recording to {writer.path}" if writer else ""
    log.info("source: %s | %s%s", pipeline.source.description, " | ".join(_describe_outputs(cfg)), rec)
    if not args.quiet:
        suffix = (lambda: f" | rec {writer.frames}") if writer else (lambda: "")
        pipeline.listeners.append(lambda f: status.update(_status_text(pipeline) + suffix()))
    try:
        stats = pipeline.run()
    finally:
        if writer is not None:
            writer.close()  # also on Ctrl+C: everything received so far is on disk
        status.clear()
    log.info("done: %d frames, face found in %d, %.1f fps", stats.frames, stats.faces, stats.fps)
    if writer is not None:
        log.info("recorded %d frames (%.0f kB) to %s", writer.frames, writer.bytes / 1024, writer.path)
    return 0


def _status_text(pipeline) -> str:
    st = pipeline.stats
    face = "face" if st.recent and pipeline.solver._last.found else "no face"
    ws = f" | ws clients {pipeline.ws.client_count}" if pipeline.ws else ""
    cal = f" | calibrating: {pipeline._calibration.phase}" if pipeline.calibrating else ""
    paused = " | PAUSED" if pipeline.paused else ""
    return f"{st.fps:5.1f} fps | latency {st.latency_ms:5.1f} ms | {face}{ws}{cal}{paused}"


def cmd_demo(args: argparse.Namespace, status) -> int:
    from .monitor import Monitor
    cfg, o = load_config(args, {"source": {"input": str(demo_clip())}})
    pipeline = _make_pipeline(args, cfg, o)
    _install_sigterm(pipeline)
    monitor = Monitor(sys.stdout, cfg)
    monitor.header(pipeline.source.description, _describe_outputs(cfg))
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


def cmd_doctor(args: argparse.Namespace, status) -> int:
    from .doctor import run_checks
    return run_checks(args.config, args.camera)


def cmd_init_config(args: argparse.Namespace, status) -> int:
    if args.path.exists():
        raise ConfigError(f"{args.path} already exists: choose another path or delete it first")
    text = resources.files("bridge.assets").joinpath("avatar-bridge.toml").read_text()
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}; run `avatar-bridge run --config {args.path}`")
    return 0


COMMANDS = {"run": cmd_run, "record": cmd_run, "demo": cmd_demo, "calibrate": cmd_calibrate, "doctor": cmd_doctor,
            "init-config": cmd_init_config, **cli_recording.COMMANDS, **cli_actions.COMMANDS,
            **cli_eval.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    from .status import StatusLine, setup_logging
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
