"""Coordinate conventions, stated once for the whole sidecar.

Output space (what leaves the sidecar): Unity's, as the VMC protocol and EVMC4U use.
  * left-handed, +Y up, +Z forward (the avatar faces +Z, towards a viewer in front of it),
    +X to the avatar's right;
  * metres; rotations as unit quaternions (x, y, z, w) with w >= 0 is NOT enforced
    (filters keep sign continuity instead);
  * positive rotation about +Y turns +Z towards +X (avatar looks to its right);
    positive rotation about +X turns +Z towards -Y (avatar looks down);
  * bone rotations are local to the parent bone, relative to the normalized T-pose of
    UniVRM/EVMC4U (every bone's rest rotation is identity).

Input space (MediaPipe): normalized image landmarks have x right, y down; pose and hand world
landmarks (metres) share those x and y directions, with z away from the camera; the facial
transformation matrix is right-handed, +Y up, +Z from the face towards the camera, in cm.
Landmark indices are in bridge/landmarks.py.

Subject space vs mirror: the trackers' results are first turned into *subject space*,
where the avatar's left is the person's own left (first person, as in VRChat). With
`mirror = true` (the default for a desktop/VTuber view) the avatar instead behaves like the
person's reflection: X is negated for positions, quaternions become (x, -y, -z, w), and
Left/Right blendshapes and eyes swap. VRChat output is first person and never mirrored.

VRChat OSC trackers (retarget/trackers.py, docs.vrchat.com/docs/osc-trackers): Unity's frame as
above, first person, never mirrored: subject space itself (+X the person's right, +Y up, +Z the
way the person faces the camera), scaled so that the person's standing height is `[vrchat]
height_m` and shifted so the floor under their feet is y = 0 and the hips are above x = z = 0.
Rotations leave as Unity Euler angles in degrees (x, y, z), applied Z, then X, then Y
(quat.to_euler_deg, the inverse of Quaternion.Euler); a tracker's rotation is its bone's world
rotation against the T-pose (identity when standing in it, facing the camera).

Action model space (classify/action.py): Kinect v1 camera space, which MSR Action3D is recorded in
and the action model was trained on: right-handed, +Y up, +X the subject's right (the sensor's
left), +Z from the sensor towards the subject's back; that is subject space with Z reversed.
"""
from __future__ import annotations

import numpy as np

# Reflection that takes MediaPipe's right-handed camera frame into subject space:
# the person's left (+X in MediaPipe, image right) becomes the avatar's left (-X in Unity).
MP_TO_SUBJECT = np.diag([-1.0, 1.0, 1.0])
# Per-axis signs taking MediaPipe pose/hand world landmarks (and the directions of normalized image
# landmarks) into subject space: image right is the person's left, image down is down, away from the
# camera is the person's back.
MP_WORLD_TO_SUBJECT = np.array([-1.0, -1.0, -1.0])
# Per-axis signs taking subject space into the action model's Kinect camera space.
SUBJECT_TO_KINECT = np.array([1.0, 1.0, -1.0])


def subject_points(world_landmarks: np.ndarray) -> np.ndarray:
    """MediaPipe pose/hand world landmarks (..., 3) -> subject space (float64)."""
    return np.asarray(world_landmarks, dtype=np.float64) * MP_WORLD_TO_SUBJECT


def kinect_points(world_landmarks: np.ndarray) -> np.ndarray:
    """MediaPipe pose world landmarks (..., 3) -> the action model's Kinect camera space (float32,
    the precision the model was trained and is run in; sign flips are exact in either precision)."""
    return (subject_points(world_landmarks) * SUBJECT_TO_KINECT).astype(np.float32)


def reflect_x_quat(q: np.ndarray) -> np.ndarray:
    """Mirror rotations across the avatar's YZ plane (left <-> right). Works on (..., 4)."""
    out = np.array(q, dtype=np.float64, copy=True)
    out[..., 1] = -out[..., 1]
    out[..., 2] = -out[..., 2]
    return out


def reflect_x_pos(p: np.ndarray) -> np.ndarray:
    """Mirror positions across the YZ plane (x negated). Works on (..., 3)."""
    out = np.array(p, dtype=np.float64, copy=True)
    out[..., 0] = -out[..., 0]
    return out
