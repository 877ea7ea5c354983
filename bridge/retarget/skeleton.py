"""Pose + hands + face bones -> the avatar's one bone list (names, local rotations, positions, root).

With pose on, the body solver owns Neck/Head (fed the face tracker's head rotation, which is
steadier than the pose's) and the root; without it, the face's Neck/Head and root stand alone.
Eyes always come from the face; fingers from the hand solver.
"""
from __future__ import annotations

import numpy as np

from ..config import Config
from ..frame import FaceState
from . import humanoid
from .avatar import FACE_BONES
from .fold import BoneFold
from .vrm_file import VrmAvatar
from .limb_filter import GateSettings

EYES = ("LeftEye", "RightEye")


class SkeletonRetargeter:
    def __init__(self, cfg: Config, still_images: bool, avatar: VrmAvatar | None = None):
        """With `avatar`, the bones are the ones it has (see fold.py) and the positions its own rest offsets."""
        self.body = None
        self.hands = None
        mirror = cfg.source.mirror
        if cfg.pose.enabled:
            from .body import BODY_BONES, BodySettings, BodySolver
            p = cfg.pose
            self.body = BodySolver(BodySettings(
                mode=p.mode, leg_visibility=p.leg_visibility, seated_hip_deg=p.seated_hip_deg,
                seated_knee_deg=p.seated_knee_deg, arm_rest_down_deg=p.arm_rest_down_deg, neck_share=p.neck_share,
                move_root=p.move_root, root_gain=p.root_gain,
                gate=GateSettings(0.6, 0.4, p.hold_s, p.ease_s, p.return_s),
                min_cutoff=p.rotation_min_cutoff, beta=p.rotation_beta), mirror=mirror, still_images=still_images)
        if cfg.hands.enabled:
            from .hands import HandSettings, HandSolver
            h = cfg.hands
            self.hands = HandSolver(HandSettings(gate=GateSettings(0.5, 0.5, h.hold_s, h.ease_s, h.return_s),
                                                 min_cutoff=h.rotation_min_cutoff, beta=h.rotation_beta),
                                    mirror=mirror, still_images=still_images)
        names = (BODY_BONES + EYES) if self.body is not None else FACE_BONES
        if self.hands is not None:
            from .hands import HAND_BONES
            names = names + HAND_BONES
        self.fold = BoneFold(names, avatar.bones if avatar is not None else frozenset(names))
        self.names: tuple[str, ...] = self.fold.names
        self.positions = (np.array([avatar.offsets[n] for n in self.names]) if avatar is not None
                          else humanoid.rest_positions(names))  # local offsets (metres); constant
        self.mode = "face"
        self.body_pose = None  # the body solver's last BodyPose (world rotations for the VRChat trackers)

    def solve(self, obs, subject: FaceState, face_bones: np.ndarray, face_root: np.ndarray,
              t: float) -> tuple[np.ndarray, np.ndarray]:
        """(local rotations in `self.names` order, root position) for one frame.

        `subject` is the unmirrored face (its head rotation steers the body's head); `face_bones`
        are the output-space Neck, Head, LeftEye, RightEye rotations from AvatarRetargeter.
        """
        parts = []
        hand_world = None
        hands_pose = None
        if self.hands is not None:
            from .hands import pose_wrists
            pose = obs.pose
            wrists = pose_wrists(pose.landmarks, pose.visibility) if pose is not None else None
            hands_pose = self.hands.solve(obs.hands, t, wrists)
            hand_world = hands_pose.hand_world
        if self.body is not None:
            pose = obs.pose
            bp = self.body.solve(None if pose is None else pose.world, None if pose is None else pose.visibility, t,
                                 None if pose is None else pose.landmarks,
                                 head_rotation=subject.head_rotation if subject.found else None, hand_world=hand_world)
            self.mode = bp.mode
            self.body_pose = bp
            parts += [bp.local, face_bones[2:4]]
            root = bp.root_position
        else:
            parts.append(face_bones)
            root = face_root
        if hands_pose is not None:
            parts.append(hands_pose.local)
        return self.fold.apply(np.concatenate(parts, axis=0)), root
