"""Wires source -> trackers -> solvers -> retargeters -> classifiers -> mapping -> frame -> outputs.

The main thread reads and tracks, a worker does everything after inference; the other threads
(source reader, WebSocket, preview, config watcher) talk to it through single slots and the
control queue, so nothing on the frame path waits on the network or the disk."""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from .calibration import CalibrationRun, LiveCalibration, default_profile_path, load_profile
from .classify.stage import ClassifierStage
from .classify.tongue import TongueEstimator
from .config import Config
from .config_watch import ConfigWatcher
from .control import ConfigEditor, Controller
from .frame import AvatarFrame, Person
from .mapping import Mapper
from .outputs import Outputs, avatar_mapper, avatar_report
from .reactions import ReactionState
from .retarget.avatar import AvatarRetargeter
from .retarget.face import FaceSolver, head_from_matrix
from .retarget.skeleton import SkeletonRetargeter
from .retarget.trackers import TrackerSettings, TrackerSolver
from .retarget.vrm_file import read_vrm
from .sources import Source
from .stats import Stats
from .tracking.combined import Observations, Trackers
from .tracking.face import FaceTracker

log = logging.getLogger("avatar_bridge.pipeline")
_PAUSED = object()


class Pipeline:
    def __init__(self, cfg: Config, source: Source, config_path: Path | None = None, overrides: dict | None = None,
                 max_frames: int | None = None, tracker: FaceTracker | None = None):
        self.cfg = cfg
        self.source = source
        self.max_frames = max_frames
        self.stats = Stats()
        self.listeners: list[Callable[[AvatarFrame], None]] = []
        # called with the frame, its RGB image and what the trackers saw in it (annotate draws these)
        self.observers: list[Callable[[AvatarFrame, np.ndarray, Observations], None]] = []
        self._stop = threading.Event()
        self._pending_config: Config | None = None
        self._calibration: LiveCalibration | None = None
        self._seq = 0
        self.profile_path = Path(cfg.calibration.profile).expanduser() if cfg.calibration.profile else default_profile_path()
        profile = load_profile(self.profile_path)
        if profile is not None:
            log.info("calibration profile %s loaded", self.profile_path)
        self.editor = ConfigEditor(config_path, overrides or {}, self._configure, lambda: self.mapper)
        self.control = Controller(self.editor, lambda f: self.start_calibration(self.cfg.calibration.neutral_seconds, 0, f))
        self.avatar = read_vrm(cfg.avatar.file) if cfg.avatar.file else None  # before any model loads
        self.trackers = Trackers(cfg, source.still, face=tracker)
        try:
            self.solver = FaceSolver(cfg.face, cfg.filter, cfg.tracking_loss, profile, source.still)
            self.skeleton = SkeletonRetargeter(cfg, source.still, self.avatar)
            self.outputs: Outputs | None = None
            self._configure(cfg)
            self.outputs = Outputs(cfg, self.control.submit, avatar=self.avatar)
        except BaseException:
            self.trackers.close()
            raise
        self.watcher = ConfigWatcher(config_path, self.editor.layered, self._offer_config) if config_path else None

    def _configure(self, cfg: Config) -> None:
        """Applies a (re)loaded config between frames; tracker and body changes need a restart."""
        old = self.cfg if self.outputs is not None else None
        if old is not None and (cfg.face.enabled, cfg.face.headset, cfg.pose, cfg.hands) != \
                (old.face.enabled, old.face.headset, old.pose, old.hands):
            log.warning("[face] enabled and headset, [pose] and [hands] changes take effect on restart")
        if old is not None and (cfg.websocket.host, cfg.websocket.port) != (old.websocket.host, old.websocket.port):
            log.warning("the WebSocket address changes only on restart")
        if old is None or cfg.classify != old.classify:
            c = cfg.classify
            self.classifiers = ClassifierStage(c) \
                if (c.expression and cfg.face.enabled) or c.action or (c.gesture and cfg.hands.enabled) else None
            self.tongue = TongueEstimator(c.tongue_hz) if c.tongue and cfg.face.enabled else None
        if old is not None and (cfg.face, cfg.filter, cfg.tracking_loss) != (old.face, old.filter, old.tracking_loss):
            self.solver = FaceSolver(cfg.face, cfg.filter, cfg.tracking_loss, self.solver.profile, self.source.still)
        if old is None or cfg.reactions != old.reactions:
            self.reactions = ReactionState(cfg.reactions)
        self.mapper: Mapper = avatar_mapper(cfg, self.avatar)
        if self.avatar is not None and (old is None or cfg.mapping != old.mapping):
            for line in avatar_report(cfg, self.avatar).lines():
                log.info("%s", line)
        v = cfg.vrchat
        if old is None or (v.enabled, v.trackers, v.height_m, cfg.pose.hold_s) != \
                (old.vrchat.enabled, old.vrchat.trackers, old.vrchat.height_m, old.pose.hold_s):
            self.tracker_solver = TrackerSolver(TrackerSettings(v.trackers, v.height_m, hold_s=cfg.pose.hold_s),
                                                self.source.still) if v.enabled and v.trackers and cfg.pose.enabled else None
        self.retargeter = AvatarRetargeter(cfg.source.mirror, cfg.face.neck_share, cfg.face.move_root,
                                           cfg.face.translation_gain)
        self.blend_names = self.reactions.output_names(self.mapper.names)
        if self.outputs is not None:
            self.outputs.reconfigure(cfg)
        self.cfg = cfg

    def _offer_config(self, cfg: Config) -> None:
        self._pending_config = cfg  # picked up by the pipeline thread at the next frame

    # --- calibration --------------------------------------------------------------------
    def start_calibration(self, neutral_s: float, extremes_s: float = 0.0, fut: Future | None = None,
                          announce=lambda phase, seconds: log.info("calibrating %s: %.1f s", phase, seconds)) -> None:
        if self._calibration is not None and fut is not None:
            fut.set_result((False, "a calibration is already running"))
        elif self._calibration is None:
            self._calibration = LiveCalibration(CalibrationRun(neutral_s, extremes_s, None, announce), fut,
                                                self.profile_path)

    @property
    def calibration_phase(self) -> str | None:
        return None if self._calibration is None else self._calibration.run.phase

    def _feed_calibration(self, t: float, obs) -> None:
        profile = self._calibration.feed(t, *((None, None, None) if obs is None else
                                              (obs.blendshapes, *head_from_matrix(obs.matrix))))
        if profile is not None:
            self._calibration = None
            self.solver.set_profile(profile)

    # --- running ------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.control.paused

    def start_outputs(self) -> None:
        """Starts the WebSocket server now (run() does it too), e.g. to connect clients first."""
        self.outputs.start((self.blend_names, self.skeleton.names))

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> Stats:
        """Track on this thread, post-process on a worker: MediaPipe releases the GIL, so the
        sidecar's own work for frame N overlaps inference of frame N+1 on the second core."""
        self.start_outputs()
        if self.watcher is not None:
            self.watcher.start()
        handoff: queue.Queue = queue.Queue(maxsize=2)  # bounded, blocking: no frame is ever dropped
        errors: list[BaseException] = []

        def worker() -> None:
            while (item := handoff.get()) is not None:
                try:
                    self._between_frames(item)
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

    def _read_and_track(self):
        src = self.source.read()
        if src is None:
            return None
        if self.paused:
            return _PAUSED
        t0 = time.perf_counter()
        obs = self.trackers.process(src.rgb, int(src.source_time * 1000))
        return src, obs, (time.perf_counter() - t0) * 1000

    def _between_frames(self, item) -> None:
        """Config changes and control commands first, then the frame, on the processing thread."""
        if self._pending_config is not None:
            cfg, self._pending_config = self._pending_config, None
            self._configure(cfg)
        self.control.run_pending()
        if item is not _PAUSED:
            self._process(*item)

    def _process(self, src, obs: Observations, track_ms: float) -> None:
        t1 = time.perf_counter()
        t = src.source_time
        if self.tongue is not None:  # fills the tracker's tongueOut before anything reads the face
            self.tongue.update(t, src.rgb, obs.face)
        if self._calibration is not None:
            self._feed_calibration(t, obs.face)
        state = self.solver.solve(obs.face, t)
        face, face_bones, face_root = self.retargeter.solve(state)
        values = self.mapper.apply(face.blendshapes)
        if len(values) < len(self.blend_names):  # room for the [reactions] shapes after the mapped ones
            values = np.concatenate([values, np.zeros(len(self.blend_names) - len(values), values.dtype)])
        bones, root = self.skeleton.solve(obs, state, face_bones, face_root, t)
        person = Person(0, face, state, self.blend_names, values, self.skeleton.names, bones,
                        self.skeleton.positions, root)
        if self.tracker_solver is not None:
            pose = obs.pose
            person.trackers = self.tracker_solver.solve(None if pose is None else pose.world,
                                                        None if pose is None else pose.visibility,
                                                        self.skeleton.body_pose, state, t,
                                                        None if pose is None else pose.landmarks)
        frame = AvatarFrame(self._seq, src.capture_time, t, [person], image_size=(src.rgb.shape[1], src.rgb.shape[0]))
        self._seq += 1
        t2 = time.perf_counter()
        frame.timings_ms.update(obs.timings_ms)
        frame.timings_ms.update(track=track_ms, solve=(t2 - t1) * 1000)
        if self.classifiers is not None:
            self.classifiers.process(t, src.rgb, obs.face, obs.pose, state.head_rotation if state.found else None,
                                     person.classes, person.events, obs.hands if self.trackers.hands is not None else None)
            if self.reactions.reactions:
                self.reactions.react(t, person)
            frame.timings_ms["classify"] = (time.perf_counter() - t2) * 1000
        frame.timings_ms["total"] = track_ms + (time.perf_counter() - t1) * 1000  # sending adds to it
        self.outputs.send(frame)
        self.outputs.preview(frame.seq, src.rgb, obs)
        self.stats.add(frame)
        for listener in self.listeners:
            listener(frame)
        for observer in self.observers:
            observer(frame, src.rgb, obs)

    def close(self) -> None:
        """Closes everything; the landmarkers even when closing something else fails (no destructor
        may run at interpreter exit)."""
        try:
            if self.watcher is not None:
                self.watcher.stop()
            self.source.close()
            self.outputs.close()
        finally:
            self.trackers.close()
        if self._calibration is not None:
            self._calibration.abandon()
