"""One person of a frame -> VMC protocol packets (OSC bundles over UDP), as a pure function.

VMC drives one avatar per receiver, so it takes a `Person` (person 0 for today's single avatar).

Per frame, in order: any trigger events as /VMC/Ext/Key, then /VMC/Ext/OK, /VMC/Ext/T, /VMC/Ext/Root/Pos, one /VMC/Ext/Bone/Pos per
bone, one /VMC/Ext/Blend/Val per shape, then /VMC/Ext/Blend/Apply, packed into bundles of at
most 1472 bytes (one Ethernet frame) so the Apply arrives after every value it applies.
Every message has a fixed size for a given set of names, so the message prefixes and the split
into bundles are computed once per name set and each frame only packs its numbers.

Bones are the sidecar's normalized local rotations (rest = identity, as UniVRM 0.x / EVMC4U) unless
`AvatarBones` is given (`[vmc] bones = "avatar"`): then they are the avatar's own, non-normalized
local rotations and positions, which the VMC protocol recommends for VRM 1.0 (docs/conventions.md).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..frame import Person
from ..retarget import quat
from ..retarget.vrm_file import VrmAvatar
from . import osc

_I4 = struct.Struct(">4i")

# /VMC/Ext/OK arguments: loaded, calibration state (3 = calibrated), calibration mode (0 = normal)
CALIBRATED = 3
_OK = osc.prefix("/VMC/Ext/OK", "iiii")
_T = osc.prefix("/VMC/Ext/T", "f")
_ROOT = osc.prefix("/VMC/Ext/Root/Pos", "sfffffff", "root")
_APPLY = osc.prefix("/VMC/Ext/Blend/Apply", "")


@lru_cache(maxsize=16)
def _layout(bone_names: tuple[str, ...], blend_names: tuple[str, ...], max_packet: int):
    """Message prefixes in send order, each with its float count, grouped into bundles."""
    msgs = [(_OK, 0), (_T, 1), (_ROOT, 7)]
    msgs += [(osc.prefix("/VMC/Ext/Bone/Pos", "sfffffff", n), 7) for n in bone_names]
    msgs += [(osc.prefix("/VMC/Ext/Blend/Val", "sf", n), 1) for n in blend_names]
    msgs.append((_APPLY, 0))
    groups, current, size = [], [], len(osc.BUNDLE_HEADER)
    for i, (prefix, nf) in enumerate(msgs):
        need = 4 + len(prefix) + 4 * nf + (16 if i == 0 else 0)
        if size + need > max_packet and current:
            groups.append(current)
            current, size = [], len(osc.BUNDLE_HEADER)
        current.append(i)
        size += need
    groups.append(current)
    return msgs, groups


@dataclass(frozen=True)
class AvatarBones:
    """For one bone list, what turns normalized local rotations N into the avatar's own:
    `L · W⁻¹ · N · W`, with L a bone's rest rotation local to its parent node and W its world rest
    rotation (from the file, Unity frame); `left` holds L · W⁻¹, `right` W. `positions` are the
    nodes' own local translations; `known` marks the bones the avatar has (others pass unchanged)."""
    names: tuple[str, ...]
    left: np.ndarray  # (n, 4)
    right: np.ndarray  # (n, 4)
    positions: np.ndarray  # (n, 3)
    known: np.ndarray  # (n,) bool

    def rotations(self, normalized: np.ndarray) -> np.ndarray:
        return quat.multiply(quat.multiply(self.left, normalized), self.right)


def avatar_bones(avatar: VrmAvatar, names: tuple[str, ...]) -> AvatarBones:
    """`AvatarBones` for `names` (identity and no position for a bone `avatar` lacks)."""
    identity = np.array([0.0, 0.0, 0.0, 1.0])
    local = np.array([avatar.rest_local.get(n, identity) for n in names]).reshape(-1, 4)
    world = np.array([avatar.rest_world.get(n, identity) for n in names]).reshape(-1, 4)
    positions = np.array([avatar.rest_translation.get(n, np.zeros(3)) for n in names]).reshape(-1, 3)
    known = np.array([n in avatar.rest_local for n in names], dtype=bool)
    return AvatarBones(tuple(names), quat.multiply(local, quat.conjugate(world)), world, positions, known)


def encode_key_events(events: list[dict]) -> list[bytes]:
    """Trigger events as VMC key input, `/VMC/Ext/Key i active, s name, i keycode`, which VMC
    receivers (VSeeFace, EVMC4U's KeyInputEvent) already bind to expressions and animations.
    name is "<type>:<name>" (e.g. "expression:happy", "action:wave"); active is 1 on start or for a
    one-shot trigger, 0 on end; keycode is 0."""
    msgs = []
    for e in events:
        active = 0 if e.get("state") == "end" else 1
        msgs.append(osc.prefix("/VMC/Ext/Key", "isi") + struct.pack(">i", active)
                    + osc.osc_string(f"{e.get('type', 'event')}:{e.get('name', '')}") + struct.pack(">i", 0))
    return msgs


def encode_vmc(person: Person, uptime_s: float, max_packet: int = osc.UDP_SAFE_PAYLOAD,
               bones: AvatarBones | None = None) -> list[bytes]:
    """`bones` (made for `person.bone_names`) sends the avatar's own local rotations instead of normalized ones."""
    msgs, groups = _layout(tuple(person.bone_names), tuple(person.blend_names), max_packet)
    n_bones = len(person.bone_names)
    positions, rotations = person.bone_positions, person.bone_rotations
    if bones is not None and n_bones:
        rotations = bones.rotations(rotations)
        positions = np.where(bones.known[:, None], bones.positions, positions)
    floats = np.concatenate([
        [uptime_s], person.root_position, person.root_rotation,
        np.concatenate([positions, rotations], axis=1).ravel() if n_bones else [],
        person.blend_values,
    ]).astype(">f4").tobytes()
    ok = _I4.pack(1, CALIBRATED, 0, 1 if person.face.found else 0)
    bodies = []
    pos = 0
    for i, (prefix, nf) in enumerate(msgs):
        if i == 0:
            bodies.append(prefix + ok)
        else:
            bodies.append(prefix + floats[pos:pos + 4 * nf])
            pos += 4 * nf
    packets = [osc.bundle([bodies[i] for i in g]) for g in groups]
    if person.events:  # triggers go first, so /VMC/Ext/Blend/Apply stays the frame's last message
        packets[:0] = osc.pack_bundles(encode_key_events(person.events), max_packet)
    return packets
