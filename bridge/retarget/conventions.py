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

Input space (MediaPipe): image x right, y down for normalized landmarks; the facial
transformation matrix is right-handed, +Y up, +Z from the face towards the camera, in cm.

Subject space vs mirror: the trackers' results are first turned into *subject space*,
where the avatar's left is the person's own left (first person, as in VRChat). With
`mirror = true` (the default for a desktop/VTuber view) the avatar instead behaves like the
person's reflection: X is negated for positions, quaternions become (x, -y, -z, w), and
Left/Right blendshapes and eyes swap. VRChat output is first person and never mirrored.
"""
from __future__ import annotations

import numpy as np

# Reflection that takes MediaPipe's right-handed camera frame into subject space:
# the person's left (+X in MediaPipe, image right) becomes the avatar's left (-X in Unity).
MP_TO_SUBJECT = np.diag([-1.0, 1.0, 1.0])


def reflect_x_quat(q: np.ndarray) -> np.ndarray:
    """Mirror rotations across the avatar's YZ plane (left <-> right). Works on (..., 4)."""
    out = np.array(q, dtype=np.float64, copy=True)
    out[..., 1] = -out[..., 1]
    out[..., 2] = -out[..., 2]
    return out


def reflect_x_pos(p: np.ndarray) -> np.ndarray:
    out = np.array(p, dtype=np.float64, copy=True)
    out[..., 0] = -out[..., 0]
    return out
