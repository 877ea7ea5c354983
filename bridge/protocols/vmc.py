"""AvatarFrame -> VMC protocol packets (OSC bundles over UDP), as a pure function.

Per frame, in order: /VMC/Ext/OK, /VMC/Ext/T, /VMC/Ext/Root/Pos, one /VMC/Ext/Bone/Pos per
bone, one /VMC/Ext/Blend/Val per shape, then /VMC/Ext/Blend/Apply, packed into bundles of at
most 1472 bytes (one Ethernet frame) so the Apply arrives after every value it applies.
"""
from __future__ import annotations

import struct

import numpy as np

from ..frame import AvatarFrame
from . import osc

_F1 = struct.Struct(">f")
_F7 = struct.Struct(">7f")
_I4 = struct.Struct(">4i")

# /VMC/Ext/OK arguments: loaded, calibration state (3 = calibrated), calibration mode (0 = normal)
CALIBRATED = 3


def encode_vmc(frame: AvatarFrame, uptime_s: float, max_packet: int = osc.UDP_SAFE_PAYLOAD) -> list[bytes]:
    msgs = [
        osc.prefix("/VMC/Ext/OK", "iiii") + _I4.pack(1, CALIBRATED, 0, 1 if frame.face.found else 0),
        osc.prefix("/VMC/Ext/T", "f") + _F1.pack(uptime_s),
        osc.prefix("/VMC/Ext/Root/Pos", "sfffffff", "root")
        + _F7.pack(*frame.root_position, *frame.root_rotation),
    ]
    bone_prefix = osc.prefix
    for name, pos, rot in zip(frame.bone_names, frame.bone_positions.tolist(), frame.bone_rotations.tolist()):
        msgs.append(bone_prefix("/VMC/Ext/Bone/Pos", "sfffffff", name) + _F7.pack(*pos, *rot))
    values = np.asarray(frame.blend_values, dtype=">f4").tobytes()
    for i, name in enumerate(frame.blend_names):
        msgs.append(bone_prefix("/VMC/Ext/Blend/Val", "sf", name) + values[4 * i:4 * i + 4])
    msgs.append(osc.prefix("/VMC/Ext/Blend/Apply", ""))
    return osc.pack_bundles(msgs, max_packet)
