"""The classifier stage of the pipeline: expression, action, activity and hand-gesture scores, and their triggers.

Expressions change slowly, so the face crop is classified at `expression_hz` (not every frame)
and smoothed in between; actions update every frame from the body joints (if pose is on) and
the head rotation (nod, head shake). A tracking loss ends every held trigger. The models
(`StageModels`) are loaded once and shared by every person's stage; a stage keeps only its
person's windows, smoothing and triggers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ClassifySettings
from .action import HELD_ACTIONS, ActionRecognizer, joints_from_mediapipe, vertical_from_pose
from .activity import HELD_ACTIVITIES, PERSON_MODEL, ActivityRecognizer
from .expression import ExpressionClassifier, ProbabilitySmoother
from .gesture import classify_hands
from .mood import MoodFusion
from .onnx_runner import OnnxModel
from .triggers import TriggerLogic, TriggerRule


@dataclass(frozen=True, slots=True)
class StageModels:
    """The models `ClassifySettings` asks for, loaded and sha256-checked once: a newcomer's stage
    then costs no model load. Sharing is safe: onnxruntime's `InferenceSession.run` is thread-safe
    and neither these nor the expression classifier keep anything between calls."""
    expression: ExpressionClassifier | None
    action: OnnxModel | None
    activity: OnnxModel | None

    @classmethod
    def load(cls, s: ClassifySettings) -> StageModels:
        model_dir = Path(s.action_model_dir).expanduser() if s.action_model_dir else None
        return cls(ExpressionClassifier(s.expression_model) if s.expression else None,
                   OnnxModel(s.action_model, model_dir) if s.action else None,
                   OnnxModel(PERSON_MODEL) if s.activity else None)


class ClassifierStage:
    def __init__(self, s: ClassifySettings, models: StageModels | None = None):
        """`models`: loaded for `s` (StageModels.load(s)), shared with other people's stages; None loads them."""
        m = models if models is not None else StageModels.load(s)
        self.period = 1.0 / s.expression_hz
        self.expr = m.expression
        self.smooth = ProbabilitySmoother(tau_s=0.1)
        self.expr_trig = TriggerLogic("expression", default=TriggerRule(s.expression_enter, s.expression_exit, 0.2, 0.1, 0.5),
                                      exclusive=True)
        self.rec = ActionRecognizer(m.action) if m.action is not None else None
        self.act_trig = TriggerLogic("action", rules={
            a: TriggerRule(s.action_enter, s.action_exit, 0.2, 0.1, 1.0, one_shot=a not in HELD_ACTIONS)
            for a in (self.rec.actions if self.rec else ())})
        self.activity = ActivityRecognizer(m.activity) if m.activity is not None else None
        self.activity_trig = TriggerLogic("activity", rules={
            a: TriggerRule(s.action_enter, s.action_exit, 0.3, 0.3, 1.0, one_shot=a not in HELD_ACTIVITIES)
            for a in (self.activity.activities if self.activity else ())}, exclusive=True)
        self.gestures = s.gesture
        self.gesture_trig = TriggerLogic("gesture", default=TriggerRule(0.5, 0.5, 0.15, 0.2, 0.5))
        self.mood = MoodFusion(s.mood_body_weight) if s.mood else None
        self.mood_trig = TriggerLogic("mood", default=TriggerRule(s.expression_enter, s.expression_exit, 0.3, 0.2, 1.0),
                                      exclusive=True)
        self._last_expr_t = -np.inf
        self._expr_probs: dict[str, float] = {}
        self._had_face = False

    def process(self, t: float, rgb: np.ndarray, face_obs, pose_obs, head_rotation: np.ndarray | None,
                classes: dict, events: list, hands: list | None = None, neutral: np.ndarray | None = None) -> None:
        """Fills `classes` and `events` (the frame's) for one frame. `hands`: HandObservations, or
        None when hand tracking is off; `neutral`: this person's calibrated neutral blendshapes, which
        expressions are read relative to (None: uncalibrated)."""
        if self.gestures and hands is not None:
            scores = classify_hands(hands)
            classes["gesture"] = scores
            events += self.gesture_trig.update(t, scores)
        if self.expr is not None:
            if face_obs is not None:
                if t - self._last_expr_t >= self.period or t < self._last_expr_t:
                    self._last_expr_t = t
                    probs = self.expr.classify(rgb, face_obs.landmarks, face_obs.blendshapes, neutral)
                    self._expr_probs = self.smooth.update(t, probs)
                classes["expression"] = self._expr_probs
                events += self.expr_trig.update(t, self._expr_probs)
                self._had_face = True
            elif self._had_face:
                events += self.expr_trig.reset(t)
                self.smooth.reset()
                self._expr_probs = {}
                self._had_face = False
        body = pose_obs is not None and (self.rec is not None or self.activity is not None)
        joints = joints_from_mediapipe(pose_obs.world, mirrored=False) if body else None
        if self.rec is not None:
            vertical = vertical_from_pose(pose_obs.landmarks, (rgb.shape[1], rgb.shape[0])) if pose_obs is not None else None
            probs = self.rec.update(t, joints=joints, head_rotation=head_rotation, vertical=vertical)
            classes["action"] = probs
            events += self.act_trig.update(t, probs)
        if self.activity is not None:
            if joints is not None:
                probs = self.activity.update(t, joints)
                if probs:
                    classes["activity"] = probs
                    events += self.activity_trig.update(t, probs)
            else:
                events += self.activity_trig.reset(t)
                self.activity.reset()
        if self.mood is not None:
            mood = self.mood.update(t, classes)
            if mood:
                classes["mood"] = mood
                events += self.mood_trig.update(t, mood)
            else:
                events += self.mood_trig.reset(t)
