"""TOML config -> typed, validated settings; errors name the key and what is allowed.

Every section is a frozen dataclass; its fields are the allowed keys, their types and ranges
(field metadata) are the validation rules, and their defaults are the ecosystem defaults.
Command-line flags are applied as overrides on the raw tables, so they are validated the same way.
"""
from __future__ import annotations

import dataclasses
import functools
import ipaddress
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .classes import ACTIONS, ACTIVITIES, EXPRESSIONS, GESTURES, PAIR_ACTIVITIES
from .errors import ConfigError, show_key
from .frame import TRACKER_GROUPS, TRACKER_SLOTS
from .mapping import PRESETS, MappingSpec, parse_spec
from .reactions import Reaction, parse_reactions


POSE_MODELS = ("lite", "full")  # the pose models that ship; nothing is downloaded at run time
BUDGETS = ("normal", "low")  # `[source] budget`: with_budget() below says what low changes


def _range(lo: float | None = None, hi: float | None = None, choices: tuple | None = None, doc: str = "") -> dict:
    return {"lo": lo, "hi": hi, "choices": choices, "doc": doc}


@dataclass(frozen=True)
class SourceSettings:
    input: str = field(default="0", metadata=_range(doc="camera index, video file, image file or image folder"))
    loop: bool = False
    fast: bool = field(default=False, metadata=_range(doc="as fast as possible instead of the source's frame rate"))
    mirror: bool = field(default=True, metadata=_range(doc="avatar mirrors you (VTuber view); VRChat is never mirrored"))
    width: int = field(default=640, metadata=_range(160, 3840))
    height: int = field(default=480, metadata=_range(120, 2160))
    fps: float = field(default=30.0, metadata=_range(1, 240, doc="camera request; image folders play at this rate"))
    budget: str = field(default="normal", metadata=_range(choices=BUDGETS, doc="low: cheaper inference settings for weak CPUs"))


@dataclass(frozen=True)
class FaceSettings:
    enabled: bool = True
    min_detection_confidence: float = field(default=0.5, metadata=_range(0, 1))
    min_tracking_confidence: float = field(default=0.5, metadata=_range(0, 1))
    neck_share: float = field(default=0.3, metadata=_range(0, 1, doc="part of the head rotation given to the neck"))
    eye_max_yaw_deg: float = field(default=25.0, metadata=_range(0, 60))
    eye_max_pitch_deg: float = field(default=20.0, metadata=_range(0, 60))
    move_root: bool = field(default=True, metadata=_range(doc="head translation moves the avatar root"))
    translation_gain: float = field(default=1.0, metadata=_range(0, 10))
    headset: str = field(default="off", metadata=_range(choices=("off", "on", "auto"), doc=(
        "VR headset over the eyes: keep tracking the lower face, eyes and brows held neutral; auto: when the image shows one")))


@dataclass(frozen=True)
class PoseSettings:
    enabled: bool = False
    model: str = field(default="full", metadata=_range(choices=POSE_MODELS, doc="lite is faster, full more accurate"))
    min_detection_confidence: float = field(default=0.5, metadata=_range(0, 1))
    min_tracking_confidence: float = field(default=0.5, metadata=_range(0, 1))
    mode: str = field(default="auto", metadata=_range(choices=("auto", "full", "upper"),
                                                      doc="upper: seated (legs at rest, hips fixed); auto: upper when legs are not visible"))
    leg_visibility: float = field(default=0.5, metadata=_range(0, 1))
    seated_hip_deg: float = field(default=90.0, metadata=_range(0, 150))
    seated_knee_deg: float = field(default=90.0, metadata=_range(0, 160))
    arm_rest_down_deg: float = field(default=70.0, metadata=_range(0, 90, doc="an arm out of view eases to hang this far down"))
    neck_share: float = field(default=0.5, metadata=_range(0, 1))
    move_root: bool = True
    root_gain: float = field(default=1.0, metadata=_range(0, 10))
    hold_s: float = field(default=0.3, metadata=_range(0, 10))
    ease_s: float = field(default=0.6, metadata=_range(0.01, 10))
    return_s: float = field(default=0.25, metadata=_range(0.01, 10))
    rotation_min_cutoff: float = field(default=1.5, metadata=_range(0.01, 100))
    rotation_beta: float = field(default=0.5, metadata=_range(0, 1000))


@dataclass(frozen=True)
class HandsSettings:
    enabled: bool = False
    num_hands: int = field(default=2, metadata=_range(1, 2))
    min_detection_confidence: float = field(default=0.5, metadata=_range(0, 1))
    min_tracking_confidence: float = field(default=0.5, metadata=_range(0, 1))
    skip_when_out_of_view: bool = field(default=True, metadata=_range(doc="no hand inference while no wrist is in view (needs [pose])"))
    rescue: bool = field(default=False, metadata=_range(doc="look again in a crop around a pose wrist whose hand was not found (needs [pose]; about one hand inference per crop)"))
    hold_s: float = field(default=0.25, metadata=_range(0, 10))
    ease_s: float = field(default=0.5, metadata=_range(0.01, 10))
    return_s: float = field(default=0.3, metadata=_range(0.01, 10))
    rotation_min_cutoff: float = field(default=2.0, metadata=_range(0.01, 100))
    rotation_beta: float = field(default=0.6, metadata=_range(0, 1000))


@dataclass(frozen=True)
class TrackingSettings:
    people: int = field(default=1, metadata=_range(1, 4, doc=(
        "how many people to track, each with a stable id and their own slot (avatar, VMC port)")))
    keep_s: float = field(default=3.0, metadata=_range(0, 30, doc=(
        "a person out of view keeps their id and slot this long, to be known again when they come back")))
    identify: str = field(default="auto", metadata=_range(choices=("auto", "on", "off"), doc=(
        "name each person from the enrolled faces (`avatar-bridge enroll NAME`); auto: when someone is "
        "enrolled and the [people] extra is installed")))
    people_file: str = field(default="", metadata=_range(doc="enrolled faces; empty = people.json in the user config dir"))


@dataclass(frozen=True)
class ClassifySettings:
    expression: bool = field(default=True, metadata=_range(doc="7-class facial expression (FER2013 classes)"))
    expression_model: str = field(default="expression_fusion", metadata=_range(
        choices=("expression_fusion", "expression_fusion_fast", "expression_fer_mini_xception", "expression_fercnn")))
    expression_hz: float = field(default=10.0, metadata=_range(1, 60, doc="classifications per second (smoothed between)"))
    expression_enter: float = field(default=0.6, metadata=_range(0, 1, doc="trigger starts above this probability"))
    expression_exit: float = field(default=0.4, metadata=_range(0, 1, doc="and ends below this one"))
    action: bool = field(default=True, metadata=_range(doc="body actions (needs [pose]) and nod / head shake"))
    action_model: str = field(default="action_msr_tcn", metadata=_range(doc="an action model: its card's name"))
    action_model_dir: str = field(default="", metadata=_range(doc="folder of action_model; empty = the shipped models"))
    gesture: bool = field(default=True, metadata=_range(doc="hand gestures (needs [hands]): like, dislike, fist, palm, one, peace, ok, rock, l_sign"))
    action_enter: float = field(default=0.6, metadata=_range(0, 1))
    action_exit: float = field(default=0.4, metadata=_range(0, 1))
    mood: bool = field(default=True, metadata=_range(doc="one mood fused from expression, actions and gestures"))
    mood_body_weight: float = field(default=0.5, metadata=_range(0, 10, doc="weight of body evidence against the face"))
    activity: bool = field(default=True, metadata=_range(
        doc="everyday activities (needs [pose]): standing, sitting, walking, sitting_down, standing_up, lying, falling"))
    tongue: bool = field(default=False, metadata=_range(
        doc="ARKit tongueOut (VRChat v2/TongueOut) from the face image; off by default: it costs far more than 0.5 ms a frame"))
    tongue_hz: float = field(default=10.0, metadata=_range(1, 60, doc="tongue estimates per second (held in between)"))


@dataclass(frozen=True)
class FilterSettings:
    enabled: bool = True
    blend_min_cutoff: float = field(default=1.5, metadata=_range(0.01, 100))
    blend_beta: float = field(default=3.0, metadata=_range(0, 1000))
    rotation_min_cutoff: float = field(default=1.0, metadata=_range(0.01, 100))
    rotation_beta: float = field(default=1.0, metadata=_range(0, 1000))
    position_min_cutoff: float = field(default=1.0, metadata=_range(0.01, 100))
    position_beta: float = field(default=2.0, metadata=_range(0, 1000))


@dataclass(frozen=True)
class TrackingLossSettings:
    hold_s: float = field(default=0.5, metadata=_range(0, 10, doc="keep the last pose this long"))
    ease_s: float = field(default=0.8, metadata=_range(0.01, 10, doc="then ease to neutral over this long"))
    return_s: float = field(default=0.25, metadata=_range(0.01, 10, doc="blend back in when the face returns"))
    reacquire_frames: int = field(default=2, metadata=_range(1, 30, doc="detections in a row needed after a loss"))


@dataclass(frozen=True)
class CalibrationSettings:
    profile: str = field(default="", metadata=_range(doc="calibration profile path; empty = the user config dir"))
    neutral_seconds: float = field(default=2.0, metadata=_range(0.2, 30))


@dataclass(frozen=True)
class VmcSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = field(default=39539, metadata=_range(1, 65535, doc=(
        "with [tracking] people > 1, slot N sends to port + N - 1 unless `ports` lists them")))
    ports: tuple[int, ...] = field(default=(), metadata=_range(doc="one port per slot (1, 2, ...) when several people are tracked"))
    names: tuple[tuple[str, int], ...] = field(default=(), metadata=_range(doc=(
        "a port per enrolled name, e.g. names = { alice = 39545 }: that person's avatar wherever they stand")))
    bones: str = field(default="normalized", metadata=_range(choices=("normalized", "avatar"), doc=(
        "/VMC/Ext/Bone/Pos as normalized local rotations (rest = identity) or, with [avatar] file, as the "
        "avatar's own local rotations and positions (what the VMC protocol recommends for VRM 1.0)")))


@dataclass(frozen=True)
class VrchatSettings:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = field(default=9000, metadata=_range(1, 65535))
    names: str = field(default="unified", metadata=_range(choices=("unified", "mapping")))
    oscquery: bool = field(default=True, metadata=_range(
        doc="find VRChat over OSCQuery and send only the parameters its avatar has (--vrchat HOST:PORT turns it off)"))
    eye_tracking: str = field(default="auto", metadata={**_range(
        choices=("auto", "native", "parameters", "off"),
        doc="auto: native /tracking/eye/* only for avatars without eye parameters; native: only those; "
            "parameters: only the avatar's; off: no eyes (true/false: the old auto/parameters)"),
        "aliases": {True: "auto", False: "parameters"}})
    trackers: tuple[str, ...] = field(default=(), metadata=_range(
        doc="OSC trackers to send (needs [pose]): hip, chest, left_foot, right_foot, left_knee, right_knee, "
            "left_elbow, right_elbow, or the groups feet, knees, elbows, all"))
    height_m: float = field(default=1.7, metadata=_range(1.0, 2.5, doc="your standing height: scales the trackers"))
    person: int = field(default=1, metadata=_range(1, 4, doc="with several people: the slot whose face and body VRChat gets"))
    person_name: str = field(default="", metadata=_range(doc="with several people: follow this enrolled name instead of a slot"))


@dataclass(frozen=True)
class WebSocketSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = field(default=8765, metadata=_range(1, 65535))
    allow_remote: bool = field(default=False, metadata=_range(doc="required to bind a non-loopback host"))
    token: str = field(default="", metadata=_range(doc="clients must send it (?token=... or Authorization: Bearer ...); required off loopback"))


@dataclass(frozen=True)
class AvatarSettings:
    file: str = field(default="", metadata=_range(doc="your .vrm (0.x or 1.0): its bones, proportions and expression names shape the output"))


@dataclass(frozen=True)
class MappingSettings:
    preset: str = field(default="arkit", metadata=_range(choices=PRESETS))
    drop: tuple[str, ...] = ()
    spec: MappingSpec = field(default_factory=MappingSpec)


@dataclass(frozen=True)
class Config:
    source: SourceSettings = field(default_factory=SourceSettings)
    face: FaceSettings = field(default_factory=FaceSettings)
    pose: PoseSettings = field(default_factory=PoseSettings)
    hands: HandsSettings = field(default_factory=HandsSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    classify: ClassifySettings = field(default_factory=ClassifySettings)
    filter: FilterSettings = field(default_factory=FilterSettings)
    tracking_loss: TrackingLossSettings = field(default_factory=TrackingLossSettings)
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)
    mapping: MappingSettings = field(default_factory=MappingSettings)
    avatar: AvatarSettings = field(default_factory=AvatarSettings)
    vmc: VmcSettings = field(default_factory=VmcSettings)
    vrchat: VrchatSettings = field(default_factory=VrchatSettings)
    websocket: WebSocketSettings = field(default_factory=WebSocketSettings)
    reactions: tuple[Reaction, ...] = ()


SECTIONS: dict[str, type] = {
    "source": SourceSettings, "face": FaceSettings, "pose": PoseSettings, "hands": HandsSettings,
    "tracking": TrackingSettings, "classify": ClassifySettings,
    "filter": FilterSettings,
    "tracking_loss": TrackingLossSettings, "calibration": CalibrationSettings, "mapping": MappingSettings,
    "avatar": AvatarSettings,
    "vmc": VmcSettings, "vrchat": VrchatSettings, "websocket": WebSocketSettings,
}
OTHER_SECTIONS = ("reactions",)  # free-form tables with their own parser
_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


@dataclass(frozen=True)
class _Origin:
    """Says where a value came from, so an error names what the user wrote: the file's key, the
    flag as typed (`labels`, e.g. ("websocket", "host") -> "--ws 0.0.0.0:8765"), or for other
    overrides, such as edits sent over the WebSocket, just the key."""
    path: str | None
    file: dict
    overrides: dict
    labels: dict

    def prefix(self, section: str) -> str:
        """The file's name, when the whole section comes from the file."""
        return f"{self.path}: " if self.path and section in self.file and section not in self.overrides else ""

    def section(self, name: str) -> str:
        return f"{self.prefix(name)}[{name}]"

    def value(self, section: str, key: str, value: Any) -> str:
        overridden = isinstance(self.overrides.get(section), dict) and key in self.overrides[section]
        if overridden and (section, key) in self.labels:
            return self.labels[(section, key)]
        prefix = "" if overridden or not self.path else f"{self.path}: "
        return f"{prefix}[{section}] {key} = {value!r}"


def _coerce(where: str, f: dataclasses.Field, value: Any) -> Any:
    typ = {"bool": bool, "int": int, "float": float, "str": str}[f.type]  # annotations are strings here
    if isinstance(value, bool) and "aliases" in f.metadata:  # an old bool key that became a choice
        value = f.metadata["aliases"][value]
    ok = (isinstance(value, bool) if typ is bool else
          isinstance(value, int) and not isinstance(value, bool) if typ is int else
          isinstance(value, (int, float)) and not isinstance(value, bool) if typ is float else
          isinstance(value, str))
    if not ok:
        raise ConfigError(f"{where}: expected {_TYPE_NAMES[typ]}")
    if typ is float:
        value = float(value)
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{where}: allowed values are {', '.join(map(str, meta['choices']))}")
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{where}: must be between {lo} and {hi}")
    return value


def _section(name: str, cls: type, table: Any, origin: _Origin) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{origin.section(name)} must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "spec"}
    kwargs = {}
    for key, value in table.items():
        if name == "mapping" and key in ("outputs", "shapes"):
            continue
        if key not in fields:
            raise ConfigError(f"{origin.prefix(name)}unknown key [{name}] {show_key(key)}; allowed: {', '.join(fields)}")
        where = origin.value(name, key, value)
        if key == "drop":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: expected a list of output names")
            kwargs[key] = tuple(value)
        elif name == "vrchat" and key == "trackers":
            kwargs[key] = _trackers(where, value)
        elif name == "vmc" and key == "ports":
            kwargs[key] = _ports(where, value)
        elif name == "vmc" and key == "names":
            kwargs[key] = _name_ports(where, value)
        else:
            kwargs[key] = _coerce(where, fields[key], value)
    if name == "mapping":
        own = origin.file.get("mapping")
        if origin.path and isinstance(own, dict) and "mapping" in origin.overrides:
            parse_spec(f"{origin.path}: [mapping]", own)  # the file's own mistakes are named as the file's
        kwargs["spec"] = parse_spec(origin.section("mapping"), table)
    return cls(**kwargs)


def _trackers(where: str, value: Any) -> tuple[str, ...]:
    """`[vrchat] trackers`: tracker names and groups -> the tracker names, in slot order."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of tracker names, e.g. [\"hip\", \"feet\"]")
    names: list[str] = []
    for v in value:
        if v not in TRACKER_SLOTS and v not in TRACKER_GROUPS:
            raise ConfigError(f"{where}: unknown tracker {v!r}; choose from {', '.join(TRACKER_SLOTS)} "
                              f"or the groups {', '.join(TRACKER_GROUPS)}")
        names += TRACKER_GROUPS.get(v, (v,))
    return tuple(sorted(set(names), key=TRACKER_SLOTS.__getitem__))


def _port(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError(f"{where}: ports are integers from 1 to 65535")
    return value


def _ports(where: str, value: Any) -> tuple[int, ...]:
    """`[vmc] ports`: one per slot, all different."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of ports, one per person slot, e.g. [39539, 39540]")
    ports = tuple(_port(where, v) for v in value)
    if len(set(ports)) != len(ports):
        raise ConfigError(f"{where}: each slot needs its own port")
    return ports


def _name_ports(where: str, value: Any) -> tuple[tuple[str, int], ...]:
    """`[vmc] names`: enrolled name -> port."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of name = port, e.g. names = {{ alice = 39545 }}")
    return tuple(sorted((str(n), _port(f"{where} ({n})", p)) for n, p in value.items()))


def vmc_port(cfg: Config, slot: int) -> int:
    """Where slot `slot`'s avatar listens: `[vmc] ports`, else the base port + slot - 1."""
    v = cfg.vmc
    return v.ports[slot - 1] if slot <= len(v.ports) else v.port + slot - 1


def with_budget(cfg: Config) -> Config:
    """`[source] budget = "low"` picks the cheaper settings that still track well (measured in
    bench/cpu.py): the lite pose model and the one-view expression model at 5 Hz at most; the trackers
    also run pose and hands on alternate frames (bridge/tracking/combined.py)."""
    if cfg.source.budget != "low":
        return cfg
    return dataclasses.replace(
        cfg, pose=dataclasses.replace(cfg.pose, model="lite"),
        classify=dataclasses.replace(cfg.classify, expression_model="expression_fusion_fast",
                                     expression_hz=min(cfg.classify.expression_hz, 5.0)))


def from_tables(tables: dict, origin: str = "config") -> Config:
    """Validated settings from raw tables; every error starts with `origin` (a file name)."""
    return _build(tables, _Origin(origin, tables, {}, {}))


def _build(tables: dict, origin: _Origin) -> Config:
    unknown = set(tables) - set(SECTIONS) - set(OTHER_SECTIONS)
    if unknown:
        first = sorted(unknown)[0]
        raise ConfigError(f"{origin.prefix(first)}unknown section [{show_key(first)}]; "
                          f"allowed: {', '.join((*SECTIONS, *OTHER_SECTIONS))}")
    cfg = Config(**{name: _section(name, cls, tables[name], origin) for name, cls in SECTIONS.items() if name in tables})
    cfg = with_budget(cfg)
    if "reactions" in tables:
        cfg = dataclasses.replace(cfg, reactions=parse_reactions(origin.section("reactions"), tables["reactions"],
                                                                 _known_classes(cfg)))
    if cfg.vrchat.enabled and cfg.vrchat.trackers and not cfg.pose.enabled:
        raise ConfigError(f"{origin.value('vrchat', 'trackers', list(cfg.vrchat.trackers))}: the trackers come from "
                          "body tracking: add --pose (or set [pose] enabled = true)")
    people = cfg.tracking.people
    if people > 1 and cfg.hands.enabled and not cfg.pose.enabled:
        raise ConfigError(f"{origin.value('tracking', 'people', people)}: with several people each hand goes to "
                          "the body it belongs to: add --pose (or set [pose] enabled = true) for --hands")
    if people > 1 and cfg.vmc.ports and len(cfg.vmc.ports) < people:
        raise ConfigError(f"{origin.value('vmc', 'ports', list(cfg.vmc.ports))}: {people} people need {people} "
                          "ports, one per slot")
    slot_of = {vmc_port(cfg, s): s for s in range(1, people + 1)} if people > 1 else {}
    for name, port in cfg.vmc.names:
        if port in slot_of:
            raise ConfigError(f"{origin.value('vmc', 'names', dict(cfg.vmc.names))}: {name}'s port {port} is also "
                              f"slot {slot_of[port]}'s, so two people would drive one avatar: give {name} a port "
                              f"no slot uses (the slots use {', '.join(map(str, slot_of))})")
    if cfg.vrchat.enabled and cfg.vrchat.person > people:
        raise ConfigError(f"{origin.value('vrchat', 'person', cfg.vrchat.person)}: there are only {people} "
                          "slot(s): raise [tracking] people (--people) or choose a lower slot")
    if people > 1 and cfg.face.headset != "off":
        raise ConfigError(f"{origin.value('face', 'headset', cfg.face.headset)}: headset mode tracks one person: "
                          "use it with [tracking] people = 1")
    if cfg.vmc.enabled and cfg.vmc.bones == "avatar" and not cfg.avatar.file:
        raise ConfigError(f"{origin.value('vmc', 'bones', cfg.vmc.bones)}: the avatar's own bones need the avatar: "
                          "add --avatar FILE.vrm (or set [avatar] file), or use bones = \"normalized\"")
    for section in ("vmc", "vrchat", "websocket"):
        s = getattr(cfg, section)
        if s.enabled:
            _check_host(origin.value(section, "host", s.host), s.host)
    ws = cfg.websocket
    if ws.enabled and not _is_loopback(ws.host):
        where = origin.value("websocket", "host", ws.host)
        if not ws.allow_remote:
            raise ConfigError(f"{where}: this exposes the control socket to the network; add --ws-allow-remote "
                              "(or set [websocket] allow_remote = true) if you mean it")
        if len(ws.token) < 16:
            raise ConfigError(f"{where}: reachable from the network, so clients must present a token: pass "
                              "--ws-token SECRET (at least 16 characters) or set [websocket] token")
    return cfg


def _check_host(where: str, host: str) -> None:
    """A destination must be an IP address or resolve now, before any model loads, not fail later."""
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        if host.replace(".", "").isdigit():
            raise ConfigError(f"{where}: {host!r} is not a valid IP address (four numbers from 0 to 255, "
                              "e.g. 127.0.0.1)") from None
    try:
        _resolve(host)
    except ValueError:  # UnicodeError: a label over 63 characters
        raise ConfigError(f"{where}: not a valid host name; use an IP address such as 127.0.0.1") from None
    except socket.gaierror as e:
        raise ConfigError(f"{where}: cannot resolve the host name ({e.strerror}); use an IP address such as "
                          "127.0.0.1 or a name this machine can resolve") from None


@functools.lru_cache(maxsize=64)
def _resolve(host: str) -> None:
    """Cached so that reloads and live edits do not look the same name up again (failures are not cached)."""
    socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)


def _known_classes(cfg: Config) -> dict[str, tuple[str, ...]]:
    """Class names a [reactions] entry may name (actions only for the shipped action model)."""
    known = {"expression": EXPRESSIONS, "mood": EXPRESSIONS, "gesture": GESTURES, "activity": ACTIVITIES,
             "pair_activity": PAIR_ACTIVITIES}
    if cfg.classify.action_model == "action_msr_tcn" and not cfg.classify.action_model_dir:
        known["action"] = ACTIONS
    return known


def _is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def read_tables(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist: check the path, or run without --config "
                          "(`avatar-bridge init-config FILE` writes a commented one)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {path} cannot be read ({e.__class__.__name__}): check its permissions "
                          "and that it is UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML ({e})") from None


def deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load(path: Path | None, overrides: dict | None = None, labels: dict | None = None) -> Config:
    """The file at `path` (or the defaults) with `overrides` (flags, live edits) layered on top.
    `labels` maps (section, key) of an override to the flag as the user typed it, for errors."""
    tables = read_tables(path) if path else {}
    over = overrides or {}
    return _build(deep_merge(tables, over), _Origin(str(path) if path else None, tables, over, labels or {}))
