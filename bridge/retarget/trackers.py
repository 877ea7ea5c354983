"""Pose world landmarks + the solved body -> VRChat OSC tracker poses (hip, chest, feet, knees, elbows).

VRChat's full-body IK takes up to 8 trackers plus a head reference over OSC
(docs.vrchat.com/docs/osc-trackers); its calibration pairs each tracker with the body part it sits
nearest to, so what matters is that every tracker moves rigidly with its bone and that the whole set
is to scale. Frame, scale and floor: retarget/conventions.py.

  * positions: joint positions from the pose's world landmarks (metres, hips at the origin), in
    subject space, scaled so the person's standing height is `height_m` and lifted so the floor
    under their feet is y = 0; One Euro filtered;
  * rotations: the body solver's world rotations of the tracker's bone (already gated and filtered),
    un-mirrored; the head reference takes the face tracker's head rotation when the face is found;
  * a tracker whose landmarks are not visible (hysteresis) keeps its last pose for `hold_s`, then is
    not sent until it is seen again; in upper-body mode (legs out of view) only hip and chest go out.

The person's proportions are measured from the landmarks (segment lengths do not change with the
pose) over the first `calibration_frames` frames that show them, then frozen. A webcam cannot
measure absolute size, so the height itself comes from the config.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..filters import OneEuro
from ..frame import TRACKER_SLOTS, FaceState, TrackerPoses
from ..landmarks import (L_ANK, L_EAR, L_EL, L_HEEL, L_HIP, L_KNEE, L_SH, L_TOE, L_WR, R_ANK, R_EAR, R_EL,
                         R_HEEL, R_HIP, R_KNEE, R_SH, R_TOE, R_WR)
from . import humanoid as H
from .body import BI, BODY_BONES, BodyPose
from .conventions import reflect_x_quat, subject_points

# Each tracker: (the landmarks whose lowest visibility says it is seen, its bone, where it sits as
# weights over landmarks). Knee and elbow trackers ride the thigh and the upper arm (VRChat: "elbows
# (upper arms)"), placed at the joint.
_SPEC: dict[str, tuple[tuple[int, ...], str, dict[int, float]]] = {
    "hip": ((L_HIP, R_HIP), "Hips", {L_HIP: 0.5, R_HIP: 0.5}),
    "chest": ((L_SH, R_SH, L_HIP, R_HIP), "UpperChest", {L_SH: 0.375, R_SH: 0.375, L_HIP: 0.125, R_HIP: 0.125}),
    "left_foot": ((L_KNEE, L_ANK, L_HEEL, L_TOE), "LeftFoot", {L_ANK: 1.0}),
    "right_foot": ((R_KNEE, R_ANK, R_HEEL, R_TOE), "RightFoot", {R_ANK: 1.0}),
    "left_knee": ((L_HIP, L_KNEE, L_ANK), "LeftUpperLeg", {L_KNEE: 1.0}),
    "right_knee": ((R_HIP, R_KNEE, R_ANK), "RightUpperLeg", {R_KNEE: 1.0}),
    "left_elbow": ((L_SH, L_EL, L_WR), "LeftUpperArm", {L_EL: 1.0}),
    "right_elbow": ((R_SH, R_EL, R_WR), "RightUpperArm", {R_EL: 1.0}),
}
UPPER_BODY = ("hip", "chest")  # what upper-body mode sends; both are then seen by the shoulders alone
_SHOULDERS = (L_SH, R_SH)
_FEET = [L_ANK, R_ANK, L_HEEL, R_HEEL, L_TOE, R_TOE]
_LEGS = [L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANK, R_ANK]
_HEAD = {L_EAR: 0.5, R_EAR: 0.5}
# Drillis & Contini's segment proportions of standing height: hip joint 0.530, shoulder 0.818, ear
# about 0.93 above the floor. Hip->ankle + hip->shoulder + shoulder->ear (the sum of segment lengths
# we measure) is then 0.891 of the height; without the legs, hip->shoulder->ear is 0.40.
HIP_HEIGHT, BODY_FRACTION, TORSO_FRACTION = 0.530, 0.891, 0.40
_MIRROR = H.mirror_permutation(BODY_BONES)
_MARGIN = 0.02  # normalized image units a landmark may lie outside the image and still count


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    names: tuple[str, ...]  # TRACKER_SLOTS names to send
    height_m: float = 1.7  # the user's standing height
    visible_on: float = 0.6  # a tracker is seen from this landmark visibility...
    visible_off: float = 0.4  # ...until it drops below this one
    hold_s: float = 0.3  # an unseen tracker keeps its last pose this long, then is not sent
    calibration_frames: int = 30  # frames that show the body before its proportions are frozen
    min_cutoff: float = 1.0  # One Euro on positions (Hz)
    beta: float = 1.0  # per m/s
    floor_min_cutoff: float = 0.2  # One Euro on the floor height (Hz): it barely moves


def _weights(spec: dict[int, float]) -> np.ndarray:
    w = np.zeros(33)
    for i, v in spec.items():
        w[i] = v
    return w


class TrackerSolver:
    """Stateful per-stream solver; `solve` returns the trackers to send this frame, or None."""

    def __init__(self, settings: TrackerSettings, still_images: bool = False):
        unknown = [n for n in settings.names if n not in TRACKER_SLOTS]
        if unknown:
            raise ValueError(f"unknown tracker {unknown[0]!r}")
        self.s = settings
        self.still = still_images
        self.names = tuple(sorted(dict.fromkeys(settings.names), key=TRACKER_SLOTS.__getitem__))
        spec = [_SPEC[n] for n in self.names]
        self._gates = [list(lm) for lm, _, _ in spec]
        self._bones = np.array([BI[b] for _, b, _ in spec], dtype=np.intp)
        self._place = np.stack([_weights(w) for _, _, w in spec] + [_weights(_HEAD)])  # (N + 1, 33); the head last
        self._upper_ok = np.array([n in UPPER_BODY for n in self.names])
        self._filter = OneEuro(settings.min_cutoff, settings.beta)
        self._floor_filter = OneEuro(settings.floor_min_cutoff, 0.0)
        self._samples: list[float] = []
        self._torso_samples: list[float] = []
        self._frozen: float | None = None  # the measured height, once calibrated
        n = len(self.names)
        self._seen = np.zeros(n, bool)
        self._last_seen = np.full(n, -np.inf)
        self._held_pos = np.zeros((n, 3))
        self._held_rot = np.tile([0.0, 0.0, 0.0, 1.0], (n, 1))
        self._floor: float | None = None  # subject-space y of the floor, landmark metres (hips at 0)
        self._head: tuple[np.ndarray, np.ndarray] | None = None

    # --- proportions ------------------------------------------------------------------------------
    def _model_height(self, P: np.ndarray, vis: np.ndarray) -> float:
        """The landmarks' standing height (their metres), measured until enough frames are in."""
        if self._frozen is not None:
            return self._frozen
        mid_hip, mid_sh, mid_ear = (P[L_HIP] + P[R_HIP]) / 2, (P[L_SH] + P[R_SH]) / 2, (P[L_EAR] + P[R_EAR]) / 2
        upper = np.linalg.norm(mid_sh - mid_hip) + np.linalg.norm(mid_ear - mid_sh)
        on = self.s.visible_on
        if len(self._samples) < self.s.calibration_frames and np.min(vis[_LEGS + [L_SH, R_SH, L_EAR, R_EAR]]) >= on:
            legs = 0.5 * sum(np.linalg.norm(P[k] - P[h]) + np.linalg.norm(P[a] - P[k])
                             for h, k, a in ((L_HIP, L_KNEE, L_ANK), (R_HIP, R_KNEE, R_ANK)))
            self._samples.append((legs + upper) / BODY_FRACTION)
        elif (not self._samples and len(self._torso_samples) < self.s.calibration_frames
              and np.min(vis[[L_SH, R_SH, L_EAR, R_EAR]]) >= on):
            self._torso_samples.append(upper / TORSO_FRACTION)
        got = self._samples or self._torso_samples
        height = float(np.median(got)) if got else upper / TORSO_FRACTION
        if len(self._samples) >= self.s.calibration_frames:
            self._frozen = height
        return height

    # --- per frame --------------------------------------------------------------------------------
    def solve(self, world_landmarks: np.ndarray | None, visibility: np.ndarray | None, body: BodyPose | None,
              subject: FaceState, t: float, landmarks: np.ndarray | None = None) -> TrackerPoses | None:
        """One frame. `world_landmarks`/`visibility`/`landmarks`: PoseObservation.world/.visibility/
        .landmarks (None when no pose); `body`: the body solver's pose this frame; `subject`: the
        unmirrored face. A landmark outside the image counts as unseen at once: MediaPipe's visibility
        takes a quarter of a second to fall after a limb leaves the view."""
        if world_landmarks is None or body is None or not body.found:
            self._seen[:] = False
            return self._held(t)
        P = subject_points(world_landmarks)
        vis = np.asarray(visibility, dtype=np.float64)
        if landmarks is not None:
            xy = np.asarray(landmarks)[:, :2]
            vis = vis * np.all((xy >= -_MARGIN) & (xy <= 1 + _MARGIN), axis=1)
        model_h = self._model_height(P, vis)
        scale = self.s.height_m / model_h
        on, off = self.s.visible_on, self.s.visible_off
        feet = [i for i in _FEET if vis[i] >= on]
        if feet and body.mode == "full":  # the lowest visible foot point stands on the floor
            floor = float(np.min(P[feet, 1]))
            self._floor = floor if self.still else float(self._floor_filter(np.array([floor]), t)[0])
        elif self._floor is None:
            self._floor = -HIP_HEIGHT * model_h
        pos = (self._place @ P - np.array([0.0, self._floor, 0.0])) * scale
        if not self.still:
            pos = self._filter(pos, t)
        world = reflect_x_quat(body.world[_MIRROR]) if body.mirrored else body.world  # first person
        rot = world[self._bones]
        upper = body.mode == "upper"
        score = np.array([float(np.min(vis[list(_SHOULDERS) if upper and u else g]))
                          for g, u in zip(self._gates, self._upper_ok)])
        seen = score >= np.where(self._seen, off, on)
        if upper:
            seen &= self._upper_ok
        self._seen = seen
        self._last_seen[seen] = t
        self._held_pos[seen] = pos[:-1][seen]
        self._held_rot[seen] = rot[seen]
        head_rot = subject.head_rotation if subject.found else world[BI["Head"]]
        self._head = (pos[-1], np.asarray(head_rot, dtype=np.float64))
        return self._held(t)

    def _held(self, t: float) -> TrackerPoses | None:
        """The trackers seen now or within `hold_s` (their last poses), or None when none is."""
        keep = self._seen.copy() if self.still else t - self._last_seen <= self.s.hold_s
        if not keep.any() or self._head is None:
            return None
        return TrackerPoses(tuple(n for n, k in zip(self.names, keep) if k), self._held_pos[keep].copy(),
                            self._held_rot[keep].copy(), self._head[0].copy(), self._head[1].copy())
