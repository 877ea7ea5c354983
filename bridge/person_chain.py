"""One person's stages after inference: observations in, their `Person` record out.

Everything here keeps state across frames (filters, tracking-loss easing, the calibration profile,
classifier windows, triggers, mood, `[reactions]`, the VRChat trackers), so each tracked person
has a chain of their own and one person's loss or calibration never touches another's avatar.
What holds no per-person state (the ARKit -> avatar mapping, the avatar-space retargeter, the
classifier models: `Models`) is shared and passed in by the pipeline.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import Profile
from .classify.onnx_runner import OnnxModel
from .classify.stage import ClassifierStage, StageModels
from .classify.tongue import MODEL as TONGUE_MODEL, TongueEstimator
from .classify.triggers import TriggerLogic, TriggerRule
from .config import Config
from .frame import Person
from .mapping import Mapper
from .reactions import ReactionState
from .retarget.avatar import AvatarRetargeter
from .retarget.face import FaceSolver
from .retarget.skeleton import SkeletonRetargeter
from .retarget.trackers import TrackerSettings, TrackerSolver
from .retarget.vrm_file import VrmAvatar
from .tracking.combined import Observations


@dataclass(frozen=True, slots=True)
class Shared:
    """What every person's chain uses and nobody's changes: rebuilt by the pipeline on a config change."""
    mapper: Mapper
    retargeter: AvatarRetargeter
    blend_names: tuple[str, ...]  # the mapped shapes, then the [reactions] shapes


def wants_classifiers(cfg: Config) -> bool:
    c = cfg.classify
    return bool((c.expression and cfg.face.enabled) or c.action or (c.gesture and cfg.hands.enabled))


@dataclass(frozen=True, slots=True)
class Models:
    """The classifier models a config asks for, loaded and sha256-checked once and shared by every
    chain (stage.StageModels says why that is safe), so a newcomer's chain loads nothing. The
    pipeline loads them again when `[classify]` changes."""
    stage: StageModels | None
    tongue: OnnxModel | None

    @classmethod
    def load(cls, cfg: Config) -> Models:
        c = cfg.classify
        return cls(StageModels.load(c) if wants_classifiers(cfg) else None,
                   OnnxModel(TONGUE_MODEL) if c.tongue and cfg.face.enabled else None)


class PersonChain:
    """The stateful stages for the person in one slot; `person_id` is who they are now."""

    def __init__(self, cfg: Config, still: bool, avatar: VrmAvatar | None, profile: Profile | None,
                 person_id: int, slot: int, models: Models):
        self.still, self.avatar = still, avatar
        self.person_id, self.slot = person_id, slot
        self.name: str | None = None  # an enrolled name, once face identity has settled on one
        self.presence = 0.0  # the face's, after the last frame: 0 once a lost person has eased to rest
        self.seen = False  # face or body in view in the last frame (the face while it eases out)
        self.cfg: Config | None = None
        self.models: Models | None = None
        self.solver = FaceSolver(cfg.face, cfg.filter, cfg.tracking_loss, profile, still)
        self.skeleton = SkeletonRetargeter(cfg, still, avatar)
        self.configure(cfg, models)

    def configure(self, cfg: Config, models: Models) -> None:
        """Applies a (re)loaded config and the models loaded for it; the pipeline has said what needs a restart."""
        old = self.cfg
        if old is None or cfg.classify != old.classify or models is not self.models:
            c, self.models = cfg.classify, models
            self.classifiers = None if models.stage is None else ClassifierStage(c, models.stage)
            self.tongue = None if models.tongue is None else TongueEstimator(c.tongue_hz, models.tongue)
            self.pair_trig = TriggerLogic("pair_activity", rules={
                a: TriggerRule(c.action_enter, c.action_exit, 0.3, 0.3, 1.0) for a in ("fighting", "friendly")},
                exclusive=True)
        if old is not None and (cfg.face, cfg.filter, cfg.tracking_loss) != (old.face, old.filter, old.tracking_loss):
            self.solver = FaceSolver(cfg.face, cfg.filter, cfg.tracking_loss, self.solver.profile, self.still)
        if old is None or cfg.reactions != old.reactions:
            self.reactions = ReactionState(cfg.reactions)
        v = cfg.vrchat
        if old is None or (v.enabled, v.trackers, v.height_m, cfg.pose.hold_s) != \
                (old.vrchat.enabled, old.vrchat.trackers, old.vrchat.height_m, old.pose.hold_s):
            self.tracker_solver = TrackerSolver(TrackerSettings(v.trackers, v.height_m, hold_s=cfg.pose.hold_s),
                                                self.still) if v.enabled and v.trackers and cfg.pose.enabled else None
        self.cfg = cfg

    def output_names(self, mapper: Mapper) -> tuple[str, ...]:
        return self.reactions.output_names(mapper.names)

    def process(self, t: float, rgb: np.ndarray, obs: Observations, shared: Shared) -> Person:
        """This person's record for one frame (classes and events filled, timings not)."""
        if self.tongue is not None:  # fills the tracker's tongueOut before anything reads the face
            self.tongue.update(t, rgb, obs.face)
        state = self.solver.solve(obs.face, t)
        self.presence = state.presence
        self.seen = state.presence > 0 or obs.pose is not None
        face, face_bones, face_root = shared.retargeter.solve(state)
        values = shared.mapper.apply(face.blendshapes)
        if len(values) < len(shared.blend_names):  # room for the [reactions] shapes after the mapped ones
            values = np.concatenate([values, np.zeros(len(shared.blend_names) - len(values), values.dtype)])
        bones, root = self.skeleton.solve(obs, state, face_bones, face_root, t)
        person = Person(self.person_id, face, state, shared.blend_names, values, self.skeleton.names, bones,
                        self.skeleton.positions, root, slot=self.slot)
        if self.tracker_solver is not None:
            pose = obs.pose
            person.trackers = self.tracker_solver.solve(None if pose is None else pose.world,
                                                        None if pose is None else pose.visibility,
                                                        self.skeleton.body_pose, state, t,
                                                        None if pose is None else pose.landmarks)
        return person

    def pair_activity(self, t: float, scores: dict[str, float] | None, person: Person) -> None:
        """The two-person activity this person is most engaged in (classify/pair_activity.py), and
        its triggers: fighting and friendly start and end; `none` triggers nothing."""
        if scores:
            person.classes["pair_activity"] = scores
            person.events += self.pair_trig.update(t, {k: v for k, v in scores.items() if k != "none"})
        elif self.pair_trig.active():
            person.events += self.pair_trig.reset(t)

    def classify(self, t: float, rgb: np.ndarray, obs: Observations, person: Person, hands_on: bool) -> None:
        """The classifiers and `[reactions]` for this person's frame (timed apart by the pipeline)."""
        if self.classifiers is None:
            return
        state = person.subject
        profile = self.solver.profile
        self.classifiers.process(t, rgb, obs.face, obs.pose, state.head_rotation if state.found else None,
                                 person.classes, person.events, obs.hands if hands_on else None,
                                 profile.neutral if profile.calibrated else None)
        if self.reactions.reactions:
            self.reactions.react(t, person)
