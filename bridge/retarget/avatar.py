"""Subject-space FaceState -> the avatar's face: mirroring and the face bones (mapping the shapes is `bridge.mapping`)."""
from __future__ import annotations

import numpy as np

from ..arkit import MIRROR_PERMUTATION
from ..frame import FaceState
from . import quat
from .conventions import reflect_x_pos, reflect_x_quat

FACE_BONES: tuple[str, ...] = ("Neck", "Head", "LeftEye", "RightEye")


def mirror_face(s: FaceState) -> FaceState:
    """The person's reflection: X negated, Left/Right shapes and eyes swapped."""
    a = s.eye_angles_deg
    return FaceState(
        s.found, s.presence, s.blendshapes[MIRROR_PERMUTATION], reflect_x_quat(s.head_rotation),
        reflect_x_pos(s.head_position), reflect_x_quat(s.right_eye), reflect_x_quat(s.left_eye),
        np.array([a[2], -a[3], a[0], -a[1]]), s.landmarks,
    )


def face_bones(s: FaceState, neck_share: float) -> np.ndarray:
    """(4, 4) local rotations for Neck, Head, LeftEye, RightEye; the neck takes `neck_share` of the turn."""
    neck = quat.slerp(quat.IDENTITY, s.head_rotation, neck_share)
    head = quat.multiply(quat.conjugate(neck), s.head_rotation)
    return np.stack([neck, head, s.left_eye, s.right_eye])


class AvatarRetargeter:
    def __init__(self, mirror: bool, neck_share: float, move_root: bool, translation_gain: float):
        self.mirror = mirror
        self.neck_share = neck_share
        self.move_root = move_root
        self.translation_gain = translation_gain
        self._zero_pos = np.zeros((len(FACE_BONES), 3))

    def solve(self, s: FaceState) -> tuple[FaceState, np.ndarray, np.ndarray]:
        """Returns (avatar-space face, face bone rotations, root position)."""
        face = mirror_face(s) if self.mirror else s
        root = face.head_position * self.translation_gain if self.move_root else np.zeros(3)
        return face, face_bones(face, self.neck_share), root
