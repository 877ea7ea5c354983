"""Face and body -> VRChat OSC messages (avatar parameters, native eye tracking, OSC trackers), as pure functions.

VRChat is first person, so it gets subject-space data and is never mirrored. Parameters are
sent only when they change by more than `epsilon` (VRChat rate-limits OSC input and syncs
parameters over the network), with everything resent every `refresh_s` seconds so that an
avatar switched in VRChat picks the values up.
"""
from __future__ import annotations

import struct

import numpy as np

from ..arkit import INDEX
from ..frame import TRACKER_SLOTS, UPPER_FACE_SHAPES, TrackerPoses
from ..retarget import quat
from . import osc

_F1 = struct.Struct(">f")
_F4 = struct.Struct(">4f")
_BLINKS = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]


def eyes_closed(blendshapes: np.ndarray) -> float:
    """VRChat's EyesClosedAmount: the mean of the two ARKit blinks."""
    return float(blendshapes[_BLINKS].mean())


def encode_parameters(names: tuple[str, ...], values: np.ndarray, indices: np.ndarray) -> list[bytes]:
    """One /avatar/parameters/<name> float message for each index in `indices`."""
    out = []
    for i in indices.tolist():
        out.append(osc.prefix("/avatar/parameters/" + names[i], "f") + _F1.pack(float(values[i])))
    return out


def encode_reaction_parameters(bool_names: tuple[str, ...], float_names: tuple[str, ...], bools: np.ndarray,
                                floats: np.ndarray, indices: np.ndarray) -> list[bytes]:
    """[reactions] parameters: bools (OSC T/F, no payload) then floats; `indices` run over both."""
    out = []
    nb = len(bool_names)
    for i in indices.tolist():
        if i < nb:
            out.append(osc.prefix("/avatar/parameters/" + bool_names[i], "T" if bools[i] else "F"))
        else:
            out.append(osc.prefix("/avatar/parameters/" + float_names[i - nb], "f") + _F1.pack(float(floats[i - nb])))
    return out


def encode_eye_tracking(eye_angles_deg: np.ndarray, eyes_closed: float) -> list[bytes]:
    """VRChat's native OSC eye tracking: /tracking/eye/LeftRightPitchYaw and EyesClosedAmount.

    Angles are degrees in Unity's signs: positive pitch looks down, positive yaw looks right.
    """
    return [
        osc.prefix("/tracking/eye/LeftRightPitchYaw", "ffff") + _F4.pack(*np.asarray(eye_angles_deg, float)),
        osc.prefix("/tracking/eye/EyesClosedAmount", "f") + _F1.pack(float(eyes_closed)),
    ]


class ChangeFilter:
    """Remembers what was last sent; picks the parameters worth sending this frame."""

    def __init__(self, epsilon: float = 0.005, refresh_s: float = 2.0):
        self.epsilon = epsilon
        self.refresh_s = refresh_s
        self._last: np.ndarray | None = None
        self._last_full = -np.inf

    def select(self, values: np.ndarray, now: float) -> np.ndarray:
        if self._last is None or self._last.shape != values.shape or now - self._last_full >= self.refresh_s:
            self._last = values.copy()
            self._last_full = now
            return np.arange(values.shape[0])
        changed = np.flatnonzero(np.abs(values - self._last) > self.epsilon)
        self._last[changed] = values[changed]
        return changed


_F3 = struct.Struct(">3f")


def encode_trackers(trackers: TrackerPoses) -> list[bytes]:
    """VRChat's OSC trackers (docs.vrchat.com/docs/osc-trackers): the head reference, then each
    tracker's /tracking/trackers/<slot>/position (metres) and /rotation (Unity Euler degrees x, y, z,
    applied Z, X, Y), slots from frame.TRACKER_SLOTS."""
    out = [osc.prefix("/tracking/trackers/head/position", "fff") + _F3.pack(*trackers.head_position.tolist()),
           osc.prefix("/tracking/trackers/head/rotation", "fff") + _F3.pack(*quat.to_euler_deg(trackers.head_rotation))]
    for name, p, q in zip(trackers.names, trackers.positions.tolist(), trackers.rotations):
        base = f"/tracking/trackers/{TRACKER_SLOTS[name]}/"
        out.append(osc.prefix(base + "position", "fff") + _F3.pack(*p))
        out.append(osc.prefix(base + "rotation", "fff") + _F3.pack(*quat.to_euler_deg(q)))
    return out


def eye_parameter_names(names: tuple[str, ...], apply) -> tuple[str, ...]:
    """The mapped parameter names that eye or brow shapes move (`apply`: a Mapper's ARKit ->
    parameters function, probed with each upper-face shape flipped over a neutral and a full face,
    which catches sums, differences and max terms alike): what headset mode leaves to the headset."""
    moved = np.zeros(len(names), bool)
    for base in (0.0, 1.0):
        face = np.full(len(INDEX), base, np.float32)
        out = np.asarray(apply(face))
        for i in UPPER_FACE_SHAPES:
            probe = face.copy()
            probe[i] = 1.0 - base
            moved |= np.abs(np.asarray(apply(probe)) - out) > 1e-6
    return tuple(n for n, m in zip(names, moved) if m)


def without_eyes(msgs: list[bytes], eye_names: tuple[str, ...]) -> list[bytes]:
    """Headset mode: drop native eye tracking and the eye/brow parameters (under any prefix, e.g.
    `FT/v2/EyeLidLeft`, and as binary bits `...EyeLidLeft1`, `...Negative`), so a headset's own eye
    tracking (if any) is not overridden by the neutral eyes the face solver holds."""
    out = []
    for m in msgs:
        address = m[:m.index(b"\0")].decode()
        if address.startswith("/tracking/eye/"):
            continue
        if address.startswith("/avatar/parameters/") and eye_names:
            name = address[len("/avatar/parameters/"):].rstrip("0123456789").removesuffix("Negative")
            if name.endswith(eye_names):
                continue
        out.append(m)
    return out
