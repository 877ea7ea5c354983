"""Decoding what the sidecar sends, free of bpy so plain Python can test it.

VMC: OSC 1.0 packets (bundles or messages) over UDP; a frame is the bones and blendshape values
received since the last `/VMC/Ext/Blend/Apply`, which the sidecar sends last in every frame.
WebSocket: JSON messages of schema version 3 or 2 (`hello`, `frame`, `reply`, `preview`); the
followed person of a `frame` (its slot, or its enrolled name wherever they stand; a schema 2
person's slot is its place in the list) drives the avatar. Both produce a `Frame` in Unity's frame
(see convert.py).
Bad input raises `WireError` with a one-line reason; callers count it and go on.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

IDENTITY = (0.0, 0.0, 0.0, 1.0)
SCHEMA_VERSIONS = (2, 3)  # schema 3 only adds each person's slot, name, similarity and box
MAX_BUNDLE_DEPTH = 4


class WireError(ValueError):
    """A packet or message that cannot be read; str(e) says why in one line."""


@dataclass
class Frame:
    """One frame for the avatar: Unity local bone rotations (x, y, z, w), root, blendshapes."""

    seq: int = 0
    bones: dict = field(default_factory=dict)
    root_pos: tuple = (0.0, 0.0, 0.0)
    root_rot: tuple = IDENTITY
    blends: dict = field(default_factory=dict)
    slot: int = 1
    name: str | None = None


# ------------------------------------------------------------------ OSC

def _string(data: bytes, pos: int) -> tuple[str, int]:
    end = data.find(b"\x00", pos)
    if end < 0:
        raise WireError("OSC string without its NUL terminator")
    try:
        s = data[pos:end].decode("utf-8")
    except UnicodeDecodeError:
        raise WireError("OSC string is not UTF-8") from None
    return s, (end + 4) & ~3


def parse_message(data: bytes) -> tuple[str, list]:
    """One OSC message -> (address, arguments); types i, f, s, T, F, N (what VMC uses)."""
    address, pos = _string(data, 0)
    if not address.startswith("/"):
        raise WireError(f"OSC address {address[:40]!r} does not start with '/'")
    if pos >= len(data):
        return address, []  # OSC 1.0 allows a message without a type tag string
    tags, pos = _string(data, pos)
    if not tags.startswith(","):
        raise WireError("OSC type tags do not start with ','")
    args: list = []
    for t in tags[1:]:
        if t in "if":
            if pos + 4 > len(data):
                raise WireError(f"OSC message {address} is cut short")
            args.append(struct.unpack_from(">i" if t == "i" else ">f", data, pos)[0])
            pos += 4
        elif t == "s":
            s, pos = _string(data, pos)
            args.append(s)
        elif t in "TFN":
            args.append({"T": True, "F": False, "N": None}[t])
        else:
            raise WireError(f"OSC type tag {t!r} not supported (message {address})")
    return address, args


def parse_packet(data: bytes, depth: int = 0) -> list[tuple[str, list]]:
    """An OSC packet (a message or a bundle, nested bundles flattened) -> its messages in order."""
    if data.startswith(b"#bundle\x00"):
        if depth >= MAX_BUNDLE_DEPTH:
            raise WireError("OSC bundles nested too deep")
        pos, out = 16, []
        while pos < len(data):
            if pos + 4 > len(data):
                raise WireError("OSC bundle element size cut short")
            (n,) = struct.unpack_from(">i", data, pos)
            if n <= 0 or n % 4 or pos + 4 + n > len(data):
                raise WireError(f"OSC bundle element of bad size {n}")
            out += parse_packet(data[pos + 4:pos + 4 + n], depth + 1)
            pos += 4 + n
        return out
    return [parse_message(data)]


def _pose7(args: list, address: str) -> tuple[str, tuple, tuple]:
    if len(args) < 8 or not isinstance(args[0], str) or not all(isinstance(a, float) for a in args[1:8]):
        raise WireError(f"{address} needs a name and 7 floats")
    return args[0], tuple(args[1:4]), tuple(args[4:8])


class VmcAssembler:
    """Collects VMC messages into frames; `feed` returns the frame an Apply completes, else None."""

    def __init__(self):
        self._pending = Frame()
        self._seq = 0

    def feed(self, messages: list[tuple[str, list]]) -> Frame | None:
        done = None
        for address, args in messages:
            if address == "/VMC/Ext/Bone/Pos":
                name, _, rot = _pose7(args, address)
                self._pending.bones[name] = rot
            elif address == "/VMC/Ext/Root/Pos":
                _, pos, rot = _pose7(args, address)
                self._pending.root_pos, self._pending.root_rot = pos, rot
            elif address == "/VMC/Ext/Blend/Val":
                if len(args) < 2 or not isinstance(args[0], str) or not isinstance(args[1], float):
                    raise WireError("/VMC/Ext/Blend/Val needs a name and a float")
                self._pending.blends[args[0]] = args[1]
            elif address == "/VMC/Ext/Blend/Apply":
                self._seq += 1
                p = self._pending
                done = Frame(self._seq, dict(p.bones), p.root_pos, p.root_rot, dict(p.blends))
            # other VMC messages (OK, T, Key, Cam, ...) carry nothing the avatar needs
        return done


# ------------------------------------------------------------------ WebSocket JSON (schema 2, 3)

def _floats(v, n: int, what: str) -> tuple:
    if not isinstance(v, list) or len(v) != n or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        raise WireError(f"{what} must be a list of {n} numbers")
    return tuple(float(x) for x in v)


def find_person(people: list, slot: int, name: str = "") -> int:
    """Index of the person to follow: the first named `name` when that is set (the slot is then
    ignored), else the first in `slot`; -1 when nobody matches."""
    for i, p in enumerate(people):
        if not isinstance(p, dict):
            raise WireError("a person of the frame is not a JSON object")
        if (p.get("name") == name) if name else (p.get("slot", i + 1) == slot):
            return i
    return -1


class JsonReader:
    """Reads the sidecar's JSON messages; keeps the channel names from the last `hello`.

    `follow_slot` / `follow_name` may change between messages (the panel sets them live). A frame
    without that person returns None and counts in `without_person`: the avatar holds its pose
    (the sidecar eases a lost person to rest first) and never jumps to someone else."""

    def __init__(self, follow_slot: int = 1, follow_name: str = ""):
        self.bone_names: list[str] = []
        self.blend_names: list[str] = []
        self.mirror: bool | None = None
        self.follow_slot = follow_slot
        self.follow_name = follow_name
        self.without_person = 0

    def read(self, text: str) -> Frame | None:
        """A `frame` message -> Frame; `hello` updates the channels (None); others -> None."""
        try:
            msg = json.loads(text)
        except ValueError as e:
            raise WireError(f"not JSON ({e.__class__.__name__})") from None
        if not isinstance(msg, dict):
            raise WireError("message is not a JSON object")
        if msg.get("v") not in SCHEMA_VERSIONS:
            raise WireError(f"schema version {msg.get('v')!r}, this add-on reads "
                            f"{' and '.join(map(str, SCHEMA_VERSIONS))}: update the add-on or the sidecar")
        kind = msg.get("type")
        if kind == "hello":
            ch = msg.get("channels")
            if not isinstance(ch, dict) or not all(isinstance(ch.get(k), list) for k in ("bones", "blendshapes")):
                raise WireError("hello without channels.bones / channels.blendshapes lists")
            self.bone_names = [str(n) for n in ch["bones"]]
            self.blend_names = [str(n) for n in ch["blendshapes"]]
            self.mirror = bool(msg.get("mirror"))
            return None
        if kind != "frame":
            return None
        people = msg.get("people")
        if not isinstance(people, list):
            raise WireError("frame without a people list")
        i = find_person(people, self.follow_slot, self.follow_name.strip())
        if i < 0:
            self.without_person += 1
            return None
        p = people[i]
        bones = p.get("bones") or {}
        rots = bones.get("rot", []) if isinstance(bones, dict) else None
        blends = p.get("blendshapes", [])
        if not isinstance(rots, list) or len(rots) != len(self.bone_names):
            raise WireError(f"frame has {len(rots) if isinstance(rots, list) else 'no'} bone rotations, "
                            f"hello announced {len(self.bone_names)}")
        if not isinstance(blends, list) or len(blends) != len(self.blend_names):
            raise WireError(f"frame has {len(blends) if isinstance(blends, list) else 'no'} blendshapes, "
                            f"hello announced {len(self.blend_names)}")
        root = p.get("root") if isinstance(p.get("root"), dict) else {}
        seq = msg.get("seq")
        return Frame(
            seq if isinstance(seq, int) else 0,
            {n: _floats(r, 4, f"bone {n} rotation") for n, r in zip(self.bone_names, rots)},
            _floats(root.get("pos", [0, 0, 0]), 3, "root.pos"),
            _floats(root.get("rot", list(IDENTITY)), 4, "root.rot"),
            dict(zip(self.blend_names, _floats(blends, len(blends), "blendshapes"))),
            p["slot"] if isinstance(p.get("slot"), int) else i + 1,
            p.get("name") if isinstance(p.get("name"), str) else None,
        )
