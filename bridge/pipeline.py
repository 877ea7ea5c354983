"""Wires source -> trackers -> solvers -> retargeters -> classifiers -> encoders -> senders,
and times each stage.

The main thread reads and tracks; a worker thread does everything after inference; the source's
reader, the WebSocket loop, the preview encoder and the config watcher have their own threads and
talk to the pipeline through single slots and a command queue, so nothing on the frame path waits
on the network or the disk.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .arkit import ARKIT_NAMES, INDEX
from .calibration import CalibrationRun, default_config_path, default_profile_path, load_profile, save_profile
from .classify.stage import ClassifierStage
from .config import Config, deep_merge, load
from .errors import BridgeError
from .frame import AvatarFrame, FaceState
from .live_config import LiveEdits, save_to_toml
from .mapping import Mapper, MappingSpec, load_preset, merge
from .preview import PreviewEncoder
from .protocols import jsonframe, vmc, vrchat
from .reactions import ReactionState
from .protocols.jsonframe import Control
from .retarget.avatar import AvatarRetargeter
from .retarget.face import FaceSolver, head_from_matrix
from .retarget.skeleton import SkeletonRetargeter
from .sources import Source
from .tracking.combined import Observations, Trackers
from .tracking.face import FaceTracker
from .transports.udp import UdpSender
from .transports.websocket import WebSocketServer

log = logging.getLogger("avatar_bridge.pipeline")
_PAUSED = object()
BLINKS = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]


@dataclass
class Stats:
    frames: int = 0
    faces: int = 0
    started: float = field(default_factory=time.monotonic)
    recent: deque = field(default_factory=lambda: deque(maxlen=60))  # (monotonic end time, latency ms)
    stage_ms: dict[str, deque] = field(default_factory=dict)

    def add(self, frame: AvatarFrame) -> None:
        self.frames += 1
        self.faces += frame.face.found
        self.recent.append((time.monotonic(), (time.time() - frame.capture_time) * 1000))
        for k, v in frame.timings_ms.items():
            self.stage_ms.setdefault(k, deque(maxlen=300)).append(v)

    @property
    def fps(self) -> float:
        if len(self.recent) < 2:
            return 0.0
        span = self.recent[-1][0] - self.recent[0][0]
        return (len(self.recent) - 1) / span if span > 0 else 0.0

    @property
    def latency_ms(self) -> float:
        return float(np.median([lat for _, lat in self.recent])) if self.recent else 0.0

    def medians(self) -> dict[str, float]:
        return {k: float(np.median(v)) for k, v in self.stage_ms.items()}


class ConfigWatcher:
    """Polls the config file; a valid new version is handed over, an invalid one is reported once."""

    def __init__(self, path: Path, overrides: Callable[[], dict], on_config: Callable[[Config], None],
                 interval_s: float = 0.5):
        """`overrides()` gives the tables layered over the file (flags, then live edits)."""
        self.path = path
        self.overrides = overrides
        self.on_config = on_config
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._mtime = self._stat()
        self._last_error = ""
        self._thread = threading.Thread(target=self._run, name="config-watcher", daemon=True)

    def _stat(self) -> float | None:
        try:
            st = self.path.stat()
            return st.st_mtime_ns + st.st_size
        except OSError:
            return None

    def start(self) -> None:
        self._thread.start()

    def check(self) -> None:
        m = self._stat()
        if m == self._mtime:
            return
        self._mtime = m
        try:
            cfg = load(self.path, self.overrides())
        except BridgeError as e:
            if str(e) != self._last_error:
                self._last_error = str(e)
                log.warning("%s; keeping the last good config", e)
            return
        self._last_error = ""
        log.info("reloaded %s", self.path)
        self.on_config(cfg)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()

    def stop(self) -> None:
        self._stop.set()


def build_mapper(cfg: Config) -> Mapper:
    if not cfg.face.enabled:
        return Mapper(MappingSpec())  # no face: send no blendshapes rather than a frozen neutral face
    m = cfg.mapping
    return Mapper(merge(load_preset(m.preset), m.spec, m.drop))


class Pipeline:
    def __init__(self, cfg: Config, source: Source, config_path: Path | None = None, overrides: dict | None = None,
                 max_frames: int | None = None, tracker: FaceTracker | None = None):
        self.cfg = cfg
        self.source = source
        self.config_path = config_path
        self.overrides = overrides or {}
        self.max_frames = max_frames
        self.stats = Stats()
        self.listeners: list[Callable[[AvatarFrame], None]] = []
        self.paused = False
        self._stop = threading.Event()
        self._pending_config: Config | None = None
        self._commands: queue.SimpleQueue[tuple[Control, Future]] = queue.SimpleQueue()
        self._calibration: CalibrationRun | None = None
        self._calibration_future: Future | None = None
        self._t0 = time.monotonic()
        self._seq = 0
        self.profile_path = Path(cfg.calibration.profile).expanduser() if cfg.calibration.profile else default_profile_path()
        profile = load_profile(self.profile_path)
        if profile is not None:
            log.info("calibration profile %s loaded", self.profile_path)
        self.vmc: UdpSender | None = None
        self.vrchat: UdpSender | None = None
        self.ws: WebSocketServer | None = None
        self.preview: PreviewEncoder | None = None
        self.watcher: ConfigWatcher | None = None
        self.trackers = Trackers(cfg, source.still, face=tracker)
        try:
            self.solver = FaceSolver(cfg.face, cfg.filter, cfg.tracking_loss, profile, source.still)
            self._vrchat_filter = vrchat.ChangeFilter()
            self._configure(cfg)
            self.live = LiveEdits()
            self.watcher = ConfigWatcher(config_path, self._layered, self._offer_config) if config_path else None
        except BaseException:
            self._close_outputs()  # the landmarkers now, not in a destructor at interpreter exit
            raise

    # --- configuration ------------------------------------------------------------------
    def _configure(self, cfg: Config) -> None:
        mapper = build_mapper(cfg)
        if (cfg.face.enabled, cfg.pose, cfg.hands) != (self.cfg.face.enabled, self.cfg.pose, self.cfg.hands) \
                and hasattr(self, "skeleton"):
            log.warning("[face] enabled, [pose] and [hands] changes take effect on restart")
        if not hasattr(self, "skeleton"):
            self.skeleton = SkeletonRetargeter(cfg, self.source.still)
        if not hasattr(self, "classifiers") or cfg.classify != self.cfg.classify:
            c = cfg.classify
            self.classifiers = ClassifierStage(c, cfg.source.mirror) \
                if (c.expression and cfg.face.enabled) or c.action or (c.gesture and cfg.hands.enabled) else None
        self.retargeter = AvatarRetargeter(mapper, cfg.source.mirror, cfg.face.neck_share,
                                           cfg.face.move_root, cfg.face.translation_gain)
        self.vrchat_mapper = Mapper(load_preset("vrchat_unified")) if cfg.vrchat.names == "unified" else mapper
        if (cfg.face, cfg.filter, cfg.tracking_loss) != (self.cfg.face, self.cfg.filter, self.cfg.tracking_loss):
            self.solver = FaceSolver(cfg.face, cfg.filter, cfg.tracking_loss, self.solver.profile,
                                     self.source.still)
        self.vmc = self._udp(self.vmc, cfg.vmc.enabled, cfg.vmc.host, cfg.vmc.port, "VMC")
        self.vrchat = self._udp(self.vrchat, cfg.vrchat.enabled, cfg.vrchat.host, cfg.vrchat.port, "VRChat OSC")
        if not hasattr(self, "reactions") or cfg.reactions != self.cfg.reactions:
            self.reactions = ReactionState(cfg.reactions)
            self._vrchat_reaction_filter = vrchat.ChangeFilter()
            self._reaction_bools = np.zeros(len(self.reactions.bool_names), bool)
            self._reaction_floats = np.zeros(len(self.reactions.float_names), np.float32)
        extra = tuple(n for n in self.reactions.blend_names if n not in mapper.names)
        self._reaction_slots = np.array([(mapper.names + extra).index(n) for n in self.reactions.blend_names], np.intp)
        self.blend_names = mapper.names + extra
        self.hello = jsonframe.hello(self.blend_names, self.skeleton.names, cfg.source.mirror)
        if self.ws is not None:
            if (cfg.websocket.host, cfg.websocket.port) != (self.cfg.websocket.host, self.cfg.websocket.port):
                log.warning("the WebSocket address changes only on restart")
            self.ws.publish_hello(self.hello)
        self.cfg = cfg

    def _udp(self, current: UdpSender | None, enabled: bool, host: str, port: int, name: str) -> UdpSender | None:
        if current is not None and enabled and current.address[:2] == (host, port):
            return current
        if current is not None:
            current.close()
        return UdpSender(host, port, name) if enabled else None

    def _layered(self, live: dict | None = None) -> dict:
        return deep_merge(self.overrides, self.live.tables if live is None else live)

    def _offer_config(self, cfg: Config) -> None:
        self._pending_config = cfg  # picked up by the pipeline thread at the next frame

    # --- control ------------------------------------------------------------------------
    def submit(self, control: Control, fut: Future) -> None:
        """Thread-safe: queue a control command; `fut` receives (ok, message)."""
        self._commands.put((control, fut))

    def _run_command(self, control: Control, fut: Future) -> None:
        c = control.command
        if c == "ping":
            fut.set_result((True, "pong"))
        elif c == "pause":
            self.paused = True
            fut.set_result((True, "paused: tracking and sending stopped"))
        elif c == "resume":
            self.paused = False
            fut.set_result((True, "resumed"))
        elif c in ("set_preset", "set_shape", "set_output", "rename"):
            try:
                mapper = self.retargeter.mapper
                tables = self.live.proposal(c, control.args, mapper, lambda name: self._mix_of(name))
                cfg = load(self.config_path, self._layered(tables))
                build_mapper(cfg)  # validates the whole mapping before anything changes
            except BridgeError as e:
                fut.set_result((False, str(e)))
                return
            self.live.commit(tables)
            self._configure(cfg)
            fut.set_result((True, f"{c} applied (not saved: send save_config to keep it)"))
        elif c == "save_config":
            path = self.config_path or default_config_path()
            try:
                save_to_toml(path, self.live.tables, resources.files("bridge.assets").joinpath("avatar-bridge.toml").read_text())
            except (OSError, ValueError) as e:
                fut.set_result((False, f"could not write {path} ({e}); check the folder's permissions"))
                return
            hint = "" if self.config_path else f"; start with --config {path} to use it"
            fut.set_result((True, f"saved to {path}{hint}"))
        elif c == "reload_config":
            if self.watcher is None:
                fut.set_result((False, "no config file in use (start with --config FILE)"))
                return
            try:
                self._configure(load(self.config_path, self._layered()))
                fut.set_result((True, f"reloaded {self.config_path}"))
            except BridgeError as e:
                fut.set_result((False, f"{e}; keeping the last good config"))
        elif c == "calibrate":
            if self._calibration is not None:
                fut.set_result((False, "a calibration is already running"))
                return
            self.start_calibration(self.cfg.calibration.neutral_seconds, 0.0, fut)

    def _mix_of(self, output: str) -> dict[str, float]:
        mapper = self.retargeter.mapper
        row = mapper.weights[mapper.names.index(output)]
        return {ARKIT_NAMES[i]: float(row[i]) for i in np.flatnonzero(row)}

    def start_calibration(self, neutral_s: float, extremes_s: float = 0.0, fut: Future | None = None,
                          announce=lambda phase, seconds: log.info("calibrating %s: %.1f s", phase, seconds)) -> None:
        self._calibration = CalibrationRun(neutral_s, extremes_s, None, announce)
        self._calibration_future = fut

    def _feed_calibration(self, t: float, obs) -> None:
        if obs is None:
            profile = self._calibration.feed(t, None, None, None)
        else:
            rot, pos = head_from_matrix(obs.matrix)
            profile = self._calibration.feed(t, obs.blendshapes, rot, pos)
        if profile is None:
            return
        self._calibration = None
        self.solver.set_profile(profile)
        try:
            save_profile(profile, self.profile_path)
            ok, msg = True, f"calibrated; profile saved to {self.profile_path}"
        except OSError as e:
            ok, msg = False, f"calibrated, but saving {self.profile_path} failed ({e.strerror}); set [calibration] profile"
        log.info(msg)
        if self._calibration_future is not None:
            self._calibration_future.set_result((ok, msg))
            self._calibration_future = None

    @property
    def calibrating(self) -> bool:
        return self._calibration is not None

    # --- running ------------------------------------------------------------------------
    def start_transports(self) -> None:
        ws = self.cfg.websocket
        if ws.enabled and self.ws is None:
            page = resources.files("bridge.dashboard").joinpath("index.html").read_bytes()
            self.ws = WebSocketServer(ws.host, ws.port, self.hello, self.submit, ws.token,
                                      pages={"/": ("text/html; charset=utf-8", page)})
            self.ws.start()
            self.preview = PreviewEncoder(self.ws.publish_preview)
        if self.watcher is not None:
            self.watcher.start()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> Stats:
        """Track on this thread, post-process on a worker: MediaPipe releases the GIL, so the
        sidecar's own work for frame N overlaps inference of frame N+1 on the second core."""
        self.start_transports()
        handoff: queue.Queue = queue.Queue(maxsize=2)  # bounded, blocking: no frame is ever dropped
        errors: list[BaseException] = []

        def worker() -> None:
            while (item := handoff.get()) is not None:
                try:
                    self._housekeeping()
                    if item is not _PAUSED:
                        self._process(*item)
                except BaseException as e:  # noqa: BLE001 - re-raised on the main thread
                    errors.append(e)
                    self._stop.set()
                    while handoff.get() is not None:
                        pass
                    return

        thread = threading.Thread(target=worker, name="pipeline-post", daemon=True)
        thread.start()
        tracked = 0
        try:
            while not self._stop.is_set() and (self.max_frames is None or tracked < self.max_frames):
                item = self._read_and_track()
                if item is None:
                    break
                handoff.put(item)  # a paused tick still lets the worker answer commands
                tracked += item is not _PAUSED
        finally:
            handoff.put(None)
            thread.join()
            self.close()
        if errors:
            raise errors[0]
        return self.stats

    def step(self) -> bool:
        """Process one source frame synchronously; False at the end of the source."""
        item = self._read_and_track()
        if item is None:
            return False
        self._housekeeping()
        if item is not _PAUSED:
            self._process(*item)
        return True

    def _read_and_track(self):
        src = self.source.read()
        if src is None:
            return None
        if self.paused:
            return _PAUSED
        t0 = time.perf_counter()
        obs = self.trackers.process(src.rgb, int(src.source_time * 1000))
        return src, obs, (time.perf_counter() - t0) * 1000

    def _housekeeping(self) -> None:
        """Config changes and control commands, applied between frames on the processing thread."""
        if self._pending_config is not None:
            cfg, self._pending_config = self._pending_config, None
            self._configure(cfg)
        while not self._commands.empty():
            self._run_command(*self._commands.get_nowait())

    def _process(self, src, obs: Observations, track_ms: float) -> None:
        t1 = time.perf_counter()
        if self._calibration is not None:
            self._feed_calibration(src.source_time, obs.face)
        state: FaceState = self.solver.solve(obs.face, src.source_time)
        face, values, face_bones, face_root = self.retargeter.solve(state)
        if len(values) < len(self.blend_names):  # room for the [reactions] shapes
            values = np.concatenate([values, np.zeros(len(self.blend_names) - len(values), values.dtype)])
        bones, root = self.skeleton.solve(obs, state, face_bones, face_root, src.source_time)
        t2 = time.perf_counter()
        frame = AvatarFrame(
            seq=self._seq, capture_time=src.capture_time, source_time=src.source_time, face=face,
            blend_names=self.blend_names, blend_values=values, bone_names=self.skeleton.names,
            bone_rotations=bones, bone_positions=self.skeleton.positions, root_position=root,
            image_size=(src.rgb.shape[1], src.rgb.shape[0]),
        )
        self._seq += 1
        frame.timings_ms.update(obs.timings_ms)
        frame.timings_ms.update(track=track_ms, solve=(t2 - t1) * 1000)
        if self.classifiers is not None:
            self.classifiers.process(src.source_time, src.rgb, obs.face, obs.pose,
                                     state.head_rotation if state.found else None, frame.classes, frame.events,
                                     obs.hands if self.trackers.hands is not None else None)
            if self.reactions.reactions:
                self._react(frame, src.source_time)
            t2b = time.perf_counter()
            frame.timings_ms["classify"] = (t2b - t2) * 1000
            t2 = t2b
        self._send(frame, state)
        if self.preview is not None and self.ws is not None and self.ws.preview_wanted:
            self.preview.offer(frame.seq, src.rgb, obs)
        t3 = time.perf_counter()
        frame.timings_ms.update(send=(t3 - t2) * 1000, total=track_ms + (t3 - t1) * 1000)
        self.stats.add(frame)
        for listener in self.listeners:
            listener(frame)

    def _react(self, frame: AvatarFrame, t: float) -> None:
        """[reactions]: class probabilities and triggers -> extra shapes and VRChat parameters."""
        blend, self._reaction_bools, self._reaction_floats = self.reactions.update(t, frame.classes, frame.events)
        slots = self._reaction_slots
        frame.blend_values[slots] = np.maximum(frame.blend_values[slots], blend)

    def _send(self, frame: AvatarFrame, subject: FaceState) -> None:
        if self.vmc is not None:
            self.vmc.send(vmc.encode_vmc(frame, time.monotonic() - self._t0))
        if self.vrchat is not None:
            values = self.vrchat_mapper.apply(subject.blendshapes)
            idx = self._vrchat_filter.select(values, time.monotonic())
            msgs = vrchat.encode_parameters(self.vrchat_mapper.names, values, idx)
            if self.cfg.vrchat.eye_tracking and subject.found:
                closed = float(subject.blendshapes[BLINKS].mean())
                msgs += vrchat.encode_eye_tracking(subject.eye_angles_deg, closed)
            if self.reactions.reactions and self.classifiers is not None:
                r = self.reactions
                vals = np.concatenate([self._reaction_bools, self._reaction_floats]).astype(np.float32)
                idx = self._vrchat_reaction_filter.select(vals, time.monotonic())
                msgs += vrchat.encode_reaction_parameters(r.bool_names, r.float_names, self._reaction_bools,
                                                          self._reaction_floats, idx)
            self.vrchat.send(msgs)
        if self.ws is not None and self.ws.client_count:
            self.ws.publish_frame(jsonframe.frame_message(frame), bool(frame.events))

    def close(self) -> None:
        try:
            self.source.close()
        finally:
            self._close_outputs()
        if self._calibration_future is not None and not self._calibration_future.done():
            self._calibration_future.set_result((False, "the source ended before calibration finished"))

    def _close_outputs(self) -> None:
        """Everything the pipeline opened, not the source (its caller owns it until construction
        succeeds); the landmarkers are closed even when closing something else fails."""
        try:
            if self.watcher is not None:
                self.watcher.stop()
            if self.preview is not None:
                self.preview.close()
                self.preview = None
            if self.ws is not None:
                self.ws.stop()
                self.ws = None
            for s in (self.vmc, self.vrchat):
                if s is not None:
                    s.close()
        finally:
            self.trackers.close()
