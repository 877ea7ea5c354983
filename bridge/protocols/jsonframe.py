"""AvatarFrame <-> the WebSocket JSON messages (schema in frame.schema.json), pure functions.

Server -> client: one `hello` on connect (and again whenever the channel lists change), then
one `frame` per processed image; `reply` answers each control message.
Client -> server: control messages {"type": <command>, "id": optional string/number}.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .. import __version__
from ..frame import AvatarFrame

SCHEMA_VERSION = 1
COMMANDS = ("calibrate", "reload_config", "pause", "resume", "ping")
MAX_CONTROL_BYTES = 4096


def _r(a: np.ndarray, nd: int = 4) -> list:
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def hello(blend_names: tuple[str, ...], bone_names: tuple[str, ...], mirror: bool) -> str:
    return json.dumps({
        "type": "hello", "v": SCHEMA_VERSION, "server": "avatar-bridge", "version": __version__,
        "channels": {"blendshapes": list(blend_names), "bones": list(bone_names)},
        "mirror": mirror, "commands": list(COMMANDS),
    }, separators=(",", ":"))


def frame_message(f: AvatarFrame) -> str:
    face = f.face
    return json.dumps({
        "type": "frame", "v": SCHEMA_VERSION, "seq": f.seq, "t": round(f.capture_time, 4),
        "source_t": round(f.source_time, 4),
        "face": {
            "found": face.found, "presence": round(float(face.presence), 4),
            "head_rot": _r(face.head_rotation, 5), "head_pos": _r(face.head_position),
            "eye_left": _r(face.left_eye), "eye_right": _r(face.right_eye),
            "eye_angles": _r(face.eye_angles_deg, 2),
        },
        "blendshapes": _r(f.blend_values),
        "bones": {"rot": _r(f.bone_rotations, 5), "pos": _r(f.bone_positions)},
        "root": {"pos": _r(f.root_position), "rot": _r(f.root_rotation, 5)},
        "events": f.events,
        "timings_ms": {k: round(v, 3) for k, v in f.timings_ms.items()},
    }, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Control:
    command: str
    id: str | int | None


class ControlError(ValueError):
    """A malformed control message; str(e) is the one-line reason sent back to the client."""

    def __init__(self, reason: str, id: str | int | None = None):
        super().__init__(reason)
        self.id = id


def parse_control(raw: str | bytes) -> Control:
    if len(raw) > MAX_CONTROL_BYTES:
        raise ControlError(f"message too large ({len(raw)} bytes, limit {MAX_CONTROL_BYTES})")
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ControlError(f"not valid JSON ({e.__class__.__name__}): send an object like "
                           '{"type": "calibrate"}') from None
    if not isinstance(msg, dict):
        raise ControlError('expected a JSON object like {"type": "calibrate"}')
    mid = msg.get("id")
    if mid is not None and (isinstance(mid, bool) or not isinstance(mid, (str, int))):
        raise ControlError("'id' must be a string or an integer")
    kind = msg.get("type")
    if kind not in COMMANDS:
        raise ControlError(f"unknown type {kind!r}; allowed: {', '.join(COMMANDS)}", mid)
    extra = set(msg) - {"type", "id"}
    if extra:
        raise ControlError(f"unexpected keys {sorted(extra)} for {kind!r}; allowed: type, id", mid)
    return Control(kind, mid)


def reply(id: str | int | None, command: str | None, ok: bool, message: str) -> str:
    return json.dumps({"type": "reply", "v": SCHEMA_VERSION, "id": id, "command": command,
                       "ok": ok, "message": message}, separators=(",", ":"))


def schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("frame.schema.json").read_text())
