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


def hello(blend_names: tuple[str, ...], bone_names: tuple[str, ...], mirror: bool) -> str:
    return json.dumps({
        "type": "hello", "v": SCHEMA_VERSION, "server": "avatar-bridge", "version": __version__,
        "channels": {"blendshapes": list(blend_names), "bones": list(bone_names)},
        "mirror": mirror, "commands": list(COMMANDS),
    }, separators=(",", ":"))


def frame_message(f: AvatarFrame) -> str:
    face = f.face
    nb = len(f.bone_names)
    # One rounding and one tolist() for every number in the frame, then slices: far cheaper
    # than converting a dozen small arrays one by one on the per-frame path.
    flat = np.round(np.concatenate([
        face.head_rotation, face.head_position, face.left_eye, face.right_eye, face.eye_angles_deg,
        f.root_position, f.root_rotation, np.asarray(f.bone_rotations).ravel(),
        np.asarray(f.bone_positions).ravel(), f.blend_values,
    ]), 5).tolist()
    b = 26 + 7 * nb
    return json.dumps({
        "type": "frame", "v": SCHEMA_VERSION, "seq": f.seq, "t": round(f.capture_time, 4),
        "source_t": round(f.source_time, 4),
        "face": {
            "found": face.found, "presence": round(float(face.presence), 4),
            "head_rot": flat[0:4], "head_pos": flat[4:7], "eye_left": flat[7:11], "eye_right": flat[11:15],
            "eye_angles": flat[15:19],
        },
        "blendshapes": flat[b:],
        "bones": {"rot": [flat[26 + 4 * i:30 + 4 * i] for i in range(nb)],
                  "pos": [flat[26 + 4 * nb + 3 * i:29 + 4 * nb + 3 * i] for i in range(nb)]},
        "root": {"pos": flat[19:22], "rot": flat[22:26]},
        "classes": {k: {n: round(float(v), 4) for n, v in d.items()} for k, d in f.classes.items()},
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
