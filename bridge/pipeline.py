"""Wires source -> trackers -> people -> solvers -> retargeters -> classifiers -> mapping -> frame -> outputs.

The main thread reads and tracks, a worker does everything after inference; the other threads
(source reader, WebSocket, preview, config watcher, face identity) talk to it through single slots
and queues, so nothing on the frame path waits on the network, the disk or a face descriptor.
With `[tracking] people` > 1 the multi-person landmarkers run and tracking/people.py says who is
who; each slot's person has their own chain of stateful stages (person_chain.py)."""
from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from .calibration import CalibrationRun, LiveCalibration, default_profile_path, load_profile
from .classify.pair_activity import PairActivityStage, per_person
from .config import Config
from .config_watch import ConfigWatcher
from .control import ConfigEditor, Controller
from .errors import ConfigError, ModelError
from .frame import AvatarFrame, Person
from .identity import worker as identity
from .identity.recognise import UNKNOWN, one_each
from .mapping import Mapper
from .outputs import Outputs, avatar_mapper, avatar_report
from .person_chain import Models, PersonChain, Shared
from .reactions import ReactionState
from .retarget.avatar import AvatarRetargeter
from .retarget.face import head_from_matrix
from .retarget.vrm_file import read_vrm
from .sources import Source
from .stats import Stats
from .tracking.combined import Observations, Trackers
from .tracking.face import FaceTracker
from .tracking.multi import MultiObservations, MultiTrackers, MultiTrackerSettings
from .tracking.people import PeopleSettings, PeopleTracker

log = logging.getLogger("avatar_bridge.pipeline")
_PAUSED = object()


View = tuple[Person, Observations]  # one person of a frame and what the trackers saw of them
Slot = tuple[PersonChain, Observations, np.ndarray | None]  # a slot's chain, what was seen of them, their box


def _name_file(profile_path: Path, name: str) -> Path:
    """A named person's own calibration profile, beside the default one."""
    return profile_path.with_name(f"{profile_path.stem}.{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}{profile_path.suffix}")


class Pipeline:
    def __init__(self, cfg: Config, source: Source, config_path: Path | None = None, overrides: dict | None = None,
                 max_frames: int | None = None, tracker: FaceTracker | None = None):
        self.cfg = cfg
        self.source = source
        self.max_frames = max_frames
        self.stats = Stats()
        self.listeners: list[Callable[[AvatarFrame], None]] = []
        # called with the frame, its RGB image and each person's (Person, Observations) (annotate draws these)
        self.observers: list[Callable[[AvatarFrame, np.ndarray, list[View]], None]] = []
        self._stop = threading.Event()
        self._pending_config: Config | None = None
        self._calibrations: dict[int, LiveCalibration] = {}  # slot -> its person's running calibration
        self._seq = 0
        self.profile_path = Path(cfg.calibration.profile).expanduser() if cfg.calibration.profile else default_profile_path()
        self.profile = load_profile(self.profile_path)
        if self.profile is not None:
            log.info("calibration profile %s loaded", self.profile_path)
        self.editor = ConfigEditor(config_path, overrides or {}, self._configure, lambda: self.shared.mapper)
        self.control = Controller(self.editor, lambda f: self.start_calibration(self.cfg.calibration.neutral_seconds, 0, f))
        self.avatar = read_vrm(cfg.avatar.file) if cfg.avatar.file else None  # before any model loads
        self.people = cfg.tracking.people
        self.chains: dict[int, PersonChain] = {}  # slot -> the stages of the person in it
        self._spare: queue.Queue[PersonChain] = queue.Queue(maxsize=1)  # several people: the next newcomer's
        self._builder: threading.Thread | None = None  # building the next spare
        self.identity: identity.IdentityWorker | None = None
        self.outputs: Outputs | None = None
        if self.people == 1:
            self.trackers = Trackers(cfg, source.still, face=tracker)
            self.associate = None
        else:
            p = cfg.pose
            self.trackers = MultiTrackers(MultiTrackerSettings(
                self.people, cfg.face.enabled, p.enabled, cfg.hands.enabled, p.model, p.min_detection_confidence,
                p.min_tracking_confidence, cfg.hands.skip_when_out_of_view), source.still)
            self.associate = PeopleTracker(PeopleSettings(self.people, keep_s=cfg.tracking.keep_s))
        try:
            self.models = Models.load(cfg)  # shared by every chain; a broken model fails here, at start
            if self.people == 1:
                first = self.chains[1] = PersonChain(cfg, source.still, self.avatar, self.profile, 0, 1, self.models)
            else:
                first = self._chain(cfg, self.models)  # the first newcomer's, ready before any frame
                self._spare.put(first)
            self.bone_names = first.skeleton.names  # everyone's (one config, one avatar)
            self._configure(cfg)
            self.identity = identity.start(cfg.tracking)
            self.outputs = Outputs(cfg, self.control.submit, avatar=self.avatar)
        except BaseException:
            self.trackers.close()
            if self.identity is not None:
                self.identity.close()
            raise
        self.watcher = ConfigWatcher(config_path, self.editor.layered, self._offer_config) if config_path else None

    def _configure(self, cfg: Config) -> None:
        """Applies a (re)loaded config between frames; tracker and body changes need a restart."""
        old = self.cfg if self.outputs is not None else None
        if old is not None and cfg.classify != old.classify:
            self.models = Models.load(cfg)  # first: a model that fails to load leaves the old config running
        if old is not None and (cfg.face.enabled, cfg.face.headset, cfg.pose, cfg.hands, cfg.tracking) != \
                (old.face.enabled, old.face.headset, old.pose, old.hands, old.tracking):
            log.warning("[face] enabled and headset, [pose], [hands] and [tracking] changes take effect on restart")
        if old is not None and (cfg.websocket.host, cfg.websocket.port) != (old.websocket.host, old.websocket.port):
            log.warning("the WebSocket address changes only on restart")
        mapper: Mapper = avatar_mapper(cfg, self.avatar)
        if self.avatar is not None and (old is None or cfg.mapping != old.mapping):
            for line in avatar_report(cfg, self.avatar).lines():
                log.info("%s", line)
        self.shared = Shared(mapper, AvatarRetargeter(cfg.source.mirror, cfg.face.neck_share, cfg.face.move_root,
                                                      cfg.face.translation_gain),
                             ReactionState(cfg.reactions).output_names(mapper.names))
        if old is None or cfg.classify.activity != old.classify.activity:
            self.pair_activity = PairActivityStage() \
                if self.people > 1 and cfg.classify.activity and cfg.pose.enabled else None
        for chain in self.chains.values():
            chain.configure(cfg, self.models)
        if self.outputs is not None:
            self.outputs.reconfigure(cfg)
        self.cfg = cfg

    @property
    def mapper(self) -> Mapper:
        return self.shared.mapper

    @property
    def blend_names(self) -> tuple[str, ...]:
        return self.shared.blend_names

    @property
    def found(self) -> bool:
        """Whether anyone's face is tracked (the status line)."""
        return any(c.solver.found for c in self.chains.values())

    def _offer_config(self, cfg: Config) -> None:
        self._pending_config = cfg  # picked up by the pipeline thread at the next frame

    def _chain(self, cfg: Config, models: Models) -> PersonChain:
        return PersonChain(cfg, self.source.still, self.avatar, None, -1, 0, models)

    def _new_chain(self, person_id: int, slot: int) -> PersonChain:
        """A newcomer's stages: their own filters, classifier windows and triggers (the models are
        shared); the calibration profile is the user's for the first slot (until identity names
        them), none for the others. A spare chain is built ahead on another thread and the frame
        path only takes it; a second newcomer in the same frame gets one built here, which costs
        about a millisecond as it loads nothing."""
        try:
            chain = self._spare.get_nowait()
        except queue.Empty:
            chain = self._chain(self.cfg, self.models)
        chain.person_id, chain.slot = person_id, slot
        chain.configure(self.cfg, self.models)  # a spare built before a reload catches up
        if slot == 1 and self.profile is not None:
            chain.solver.set_profile(self.profile)
        self._build_spare()
        return chain

    def _build_spare(self) -> None:
        """Starts building the next spare chain, unless one is ready or on its way. A failure there is
        one line in the log: the next newcomer's chain is then built on the frame path (and a
        failure there ends the run with the usual one-line error)."""
        if not self._spare.empty() or (self._builder is not None and self._builder.is_alive()):
            return
        cfg, models = self.cfg, self.models

        def build() -> None:
            try:
                self._spare.put_nowait(self._chain(cfg, models))
            except Exception as e:  # noqa: BLE001 - a thread's exception would print a traceback
                log.error("preparing the next person's stages failed (%s: %s); they are built when they arrive",
                          type(e).__name__, (str(e).splitlines() or [""])[0])

        self._builder = threading.Thread(target=build, name="person-chain", daemon=True)
        self._builder.start()

    # --- calibration --------------------------------------------------------------------
    def start_calibration(self, neutral_s: float, extremes_s: float = 0.0, fut: Future | None = None,
                          announce=lambda phase, seconds: log.info("calibrating %s: %.1f s", phase, seconds)) -> None:
        """Calibrates everyone whose face is in view (the first slot when nobody is), each to their own
        profile: a named person's own file, else the first slot's the `[calibration] profile`; `fut`
        gets the first one's result."""
        if self._calibrations:
            if fut is not None:
                fut.set_result((False, "a calibration is already running"))
            return
        slots = sorted(s for s, c in self.chains.items() if c.solver.found) or [min(self.chains, default=1)]
        for i, slot in enumerate(slots):
            run = CalibrationRun(neutral_s, extremes_s, None, announce if i == 0 else lambda *_: None)
            self._calibrations[slot] = LiveCalibration(run, fut if i == 0 else None, self._profile_file(slot))

    def _profile_file(self, slot: int) -> Path | None:
        chain = self.chains.get(slot)
        name = chain.name if chain is not None else None
        if name is not None:
            return _name_file(self.profile_path, name)
        return self.profile_path if slot == 1 else None

    @property
    def calibration_phase(self) -> str | None:
        first = next(iter(self._calibrations.values()), None)
        return None if first is None else first.run.phase

    def _feed_calibration(self, t: float, slot: int, obs) -> None:
        cal = self._calibrations.get(slot)
        if cal is None:
            return
        profile = cal.feed(t, *((None, None, None) if obs is None else (obs.blendshapes, *head_from_matrix(obs.matrix))))
        if profile is not None:
            del self._calibrations[slot]
            self.chains[slot].solver.set_profile(profile)
            if slot == 1 and self.chains[slot].name is None:
                self.profile = profile

    # --- running ------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return self.control.paused

    def routes(self) -> dict:
        """Where each slot's (and each routed name's) frames go: the hello's `people`."""
        return {"max": self.people, "routes": self.outputs.routes(self.people)}

    def start_outputs(self) -> None:
        """Starts the WebSocket server now (run() does it too), e.g. to connect clients first."""
        self.outputs.start((self.blend_names, self.bone_names), self.routes())

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
            try:
                self._configure(cfg)
            except ModelError as e:  # loaded before anything changed: the running config stays whole
                log.warning("%s; keeping the last good config", e)
        self.control.run_pending()
        if item is not _PAUSED:
            self._process(*item)

    def _slots(self, obs: Observations | MultiObservations, t: float, rgb: np.ndarray) -> list[Slot]:
        """Each slot's chain with what the trackers saw of its person (nothing while they are away)."""
        if self.associate is None:
            return [(self.chains[1], obs, obs.box())]
        tracks = {tr.slot: tr for tr in self.associate.update(obs.poses, obs.faces, obs.hands, t, rgb)}
        kept = {tr.slot for tr in self.associate.tracks}  # in view, or away for less than keep_s
        out = []
        for slot in range(1, self.people + 1):
            tr, chain = tracks.get(slot), self.chains.get(slot)
            if tr is not None and (chain is None or chain.person_id != tr.id):
                if chain is not None:
                    self._person_gone(slot, chain)
                chain = self.chains[slot] = self._new_chain(tr.id, slot)  # someone new: a fresh start
            if chain is None:
                continue
            if tr is None:
                if slot not in kept and chain.presence <= 0:
                    self._person_gone(slot, chain)
                    del self.chains[slot]  # gone for good, and their avatar has eased to rest
                    continue
                out.append((chain, Observations(None, timings_ms=obs.timings_ms), None))
                continue
            out.append((chain, Observations(
                None if tr.face_index is None else obs.faces[tr.face_index],
                None if tr.pose_index is None else obs.poses[tr.pose_index],
                [obs.hands[i] for i in tr.hand_indices], obs.hands_ran, obs.timings_ms), tr.box))
        return out

    def _person_gone(self, slot: int, chain: PersonChain) -> None:
        """A slot's person left for good (or another took the slot): their identity bookkeeping and
        any calibration of theirs end, so it can neither hang nor finish on someone else's face."""
        if self.identity is not None:
            self.identity.forget(chain.person_id)
        cal = self._calibrations.pop(slot, None)
        if cal is not None:
            cal.abandon(f"person {chain.person_id} left before their calibration finished: calibrate again")

    def _identify(self, t: float, rgb: np.ndarray, slots: list[Slot], people: list[Person]) -> None:
        """Offers each face for a look when one is due; each person's label is whatever the worker
        decided, a name going to one person only (the most alike: recognise.one_each), so a look-alike
        or a photo never takes over the name's port or calibration profile."""
        for chain, obs, _ in slots:
            if obs.face is not None:
                self.identity.offer(chain.person_id, t, rgb, obs.face.landmarks)
        labels = one_each([self.identity.label(chain.person_id) for chain, _, _ in slots])
        for (chain, _, _), person, label in zip(slots, people, labels):
            person.name, person.similarity = label.name, label.similarity
            self._name(chain, None if label.name == UNKNOWN else label.name)

    def _name(self, chain: PersonChain, name: str | None) -> None:
        """The chain's enrolled name; one newly given brings its owner's calibration profile."""
        if name != chain.name:
            chain.name = name
            if name is not None:
                try:
                    profile = load_profile(_name_file(self.profile_path, name))
                except ConfigError as e:  # a bad profile file must not end the run when its owner walks in
                    log.warning("%s; keeping person %d's current calibration", e, chain.person_id)
                    profile = None
                if profile is not None:
                    chain.solver.set_profile(profile)
                    log.info("person %d is %s: their calibration profile loaded", chain.person_id, name)

    def _process(self, src, obs: Observations | MultiObservations, track_ms: float) -> None:
        t1 = time.perf_counter()
        t = src.source_time
        slots = self._slots(obs, t, src.rgb)
        views: list[View] = []
        for chain, o, box in slots:
            if self._calibrations:
                self._feed_calibration(t, chain.slot, o.face)
            person = chain.process(t, src.rgb, o, self.shared)
            person.box = box
            views.append((person, o))
        if self.identity is not None:
            self._identify(t, src.rgb, slots, [p for p, _ in views])
        frame = AvatarFrame(self._seq, src.capture_time, t, [p for p, _ in views],
                            image_size=(src.rgb.shape[1], src.rgb.shape[0]))
        self._seq += 1
        t2 = time.perf_counter()
        frame.timings_ms.update(obs.timings_ms)
        frame.timings_ms.update(track=track_ms, solve=(t2 - t1) * 1000)
        hands_on = self.trackers.hands is not None
        pairs = {} if self.pair_activity is None else per_person(self.pair_activity.update(
            t, [(c.person_id, o.pose) for c, o, _ in slots], frame.image_size))
        for (chain, o, _), (person, _) in zip(slots, views):
            if self.pair_activity is not None:
                chain.pair_activity(t, pairs.get(chain.person_id), person)
            chain.classify(t, src.rgb, o, person, hands_on)
        if self.pair_activity is not None or any(chain.classifiers is not None for chain, _, _ in slots):
            frame.timings_ms["classify"] = (time.perf_counter() - t2) * 1000
        frame.timings_ms["total"] = track_ms + (time.perf_counter() - t1) * 1000  # sending adds to it
        self.outputs.send(frame)
        self.outputs.preview(frame.seq, src.rgb, views)
        self.stats.add(frame)
        for listener in self.listeners:
            listener(frame)
        for observer in self.observers:
            observer(frame, src.rgb, views)

    def close(self) -> None:
        """Closes everything; the landmarkers even when closing something else fails (no destructor
        may run at interpreter exit)."""
        try:
            if self.watcher is not None:
                self.watcher.stop()
            if self.identity is not None:
                self.identity.close()
            self.source.close()
            self.outputs.close()
        finally:
            self.trackers.close()
        for cal in self._calibrations.values():
            cal.abandon()
        self._calibrations.clear()
