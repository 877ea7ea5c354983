"""Face observation -> FaceState in subject space: head pose, eye gaze, calibrated and filtered.

Also owns what happens when the face is lost: hold the last pose briefly, ease to neutral,
and blend back in smoothly when the face returns (the `presence` weight).
"""
from __future__ import annotations

import numpy as np

from ..arkit import INDEX
from ..calibration import Profile
from ..config import FaceSettings, FilterSettings, TrackingLossSettings
from ..filters import OneEuro, OneEuroQuat
from ..frame import UPPER_FACE_SHAPES, FaceState
from ..tracking.face import FaceObservation
from . import quat
from .conventions import MP_TO_SUBJECT

LOOK = np.array([[INDEX["eyeLookOutLeft"], INDEX["eyeLookInLeft"], INDEX["eyeLookUpLeft"], INDEX["eyeLookDownLeft"]],
                 [INDEX["eyeLookInRight"], INDEX["eyeLookOutRight"], INDEX["eyeLookUpRight"], INDEX["eyeLookDownRight"]]])


def head_from_matrix(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's facial transformation matrix -> (subject-space quaternion, camera-space cm)."""
    r = MP_TO_SUBJECT @ matrix[:3, :3] @ MP_TO_SUBJECT
    return quat.from_matrix(r), np.array(matrix[:3, 3], dtype=np.float64)


def eye_angles(blend: np.ndarray, max_yaw_deg: float, max_pitch_deg: float) -> np.ndarray:
    """[left pitch, left yaw, right pitch, right yaw] in degrees, Unity signs, subject space.

    Each eye's look-toward-the-person's-left minus look-right gives yaw; Unity's positive yaw
    looks right (+X) and the person's left is -X, hence the minus sign. Up is negative pitch.
    """
    toward_left = blend[LOOK[:, 0]] - blend[LOOK[:, 1]]
    up = blend[LOOK[:, 2]] - blend[LOOK[:, 3]]
    yaw = -toward_left * max_yaw_deg
    pitch = -up * max_pitch_deg
    return np.array([pitch[0], yaw[0], pitch[1], yaw[1]])


def eye_quats(angles_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.radians(angles_deg)
    q = quat.from_euler_unity(a[[0, 2]], a[[1, 3]])
    return q[0], q[1]


class FaceSolver:
    def __init__(self, face: FaceSettings, filt: FilterSettings, loss: TrackingLossSettings,
                 profile: Profile | None = None, still_images: bool = False):
        """`still_images`: each frame is an unrelated picture, so no filtering, debouncing or fading."""
        self.still_images = still_images
        self.face = face
        self.filt = filt
        self.loss = loss
        self.profile = profile or Profile()
        self._blend_f = OneEuro(filt.blend_min_cutoff, filt.blend_beta)
        self._rot_f = OneEuroQuat(filt.rotation_min_cutoff, filt.rotation_beta)
        self._pos_f = OneEuro(filt.position_min_cutoff, filt.position_beta)
        self._eye_f = OneEuro(filt.blend_min_cutoff, filt.blend_beta / 30.0)
        self._last: FaceState = FaceState.neutral()
        self._presence = 0.0
        self._lost_since: float | None = None
        self._seen = False  # no face yet: nothing can be re-acquired, so nothing is debounced
        self._streak = 0
        self._last_t: float | None = None
        self._auto_position: np.ndarray | None = None

    @property
    def found(self) -> bool:
        """Whether the last solved frame had a face."""
        return self._last.found

    def set_profile(self, profile: Profile) -> None:
        self.profile = profile
        self._auto_position = None

    def reset_filters(self) -> None:
        for f in (self._blend_f, self._rot_f, self._pos_f, self._eye_f):
            f.reset()

    def solve(self, obs: FaceObservation | None, t: float) -> FaceState:
        """The first face of a run counts at once, at full presence on the run's first frame (nothing
        was sent before it to blend from); after a loss, `reacquire_frames` detections in a row are
        needed and the face blends back in over `return_s`."""
        first_frame = self._last_t is None
        dt = 0.0 if first_frame else max(t - self._last_t, 0.0)
        self._last_t = t
        if self.still_images:
            return FaceState.neutral() if obs is None else self._track(obs, t)
        if obs is None:
            self._streak = 0
            return self._lost(t, dt)
        self._streak += 1
        if self._seen and self._lost_since is not None and self._streak < self.loss.reacquire_frames:
            return self._lost(t, dt)  # a lone detection after a loss is usually a false positive
        if self._lost_since is not None and t - self._lost_since > self.loss.hold_s:
            self.reset_filters()  # the old state is stale: start fresh and let presence blend in
        self._lost_since = None
        self._seen = True
        state = self._track(obs, t)
        self._presence = 1.0 if first_frame else min(1.0, self._presence + dt / self.loss.return_s)
        self._last = state
        return _blend_to_neutral(state, self._presence, found=True)

    def _track(self, obs: FaceObservation, t: float) -> FaceState:
        p = self.profile
        blend = p.apply(obs.blendshapes)
        rot, pos_cm = head_from_matrix(obs.matrix)
        rot = quat.multiply(quat.conjugate(p.head_rotation), rot)
        neutral_cm = p.head_position_cm
        if neutral_cm is None:
            if self._auto_position is None:
                self._auto_position = pos_cm.copy()
            neutral_cm = self._auto_position
        pos = MP_TO_SUBJECT @ (pos_cm - neutral_cm) / 100.0
        covered = obs.upper_covered
        if covered:  # headset: what the landmarker guesses behind it is not the eyes' state
            blend[UPPER_FACE_SHAPES] = 0.0
        angles = eye_angles(blend, self.face.eye_max_yaw_deg, self.face.eye_max_pitch_deg)
        if self.filt.enabled and not self.still_images:
            blend = self._blend_f(blend, t).astype(np.float32)
            rot = self._rot_f(rot, t)[0]
            pos = self._pos_f(pos, t)
            angles = self._eye_f(angles, t)
        left, right = eye_quats(angles)
        return FaceState(True, 1.0, blend, rot, pos, left, right, angles, obs.landmarks, not covered)

    def _lost(self, t: float, dt: float) -> FaceState:
        if self._lost_since is None:
            self._lost_since = t
        if t - self._lost_since > self.loss.hold_s:
            self._presence = max(0.0, self._presence - dt / self.loss.ease_s)
        return _blend_to_neutral(self._last, self._presence, found=False)


def _smooth(w: float) -> float:
    return w * w * (3 - 2 * w)


def _blend_to_neutral(s: FaceState, presence: float, found: bool) -> FaceState:
    if presence >= 1.0:
        return FaceState(found, 1.0, s.blendshapes, s.head_rotation, s.head_position, s.left_eye,
                         s.right_eye, s.eye_angles_deg, s.landmarks if found else None, s.eyes_tracked)
    w = _smooth(presence)
    ident = quat.IDENTITY
    return FaceState(
        found, presence, (s.blendshapes * w).astype(np.float32),
        quat.slerp(ident, s.head_rotation, w), s.head_position * w,
        quat.slerp(ident, s.left_eye, w), quat.slerp(ident, s.right_eye, w), s.eye_angles_deg * w,
        s.landmarks if found else None, s.eyes_tracked,
    )
