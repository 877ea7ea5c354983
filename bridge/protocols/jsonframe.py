"""AvatarFrame <-> the WebSocket JSON messages (schema in frame.schema.json), pure functions.

Server -> client: one `hello` on connect (and again whenever the channel lists change), then
one `frame` per processed image; `reply` answers each control message.
Client -> server: control messages {"type": <command>, "id": optional string/number, ...arguments};
each command's arguments and their types are in COMMANDS, and nothing else is accepted.
No command names a file: the sidecar never reads or writes a path chosen by a client.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from .. import __version__
from ..frame import AvatarFrame, Person

SCHEMA_VERSION = 3  # 2: frames carry a list of people; 3: each with its slot, name and box, and the hello the routes
# command -> {argument: (type, required)}; the types are JSON's: bool, number, str, dict of numbers.
COMMANDS: dict[str, dict[str, tuple[str, bool]]] = {
    "calibrate": {}, "reload_config": {}, "pause": {}, "resume": {}, "ping": {},
    "subscribe": {"preview": ("bool", True)},
    "set_preset": {"preset": ("str", True)},
    "set_shape": {"shape": ("str", True), "key": ("str", True), "value": ("number", True)},
    "set_output": {"output": ("str", True), "mix": ("mix", True)},
    "rename": {"output": ("str", True), "to": ("str", True)},
    "save_config": {},
}
MAX_CONTROL_BYTES = 4096
MAX_NAME = 64


def hello(blend_names: tuple[str, ...], bone_names: tuple[str, ...], mirror: bool, avatar: dict | None = None,
          people: dict | None = None) -> str:
    """`avatar`: the match report (avatar_match.MatchReport.as_dict) when the sidecar has one;
    `people`: how many people are tracked and where each slot's (or name's) output goes (routes_hello)."""
    msg = {
        "type": "hello", "v": SCHEMA_VERSION, "server": "avatar-bridge", "version": __version__,
        "channels": {"blendshapes": list(blend_names), "bones": list(bone_names)},
        "mirror": mirror, "commands": list(COMMANDS),
    }
    if avatar is not None:
        msg["avatar"] = avatar
    if people is not None:
        msg["people"] = people
    return json.dumps(msg, separators=(",", ":"))


def person_message(p: Person) -> dict:
    face = p.face
    nb = len(p.bone_names)
    # One rounding and one tolist() for every number of the person, then slices: far cheaper
    # than converting a dozen small arrays one by one on the per-frame path.
    flat = np.round(np.concatenate([
        face.head_rotation, face.head_position, face.left_eye, face.right_eye, face.eye_angles_deg,
        p.root_position, p.root_rotation, np.asarray(p.bone_rotations).ravel(),
        np.asarray(p.bone_positions).ravel(), p.blend_values,
    ]), 5).tolist()
    b = 26 + 7 * nb
    r = p.parameters
    return {
        "id": p.id, "slot": p.slot, "name": p.name,
        "similarity": None if p.similarity != p.similarity else round(float(p.similarity), 4),
        "box": None if p.box is None else np.round(p.box, 4).tolist(),
        "face": {
            "found": face.found, "presence": round(float(face.presence), 4),
            "head_rot": flat[0:4], "head_pos": flat[4:7], "eye_left": flat[7:11], "eye_right": flat[11:15],
            "eye_angles": flat[15:19],
        },
        "blendshapes": flat[b:],
        "bones": {"rot": [flat[26 + 4 * i:30 + 4 * i] for i in range(nb)],
                  "pos": [flat[26 + 4 * nb + 3 * i:29 + 4 * nb + 3 * i] for i in range(nb)]},
        "root": {"pos": flat[19:22], "rot": flat[22:26]},
        "classes": {k: {n: round(float(v), 4) for n, v in d.items()} for k, d in p.classes.items()},
        "events": p.events,
        "parameters": dict(zip(r.bool_names, r.bools.tolist())) | dict(zip(r.float_names, np.round(r.floats, 4).tolist())),
    }


def frame_message(f: AvatarFrame) -> str:
    return json.dumps({
        "type": "frame", "v": SCHEMA_VERSION, "seq": f.seq, "t": round(f.capture_time, 4),
        "source_t": round(f.source_time, 4), "people": [person_message(p) for p in f.people],
        "timings_ms": {k: round(v, 3) for k, v in f.timings_ms.items()},
    }, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Control:
    command: str
    id: str | int | None
    args: dict = field(default_factory=dict)  # validated arguments, see COMMANDS


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
    if not isinstance(kind, str) or kind not in COMMANDS:
        raise ControlError(f"unknown type {kind!r}; allowed: {', '.join(COMMANDS)}", mid)
    spec = COMMANDS[kind]
    extra = set(msg) - {"type", "id"} - set(spec)
    if extra:
        raise ControlError(f"unexpected keys {sorted(extra)} for {kind!r}; allowed: {', '.join(['type', 'id', *spec])}", mid)
    args = {}
    for name, (typ, required) in spec.items():
        if name not in msg:
            if required:
                raise ControlError(f"{kind!r} needs {name!r} ({typ})", mid)
            continue
        args[name] = _check_arg(kind, name, typ, msg[name], mid)
    return Control(kind, mid, args)


def _check_arg(kind: str, name: str, typ: str, value: object, mid):
    bad = ControlError(f"{kind!r}: {name!r} must be {'a ' + typ if typ != 'mix' else 'an object of ARKit name: number'}", mid)
    if typ == "bool":
        if not isinstance(value, bool):
            raise bad
    elif typ == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) > 1e6:
            raise bad
        value = float(value)
    elif typ == "str":
        if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME:
            raise bad
    elif typ == "mix":
        if not isinstance(value, dict) or not 0 < len(value) <= 52 or not all(
                isinstance(k, str) and not isinstance(v, bool) and isinstance(v, (int, float)) and abs(v) <= 1e6
                for k, v in value.items()):
            raise bad
        value = {k: float(v) for k, v in value.items()}
    return value


def reply(id: str | int | None, command: str | None, ok: bool, message: str) -> str:
    return json.dumps({"type": "reply", "v": SCHEMA_VERSION, "id": id, "command": command,
                       "ok": ok, "message": message}, separators=(",", ":"))


def preview_message(seq: int, jpeg_b64: str, width: int, height: int, landmarks: list[float], pose: list[float],
                    pose_visibility: list[float], hands: list[dict], people: list[dict] | None = None) -> str:
    """A downscaled camera image (JPEG, base64) with what the trackers found in it, so a viewer can
    draw it: face, pose and hand landmarks as flat x, y pairs in normalized image coordinates, the
    pose's per-point visibility (off-image points fall outside 0..1), and each hand's side.
    `people` (schema 3): every tracked person in slot order, each {id, slot, name, similarity, box} and
    their own landmarks, pose, pose_visibility and hands; the top-level ones are the first person's."""
    msg = {"type": "preview", "v": SCHEMA_VERSION, "seq": seq, "w": width, "h": height,
           "jpeg": jpeg_b64, "landmarks": landmarks, "pose": pose, "pose_visibility": pose_visibility,
           "hands": hands}
    if people is not None:
        msg["people"] = people
    return json.dumps(msg, separators=(",", ":"))


def schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("frame.schema.json").read_text())
