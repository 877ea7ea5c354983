"""One output path: every sender the config enables, fed from the frame record alone.

`Outputs(cfg, ...)` builds one object per enabled `[vmc]`, `[vrchat]`, `[websocket]` section (and
takes extra listeners such as a recording); `send(frame)` encodes and sends a frame to each.
The live pipeline, `replay` and batch `process` all send through it, so a receiver cannot tell
them apart. A new transport is one class here (built from its config section) plus that
section in `bridge/config.py`.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from . import dashboard
from .avatar_match import MatchReport, match
from .config import Config, vmc_port
from .frame import AvatarFrame
from .mapping import Mapper, MappingSpec, load_preset, merge
from .protocols import jsonframe, vmc, vrchat
from .protocols.jsonframe import Control
from .retarget.vrm_file import VrmAvatar, read_vrm
from .transports.udp import UdpSender
from .vrchat_parameters import VrchatParameters


def avatar_mapper(cfg: Config, avatar: VrmAvatar | None = None) -> Mapper:
    """The ARKit -> avatar shape mapping `[mapping]` describes (no shapes when the face is off),
    its outputs named as `avatar`'s expressions when there is one (see `avatar_report`)."""
    if not cfg.face.enabled:
        return Mapper(MappingSpec())  # no face: send no blendshapes rather than a frozen neutral face
    spec = _mapping_spec(cfg)
    return Mapper(spec if avatar is None else match(spec, avatar, cfg.mapping.preset)[0])


def avatar_report(cfg: Config, avatar: VrmAvatar) -> MatchReport:
    """How `avatar_mapper(cfg, avatar)` matched the avatar's expressions."""
    return match(_mapping_spec(cfg) if cfg.face.enabled else MappingSpec(), avatar, cfg.mapping.preset)[1]


def _mapping_spec(cfg: Config) -> MappingSpec:
    m = cfg.mapping
    return merge(load_preset(m.preset), m.spec, m.drop)


class VmcOutput:
    """`[vmc]`: each person's avatar-space frame as VMC bundles over UDP, to their slot's port (or
    their name's, `[vmc] names`); with `bones = "avatar"` the bones as the avatar's own local
    rotations (the run's avatar, or `[avatar] file` in a replay)."""

    late = False

    @staticmethod
    def depends(cfg: Config):
        return cfg.vmc, cfg.avatar, cfg.tracking.people

    def __init__(self, cfg: Config, ctx: "Outputs"):
        self.avatar = None
        if cfg.vmc.bones == "avatar":  # config.py has checked that [avatar] file is set
            self.avatar = ctx.avatar if ctx.avatar is not None else read_vrm(cfg.avatar.file)
        self.bones: vmc.AvatarBones | None = None
        self.cfg = cfg
        self.name_ports = dict(cfg.vmc.names)
        self.senders: dict[int, UdpSender] = {}
        for slot in range(1, cfg.tracking.people + 1):
            self._sender(vmc_port(cfg, slot))
        self.t0 = ctx.t0

    def _sender(self, port: int) -> UdpSender:
        """One socket per destination port (a replay may hold more people than this config tracks)."""
        sender = self.senders.get(port)
        if sender is None:
            try:
                sender = self.senders[port] = UdpSender(self.cfg.vmc.host, port, "VMC")
            except BaseException:
                self.close()
                raise
        return sender

    @staticmethod
    def describe(cfg: Config) -> str:
        v, n = cfg.vmc, cfg.tracking.people
        where = (f"udp://{v.host}:{v.port}" if n == 1 else
                 f"udp://{v.host}: ports {', '.join(str(vmc_port(cfg, s)) for s in range(1, n + 1))} (slots 1-{n})")
        names = "".join(f", {name} -> {port}" for name, port in v.names)
        return f"VMC -> {where}{names}" + (" (avatar's own bones)" if v.bones == "avatar" else "")

    def send(self, frame: AvatarFrame) -> None:
        t = time.monotonic() - self.t0
        for person in frame.people:
            if self.avatar is not None and (self.bones is None or self.bones.names != person.bone_names):
                self.bones = vmc.avatar_bones(self.avatar, tuple(person.bone_names))
            port = self.name_ports.get(person.name) or vmc_port(self.cfg, person.slot)
            self._sender(port).send(vmc.encode_vmc(person, t, bones=self.bones))

    def close(self) -> None:
        for sender in self.senders.values():
            sender.close()


class VrchatOutput:
    """`[vrchat]`: one person's (`[vrchat] person` or `person_name`) first-person face as avatar parameters and native eye tracking, plus
    the `[reactions]` parameters; only values that changed are sent (see ChangeFilter). With
    `oscquery`, only the parameters VRChat's current avatar has, in its types (vrchat_parameters.py)."""

    late = False

    @staticmethod
    def depends(cfg: Config):
        return cfg.vrchat, cfg.mapping, cfg.face

    def __init__(self, cfg: Config, ctx: "Outputs"):
        v = cfg.vrchat
        self.person, self.person_name = v.person, v.person_name or None
        self.sender = UdpSender(v.host, v.port, "VRChat OSC")
        self.mapper = Mapper(load_preset("vrchat_unified")) if v.names == "unified" else avatar_mapper(cfg)
        self.parameters = VrchatParameters(self.mapper.names, v, self.sender)
        self.trackers = bool(v.trackers)  # the poses themselves are the person's (retarget/trackers.py)
        self.eye_names = vrchat.eye_parameter_names(self.mapper.names, self.mapper.apply)  # for headset mode
        self.parameter_filter = vrchat.ChangeFilter()

    @staticmethod
    def describe(cfg: Config) -> str:
        v = cfg.vrchat
        found = "; finds VRChat's avatar over OSCQuery" if v.oscquery else ""
        return f"VRChat OSC -> udp://{v.host}:{v.port} ({v.names} names{found})"

    def chosen(self, frame: AvatarFrame):
        """The person VRChat follows in this frame, or None while they are not tracked."""
        if self.person_name is not None:
            return next((p for p in frame.people if p.name == self.person_name), None)
        return next((p for p in frame.people if p.slot == self.person), None)

    def send(self, frame: AvatarFrame) -> None:
        p = self.chosen(frame)
        if p is None:
            return
        now = frame.source_time  # the change filter's clock: a replay selects exactly what the live run did
        s = p.subject
        sender, msgs = self.parameters.messages(self.mapper.apply(s.blendshapes), s, now)
        r = p.parameters
        if r.bool_names or r.float_names:
            both = np.concatenate([r.bools, r.floats]).astype(np.float32)
            msgs += vrchat.encode_reaction_parameters(r.bool_names, r.float_names, r.bools, r.floats,
                                                      self.parameter_filter.select(both, now))
        if self.trackers and p.trackers is not None:
            msgs += vrchat.encode_trackers(p.trackers)
        if not s.eyes_tracked:  # headset mode: the headset's eye tracking, if any, is not overridden
            msgs = vrchat.without_eyes(msgs, self.eye_names)
        sender.send(msgs)

    def close(self) -> None:
        self.parameters.close()
        self.sender.close()


class WebSocketOutput:
    """`[websocket]`: JSON frames to every client, control messages in, the dashboard page and
    its camera preview. A new hello goes out whenever the frame's channel names change."""

    late = True  # binds a port and announces the channel names: built by `Outputs.start`

    @staticmethod
    def depends(cfg: Config):
        return ()  # its address changes only on restart

    def __init__(self, cfg: Config, ctx: "Outputs"):
        from .transports.websocket import WebSocketServer
        ws = cfg.websocket
        self.names, self.mirror, self.people = ctx.names, ctx.mirror, ctx.people
        self.report = avatar_report(cfg, ctx.avatar).as_dict() if ctx.avatar is not None else None
        pages = dashboard.pages(ctx.avatar.path if ctx.avatar is not None else None) if ctx.dashboard else {}
        self.server = WebSocketServer(ws.host, ws.port, self._hello(), ctx.submit, ws.token, pages)
        self.server.start()
        self.preview = None
        if ctx.dashboard:  # the preview needs OpenCV; a replay serves no dashboard and loads none
            from .preview import PreviewEncoder
            self.preview = PreviewEncoder(self.server.publish_preview)

    def _hello(self) -> str:
        return jsonframe.hello(*self.names, self.mirror, self.report, self.people)

    def announce(self, people: dict) -> None:
        """New routes (a config reload changed where people go): every client gets a new hello."""
        self.people = people
        self.server.publish_hello(self._hello())

    @staticmethod
    def describe(cfg: Config) -> str:
        ws = cfg.websocket
        return f"WebSocket on ws://{ws.host}:{ws.port} (dashboard: http://{ws.host}:{ws.port}/)"

    def send(self, frame: AvatarFrame) -> None:
        p = frame.people[0] if frame.people else None
        if p is not None and (p.blend_names, p.bone_names) != self.names:
            self.names = (p.blend_names, p.bone_names)
            self.server.publish_hello(self._hello())
        if self.server.client_count:
            self.server.publish_frame(jsonframe.frame_message(frame), frame.has_events)

    def close(self) -> None:
        if self.preview is not None:
            self.preview.close()
        self.server.stop()


SECTIONS = {"vmc": VmcOutput, "vrchat": VrchatOutput, "websocket": WebSocketOutput}


def describe(cfg: Config) -> list[str]:
    """One line per destination `cfg` enables, for the start-up message."""
    return [o.describe(cfg) for name, o in SECTIONS.items() if getattr(cfg, name).enabled] or ["no transport enabled"]


class Outputs:
    """The senders `cfg` enables (one per `SECTIONS` entry), each sent every frame, then the
    `listeners` (e.g. a recording).

    UDP senders exist from construction; the WebSocket server (which binds a port and serves the
    dashboard) from `start(names, people)`. `mirror` is what the hello tells clients (the recording's
    flag in a replay)."""

    def __init__(self, cfg: Config, submit: Callable[[Control, Future], None], mirror: bool | None = None,
                 dashboard: bool = True, measure: bool = True, avatar: VrmAvatar | None = None):
        self.t0 = time.monotonic()
        self.avatar = avatar
        self.measure = measure
        self.submit = submit
        self.mirror = cfg.source.mirror if mirror is None else mirror
        self.dashboard = dashboard
        self.names: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self.people: dict | None = None  # the hello's `people`: see routes()
        self.active: dict[str, object] = {}
        self.listeners: list[Callable[[AvatarFrame], None]] = []
        self.cfg = cfg
        self._started = False
        self._build(cfg, [n for n, cls in SECTIONS.items() if not cls.late])

    def start(self, names: tuple[tuple[str, ...], tuple[str, ...]], people: dict | None = None) -> None:
        """Builds the late outputs (the WebSocket server), announcing these channel names and routes."""
        if not self._started:
            self._started, self.names, self.people = True, names, people
            self._build(self.cfg, [n for n, cls in SECTIONS.items() if cls.late])

    def reconfigure(self, cfg: Config) -> None:
        """Rebuilds the outputs whose config changed (see each one's `depends`)."""
        changed = [n for n, cls in SECTIONS.items()
                   if (self._started or not cls.late) and cls.depends(cfg) != cls.depends(self.cfg)]
        self._build(cfg, changed)
        self.cfg = cfg
        if self.people is not None:  # the hello's routes follow the new [vmc] and [vrchat]
            people = {**self.people, "routes": self.routes(self.people["max"])}
            if people != self.people and "websocket" in self.active:
                self.active["websocket"].announce(people)
            self.people = people

    def _build(self, cfg: Config, names: list[str]) -> None:
        """(Re)creates the named outputs that `cfg` enables; on a failure everything is closed."""
        try:
            for name in names:
                old = self.active.pop(name, None)
                if old is not None:
                    old.close()
                if getattr(cfg, name).enabled:
                    self.active[name] = SECTIONS[name](cfg, self)
        except BaseException:
            self.close()
            raise

    def describe(self) -> list[str]:
        return describe(self.cfg)

    def routes(self, people: int) -> list[dict]:
        """Per slot, and per name with a route of its own, the destinations that person's frames go
        to. A name's entries replace its slot's entries of the same protocol (the text before " udp://")."""
        cfg, v, rc = self.cfg, self.cfg.vmc, self.cfg.vrchat
        vrchat = [f"VRChat OSC udp://{rc.host}:{rc.port}"] if rc.enabled else []
        out = [{"slot": s, "outputs": ([f"VMC udp://{v.host}:{vmc_port(cfg, s)}"] if v.enabled else [])
                + (vrchat if not rc.person_name and rc.person == s else [])} for s in range(1, people + 1)]
        names = dict(v.names) if v.enabled else {}
        for name in sorted(set(names) | ({rc.person_name} if rc.person_name and rc.enabled else set())):
            out.append({"name": name, "outputs": ([f"VMC udp://{v.host}:{names[name]}"] if name in names else [])
                        + (vrchat if name == rc.person_name else [])})
        return out

    def send(self, frame: AvatarFrame) -> None:
        """Sends to every output, then hands the frame to the listeners (the recording). With
        `measure` (a live run) the time sending took goes into the frame's `send` and `total`
        timings first, so a recording keeps them; a replay leaves the recorded timings alone."""
        t0 = time.perf_counter()
        for o in self.active.values():
            o.send(frame)
        if self.measure:
            ms = (time.perf_counter() - t0) * 1000
            frame.timings_ms["send"] = ms
            frame.timings_ms["total"] = frame.timings_ms.get("total", 0.0) + ms
        for listener in self.listeners:
            listener(frame)

    def preview(self, seq: int, rgb: np.ndarray, views) -> None:
        """Offers the camera image and each person's landmarks ((Person, Observations) pairs) to the
        dashboard, if a client wants them."""
        ws = self.active.get("websocket")
        if ws is not None and ws.preview is not None and ws.server.preview_wanted:
            ws.preview.offer(seq, rgb, views)

    @property
    def client_count(self) -> int:
        ws = self.active.get("websocket")
        return ws.server.client_count if ws else 0

    def close(self) -> None:
        for o in self.active.values():
            o.close()
        self.active.clear()
