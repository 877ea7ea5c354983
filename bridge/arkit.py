"""The 52 ARKit blendshape names, in Apple's order, and MediaPipe's index map.

Left/Right in these names are the subject's own sides (checked against iris landmarks:
MediaPipe's eyeLookOutLeft rises when the person looks toward their own left).
"""
from __future__ import annotations

import numpy as np

ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)
N_SHAPES = len(ARKIT_NAMES)
INDEX: dict[str, int] = {n: i for i, n in enumerate(ARKIT_NAMES)}


def mirror_name(name: str) -> str:
    """The same shape on the other side of the face (jawLeft -> jawRight, browInnerUp -> itself)."""
    if name.endswith("Left"):
        return name[:-4] + "Right"
    if name.endswith("Right"):
        return name[:-5] + "Left"
    return name


MIRROR_PERMUTATION: np.ndarray = np.array([INDEX[mirror_name(n)] for n in ARKIT_NAMES])
"""Index map that swaps every Left/Right pair: values[MIRROR_PERMUTATION] is the mirrored face."""


def mediapipe_index_map(category_names: list[str]) -> np.ndarray:
    """For each ARKit name, the index of that category in MediaPipe's output, or -1 (tongueOut)."""
    pos = {n: i for i, n in enumerate(category_names)}
    return np.array([pos.get(n, -1) for n in ARKIT_NAMES], dtype=np.int64)
