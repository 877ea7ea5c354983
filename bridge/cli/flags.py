"""The flags shared by the commands, defined once, and how they become config overrides."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError

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
    if getattr(args, "budget", None):
        put("source", f"--budget {args.budget}", budget=args.budget)
    if getattr(args, "face", None) is False:
        put("face", "--no-face", enabled=False)
    if getattr(args, "headset", None):
        put("face", f"--headset {args.headset}", headset=args.headset)
    if getattr(args, "people", None):
        put("tracking", f"--people {args.people}", people=args.people)
    if getattr(args, "identify", None):
        put("tracking", f"--identify {args.identify}", identify=args.identify)
    if getattr(args, "pose", None):
        put("pose", f"--pose {args.pose}", enabled=True, model=args.pose)
    if getattr(args, "body_mode", None):
        put("pose", f"--body-mode {args.body_mode}", mode=args.body_mode)
    if getattr(args, "hands", False):
        put("hands", "--hands", enabled=True)
    if getattr(args, "preset", None):
        put("mapping", f"--preset {args.preset}", preset=args.preset)
    if getattr(args, "avatar", None):
        put("avatar", f"--avatar {args.avatar}", file=str(args.avatar))
    if getattr(args, "calibration", None):
        put("calibration", f"--calibration {args.calibration}", profile=str(args.calibration))
    if getattr(args, "vmc", None):
        h, p = host_port(args.vmc, "--vmc")
        put("vmc", f"--vmc {args.vmc}", enabled=True, host=h, port=p)
    if getattr(args, "no_vmc", False):
        put("vmc", "--no-vmc", enabled=False)
    if getattr(args, "vrchat", None) == "":  # bare --vrchat: find VRChat over OSCQuery
        put("vrchat", "--vrchat", enabled=True)
    elif getattr(args, "vrchat", None):  # an explicit address: send there, no discovery
        h, p = host_port(args.vrchat, "--vrchat")
        put("vrchat", f"--vrchat {args.vrchat}", enabled=True, host=h, port=p, oscquery=False)
    if getattr(args, "vrchat_names", None):
        put("vrchat", f"--vrchat-names {args.vrchat_names}", names=args.vrchat_names)
    if getattr(args, "vrchat_trackers", None):
        put("vrchat", f"--vrchat-trackers {args.vrchat_trackers}",
            trackers=[n.strip() for n in args.vrchat_trackers.split(",") if n.strip()])
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


def add_common(p: argparse.ArgumentParser, source_help: str,
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
    from ..config import BUDGETS, POSE_MODELS
    p.add_argument("--mirror", dest="mirror", action="store_true", default=None, help="avatar mirrors you (default)")
    p.add_argument("--no-mirror", dest="mirror", action="store_false", help="avatar is you (first person)")
    p.add_argument("--preset", choices=("arkit", "vrm0", "vrm1", "none"), help="blendshape mapping preset")
    p.add_argument("--calibration", type=Path, metavar="FILE", help=calibration_help)
    p.add_argument("--avatar", type=Path, metavar="FILE.vrm",
                   help="your VRM avatar: output uses its bones, proportions and expression names (and the dashboard shows it)")
    p.add_argument("--no-face", dest="face", action="store_false", default=None, help="no face tracking")
    p.add_argument("--headset", nargs="?", const="on", choices=("off", "on", "auto"),
                   help="a VR headset covers your eyes: track the lower face, hold eyes and brows neutral "
                        "(auto: when the image shows one; default on)")
    p.add_argument("--pose", nargs="?", const="full", choices=POSE_MODELS,
                   help=f"body tracking (model: {' or '.join(POSE_MODELS)}; default full)")
    p.add_argument("--body-mode", choices=("auto", "full", "upper"), help="upper = seated: legs at rest, hips fixed")
    p.add_argument("--hands", action="store_true", help="finger tracking")
    p.add_argument("--people", type=positive_int, metavar="N",
                   help="track up to N people (1-4), each with a stable id, their own avatar and VMC port "
                        "(the --vmc port + slot - 1)")
    p.add_argument("--identify", choices=("auto", "on", "off"),
                   help="name each person from the faces enrolled with `avatar-bridge enroll` (auto: when someone is)")
    p.add_argument("--budget", choices=BUDGETS,
                   help="low: cheaper tracking for a weak CPU (lite pose, pose/hands on alternate frames, lighter classifiers)")


def add_transport_flags(p: argparse.ArgumentParser) -> None:
    """--config, the transports' flags, -v and -q: shared by every command that streams."""
    p.add_argument("--config", type=Path, help="TOML config file (reloaded when it changes)")
    p.add_argument("--vmc", metavar="HOST:PORT", help="send VMC to this address (default 127.0.0.1:39539)")
    p.add_argument("--no-vmc", action="store_true", help="do not send VMC")
    p.add_argument("--vrchat", metavar="HOST:PORT", nargs="?", const="",
                   help="send VRChat OSC: alone, find VRChat and its avatar over OSCQuery (else 127.0.0.1:9000); "
                        "with HOST:PORT, send every parameter there")
    p.add_argument("--vrchat-names", choices=("unified", "mapping"), help="VRChat parameter names")
    p.add_argument("--vrchat-trackers", metavar="NAMES",
                   help="send VRChat OSC trackers (needs --pose), comma-separated: hip, chest, feet, knees, elbows, "
                        "all or single ones such as left_foot")
    p.add_argument("--ws", metavar="HOST:PORT", help="WebSocket server address (default 127.0.0.1:8765)")
    p.add_argument("--no-ws", action="store_true", help="no WebSocket server")
    p.add_argument("--ws-allow-remote", action="store_true", help="allow a non-loopback WebSocket host (needs --ws-token)")
    p.add_argument("--ws-token", metavar="SECRET", help="WebSocket clients must present this token")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("-q", "--quiet", action="store_true", help="no live status line")


def load_config(args: argparse.Namespace, defaults: dict | None = None):
    """(config, flag overrides) for a command: the file, then `defaults` (the command's own), then the flags."""
    from ..config import deep_merge, load
    o, labels = overrides_from(args)
    o = deep_merge(defaults or {}, o)
    return load(args.config, o, labels), o


