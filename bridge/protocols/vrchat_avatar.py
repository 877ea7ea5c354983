"""The avatar's own parameters, driven the way VRCFaceTracking drives them (pure functions).

VRChat tells an OSCQuery client which parameters the current avatar has (address and OSC type).
VRCFaceTracking (github.com/benaclejames/VRCFaceTracking: BaseParameter.cs, BinaryBaseParameter.cs,
ParamContainers.cs, UnifiedExpressionsParameters.cs) drives each of its shapes, e.g. `v2/JawOpen`,
in up to four forms, each only when the avatar declares it; this module reimplements those rules
from that description (no code is taken from it):

- **float** `.../v2/JawOpen` (type f): the value itself. Any prefix may come before `v2/`
  (`/avatar/parameters/FT/v2/JawOpen`), except one that ends in a version segment such as `v1`.
- **bool** `.../v2/JawOpen` (type T): true while the value is *below* a threshold: 0.5 for the
  combined shapes (so a bool `EyeLid` reads "eyes mostly closed"), 0 for the base and simplified
  shapes (so those bools stay false for 0..1 values: VRCFaceTracking's behaviour, kept so that an
  avatar animates as it does with VRCFaceTracking).
- **binary** `.../v2/JawOpen1`, `...2`, `...4`, `...8` (bools): with n such bits declared, |value|
  is scaled to an integer k = floor(|value| * 2**n) (all bits set above 0.99999) and bit `2**i`
  carries bit i of k, so n bits give 2**n steps.
- **negative** `.../v2/JawOpenNegative` (bool): true while the value is below 0. Without it a
  negative value clears every bit.

The tracking-status bools `EyeTrackingActive`, `ExpressionTrackingActive` and `LipTrackingActive`
(no `v2/`) are sent when the avatar declares them. VRChat's native `/tracking/eye/LeftRightPitchYaw`
and `/tracking/eye/EyesClosedAmount` are for avatars without eye parameters of their own: with
`eye_tracking = "auto"`, each is sent only when the avatar declares no gaze (resp. eyelid) parameter.

A `Plan` is built once per avatar, off the frame path; `wire_values` and `encode` run per frame.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

import numpy as np

from . import osc

PARAMETERS = "/avatar/parameters/"
# VRChat's read-only tracking status outputs (creators.vrchat.com/avatars/face-tracking/osc), one OSC
# bool each; VRChat sends them to an OSCQuery app whose tree lists them. Sending to them does nothing.
STATUS_OUTPUTS = {"/avatar/parameters/UserEyeTracking": "eye", "/avatar/parameters/UserFaceTracking": "face",
                  "/avatar/avatarfullfacetracking": "full_face"}
STATUS_EYE = "EyeTrackingActive"
STATUS_FACE = ("ExpressionTrackingActive", "LipTrackingActive")

# VRCFaceTracking's combined shapes (UnifiedExpressionsParameters.UnifiedCombinedShapes): their bool
# form uses the 0.5 threshold; every other shape (base and simplified) uses 0.
COMBINED = frozenset("v2/" + n for n in (
    "EyeX", "EyeY", "EyeLeftX", "EyeLeftY", "EyeRightX", "EyeRightY", "PupilDilation", "PupilDiameterLeft",
    "PupilDiameterRight", "PupilDiameter", "EyeOpenLeft", "EyeOpenRight", "EyeOpen", "EyeClosedLeft",
    "EyeClosedRight", "EyeClosed", "EyeWide", "EyeLidLeft", "EyeLidRight", "EyeLid", "EyeSquint", "EyesSquint",
    "BrowUp", "BrowDown", "BrowInnerUp", "BrowOuterUp", "BrowExpressionRight", "BrowExpressionLeft",
    "BrowExpression", "JawX", "JawZ", "CheekSquint", "CheekPuffSuckLeft", "CheekPuffSuckRight", "CheekPuffSuck",
    "CheekSuck", "MouthUpperX", "MouthLowerX", "MouthX", "LipSuckUpper", "LipSuckLower", "LipSuck",
    "LipFunnelUpper", "LipFunnelLower", "LipFunnel", "LipPuckerUpper", "LipPuckerLower", "LipPuckerRight",
    "LipPuckerLeft", "LipPucker", "LipSuckFunnelUpper", "LipSuckFunnelLower", "LipSuckFunnelLowerLeft",
    "LipSuckFunnelLowerRight", "LipSuckFunnelUpperLeft", "LipSuckFunnelUpperRight", "MouthUpperUp",
    "MouthLowerDown", "MouthOpen", "MouthStretch", "MouthTightener", "MouthPress", "MouthDimple", "NoseSneer",
    "MouthTightenerStretch", "MouthTightenerStretchLeft", "MouthTightenerStretchRight", "MouthCornerYLeft",
    "MouthCornerYRight", "MouthCornerY", "SmileFrownRight", "SmileFrownLeft", "SmileFrown", "SmileSadRight",
    "SmileSadLeft", "SmileSad", "TongueX", "TongueY", "TongueArchY", "TongueShape"))
# Parameters that make an avatar's eyes its own (VRCFaceTracking's test for sending the native
# addresses: a known parameter named with Eye and X/Y for the gaze, Eye and Open/Lid for the lids;
# legacy v1 names included).
GAZE = ("v2/EyeX", "v2/EyeY", "v2/EyeLeftX", "v2/EyeLeftY", "v2/EyeRightX", "v2/EyeRightY",
        "EyesX", "EyesY", "LeftEyeX", "LeftEyeY", "RightEyeX", "RightEyeY")
LIDS = ("v2/EyeLid", "v2/EyeLidLeft", "v2/EyeLidRight", "v2/EyeOpen", "v2/EyeOpenLeft", "v2/EyeOpenRight",
        "LeftEyeLid", "RightEyeLid", "CombinedEyeLid", "LeftEyeLidExpanded", "RightEyeLidExpanded",
        "EyeLidExpanded", "LeftEyeLidExpandedSqueeze", "RightEyeLidExpandedSqueeze", "EyeLidExpandedSqueeze")
# Our outputs that carry the eyes' direction or openness: not sent when the native addresses drive them.
_EYE_OUTPUT = re.compile(r"(.*/)?v2/Eye(s?|Left|Right)[XY]|(.*/)?v2/Eye(Lid|Open|Closed)(Left|Right)?")
_VERSION_SEGMENT = re.compile(r"v\d+$")
_F1 = struct.Struct(">f")
_TRUE_AT = 0.5  # a wire value above this is sent as T


@dataclass(frozen=True, slots=True)
class AvatarParameter:
    """One parameter of VRChat's OSCQuery tree: its full address and OSC type tag (f, i, or T for bool)."""

    address: str
    type: str

    @property
    def is_bool(self) -> bool:
        return self.type in ("T", "F")


@dataclass(frozen=True)
class Avatar:
    id: str
    parameters: tuple[AvatarParameter, ...]


@dataclass(frozen=True)
class TrackingStatus:
    """What VRChat last reported on its status outputs; None until it has."""

    eye: bool | None = None  # eye tracking data is available for the user (automatic eye movement is not)
    face: bool | None = None  # face tracking is allowed and a face tracking source is active
    full_face: bool | None = None  # the avatar uses Face Tracking with Use All Tracking Keys


def parse_avatar(node: object) -> Avatar:
    """The avatar in an OSCQuery JSON tree: VRChat's `/avatar` node (or the root that holds it),
    CONTENTS `change` (VALUE: the avatar id) and `parameters` (nested CONTENTS; leaves have FULL_PATH
    and TYPE). Raises ValueError if the tree describes no avatar."""
    if not isinstance(node, dict):
        raise ValueError("the OSCQuery reply is not a JSON object")
    contents = node.get("CONTENTS") or {}
    if "parameters" not in contents and isinstance(contents.get("avatar"), dict):
        contents = contents["avatar"].get("CONTENTS") or {}
    if not isinstance(contents.get("parameters"), dict):
        raise ValueError("the OSCQuery tree has no /avatar/parameters node (is an avatar loaded?)")
    change = contents.get("change") or {}
    value = change.get("VALUE") if isinstance(change, dict) else None
    avatar_id = str(value[0]) if isinstance(value, list) and value else ""
    found: list[AvatarParameter] = []

    def walk(n: dict) -> None:
        if isinstance(n.get("TYPE"), str) and n["TYPE"] and isinstance(n.get("FULL_PATH"), str):
            found.append(AvatarParameter(n["FULL_PATH"], n["TYPE"][0]))
        for child in (n.get("CONTENTS") or {}).values():
            if isinstance(child, dict):
                walk(child)

    walk(contents["parameters"])
    return Avatar(avatar_id, tuple(found))


def _before(address: str, tail: str) -> str | None:
    """What precedes `/tail` at the end of `address`, unless that is a version segment (v1/...)."""
    if not address.endswith("/" + tail):
        return None
    head = address[:-len(tail) - 1]
    return None if _VERSION_SEGMENT.search(head) else head


def _bit_index(address: str, name: str) -> int | None:
    """k for a binary bit `<prefix>/<name><2**k>`, None otherwise."""
    m = re.fullmatch(r"(.*)/" + re.escape(name) + r"(\d+)", address)
    if m is None or _VERSION_SEGMENT.search(m.group(1)):
        return None
    n = int(m.group(2))
    return n.bit_length() - 1 if n > 0 and n & (n - 1) == 0 else None


def _declares(avatar: Avatar, names: tuple[str, ...]) -> bool:
    """Whether any avatar parameter, in any form (float, bool, bits, Negative), is one of `names`."""
    for p in avatar.parameters:
        base = re.sub(r"(\d+|Negative)$", "", p.address)
        if any(_before(base, n) is not None or _before(p.address, n) is not None for n in names):
            return True
    return False


def is_eye_output(name: str) -> bool:
    return _EYE_OUTPUT.fullmatch(name) is not None


def bool_threshold(name: str) -> float:
    """VRCFaceTracking's bool form is `value < threshold`: 0.5 for combined shapes, 0 otherwise."""
    return 0.5 if name in COMBINED else 0.0


@dataclass(frozen=True)
class Plan:
    """What to send for one avatar (or, without one, for any avatar): one slot per message.

    Slot kinds: float (the value), bool (value < threshold), bit (a binary group's bit), negative
    (value < 0) and status (tracking active). `src` indexes the mapper's outputs."""

    avatar: Avatar | None
    address: tuple[str, ...]
    is_float: np.ndarray
    native_gaze: bool
    native_lid: bool
    float_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    float_src: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    bool_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    bool_src: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    bool_threshold: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    bit_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    bit_src: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    bit_shift: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bit_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    bit_signed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    neg_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    neg_src: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    eye_status_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    face_status_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))
    prefix_value: tuple[bytes, ...] = ()  # float slots: address + ",f"; bool slots: address + ",T"
    prefix_false: tuple[bytes, ...] = ()  # bool slots: address + ",F"
    lacking: tuple[str, ...] = ()  # our outputs the avatar has in no form
    undriven: tuple[str, ...] = ()  # avatar parameters we send nothing to

    @property
    def size(self) -> int:
        return len(self.address)

    def summary(self) -> str:
        """One log line: what the avatar has, what we drive, what it lacks."""
        if self.avatar is None:
            return f"no avatar information: sending all {self.size} parameters to /avatar/parameters/<name>"
        kinds = {"float": int(self.float_slot.size), "bool": int(self.bool_slot.size),
                 "bit": int(self.bit_slot.size + self.neg_slot.size),
                 "status": int(self.eye_status_slot.size + self.face_status_slot.size)}
        eyes = ("native gaze" if self.native_gaze else "") + (" + eyelids" if self.native_lid else "")
        return (f"avatar {self.avatar.id or '(unknown id)'}: {len(self.avatar.parameters)} parameters; driving "
                f"{self.size} ({', '.join(f'{v} {k}' for k, v in kinds.items() if v)}); "
                f"native eyes: {eyes.strip(' +') or 'none (the avatar has its own)'}; "
                f"not on the avatar: {len(self.lacking)} of ours"
                + (f" (e.g. {', '.join(self.lacking[:4])})" if self.lacking else "")
                + f"; {len(self.undriven)} of its parameters not ours")


class _Builder:
    def __init__(self):
        self.address: list[str] = []
        self.is_float: list[bool] = []
        self.groups: dict[str, list] = {k: [] for k in ("float", "bool", "bit", "neg", "eye", "face")}

    def add(self, kind: str, address: str, *extra) -> None:
        self.groups[kind].append((len(self.address), *extra))
        self.address.append(address)
        self.is_float.append(kind == "float")

    def column(self, kind: str, i: int, dtype) -> np.ndarray:
        return np.array([row[i] for row in self.groups[kind]], dtype)

    def plan(self, avatar: Avatar | None, native_gaze: bool, native_lid: bool, lacking=(), undriven=()) -> Plan:
        c = self.column
        return Plan(
            avatar, tuple(self.address), np.array(self.is_float, bool), native_gaze, native_lid,
            float_slot=c("float", 0, np.intp), float_src=c("float", 1, np.intp),
            bool_slot=c("bool", 0, np.intp), bool_src=c("bool", 1, np.intp),
            bool_threshold=c("bool", 2, np.float32),
            bit_slot=c("bit", 0, np.intp), bit_src=c("bit", 1, np.intp), bit_shift=c("bit", 2, np.int64),
            bit_steps=c("bit", 3, np.float32), bit_signed=c("bit", 4, bool),
            neg_slot=c("neg", 0, np.intp), neg_src=c("neg", 1, np.intp),
            eye_status_slot=c("eye", 0, np.intp), face_status_slot=c("face", 0, np.intp),
            prefix_value=tuple(osc.prefix(a, "f" if f else "T") for a, f in zip(self.address, self.is_float)),
            prefix_false=tuple(b"" if f else osc.prefix(a, "F") for a, f in zip(self.address, self.is_float)),
            lacking=tuple(lacking), undriven=tuple(undriven))


def fallback_plan(names: tuple[str, ...], eye_mode: str) -> Plan:
    """No avatar information (no OSCQuery, or `--vrchat HOST:PORT`): every output as a float at
    `/avatar/parameters/<name>` and the status bools, as VRCFaceTracking does with all parameters
    forced relevant; native eyes unless `eye_mode` says parameters/off."""
    b = _Builder()
    for i, name in enumerate(names):
        if not (eye_mode in ("native", "off") and is_eye_output(name)):
            b.add("float", PARAMETERS + name, i)
    if eye_mode != "off":
        b.add("eye", PARAMETERS + STATUS_EYE)
    for status in STATUS_FACE:
        b.add("face", PARAMETERS + status)
    native = eye_mode in ("auto", "native")
    return b.plan(None, native, native)


def avatar_plan(names: tuple[str, ...], avatar: Avatar, eye_mode: str) -> Plan:
    """Only the forms of our outputs that `avatar` declares, at its addresses (first match wins)."""
    b = _Builder()
    used: set[str] = set()
    lacking = []
    bools = [p for p in avatar.parameters if p.is_bool]
    for i, name in enumerate(names):
        if eye_mode in ("native", "off") and is_eye_output(name):
            continue
        n_before = len(b.address)
        flt = next((p for p in avatar.parameters if p.type == "f" and _before(p.address, name) is not None), None)
        if flt is not None:
            b.add("float", flt.address, i)
        boo = next((p for p in bools if _before(p.address, name) is not None), None)
        if boo is not None:
            b.add("bool", boo.address, i, bool_threshold(name))
        neg = next((p for p in bools if _before(p.address, name + "Negative") is not None), None)
        bits: dict[int, str] = {}
        for p in bools:
            k = _bit_index(p.address, name)
            if k is not None and k not in bits:
                bits[k] = p.address
        for k, address in bits.items():
            b.add("bit", address, i, k, float(2 ** len(bits)), neg is not None)
        if neg is not None:
            b.add("neg", neg.address, i)
        if len(b.address) == n_before:
            lacking.append(name)
        used.update(b.address[n_before:])
    statuses = ((STATUS_EYE, "eye"),) if eye_mode != "off" else ()
    for status, kind in statuses + tuple((s, "face") for s in STATUS_FACE):
        p = next((p for p in bools if _before(p.address, status) is not None), None)
        if p is not None:
            b.add(kind, p.address)
            used.add(p.address)
    auto = eye_mode == "auto"
    native_gaze = eye_mode == "native" or (auto and not _declares(avatar, GAZE))
    native_lid = eye_mode == "native" or (auto and not _declares(avatar, LIDS))
    undriven = [p.address for p in avatar.parameters if p.address not in used]
    return b.plan(avatar, native_gaze, native_lid, lacking, undriven)


def wire_values(plan: Plan, values: np.ndarray, eye_active: bool, face_active: bool) -> np.ndarray:
    """Each slot's value this frame: floats as they are, bools and bits as 0 or 1."""
    w = np.zeros(plan.size, np.float32)
    w[plan.float_slot] = values[plan.float_src]
    w[plan.bool_slot] = values[plan.bool_src] < plan.bool_threshold
    if plan.bit_slot.size:
        v = values[plan.bit_src]
        a = np.abs(v)
        k = np.floor(a * plan.bit_steps).astype(np.int64)
        bit = ((k >> plan.bit_shift) & 1).astype(bool) | (a > 0.99999)
        w[plan.bit_slot] = bit & ((v >= 0) | plan.bit_signed)
    w[plan.neg_slot] = values[plan.neg_src] < 0
    w[plan.eye_status_slot] = eye_active
    w[plan.face_status_slot] = face_active
    return w


def encode(plan: Plan, wire: np.ndarray, indices: np.ndarray) -> list[bytes]:
    """The OSC messages for the slots in `indices`: floats as f, the rest as T or F (no payload)."""
    out = []
    for i in indices.tolist():
        if plan.is_float[i]:
            out.append(plan.prefix_value[i] + _F1.pack(float(wire[i])))
        else:
            out.append(plan.prefix_value[i] if wire[i] > _TRUE_AT else plan.prefix_false[i])
    return out
