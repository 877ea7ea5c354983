"""Headset mode: keep the face tracked when a VR headset hides the eyes and brows.

What fails under a headset is MediaPipe's confidence, and its blendshapes, more than its geometry:
with the upper face covered the detector and the landmarker's presence score drop below the usual
0.5 and the face is dropped, while the landmarks it does place on the lower face (mouth, jaw,
cheeks) and the head pose it fits stay close to an uncovered run's (bench/headset.py measures
both). Its blendshape model, though, reads the guessed eyes and brows too, and some mouth shapes
follow them. So headset mode runs the face landmarker with low confidence thresholds and says,
per frame, whether the upper face is covered; while it is, the mouth, jaw and cheek shapes come
from the lower-face landmarks alone (lower_face.py), and the face solver holds the eye and brow
shapes neutral and marks the eyes not tracked.

Whether the upper face is covered ("auto") is read from the image, against the person's own lower
face so that skin tone, lighting and camera do not matter: the band over the eyes and brows is
covered while little of it has the colour of the lower face's skin (a headset is plastic, fabric
or foam: black, white, grey or coloured, but not skin), or while it has much less fine detail
(mean absolute Laplacian) than the lower face (a smooth front, whatever its colour). Detail alone
is not enough: lenses, seams and a webcam's noise give a real headset's front detail. A mask over
the mouth turns the comparison round and reads as a headset too. It takes `frames` frames in a
row to change state.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MODES = ("off", "on", "auto")
# Landmarks (MediaPipe face mesh) that outline what a headset covers: brows, eyes, the temples and
# cheekbones at eye level, the nose bridge and the lower forehead.
UPPER_FACE = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300, 33, 133, 159, 145, 153, 144, 362, 263, 386, 374,
              380, 373, 127, 356, 234, 454, 111, 117, 118, 119, 340, 346, 347, 348, 6, 168, 197, 9, 151, 108, 337)
# The lower face a headset leaves in view: around the mouth, the chin and the lower cheeks.
LOWER_FACE = (61, 291, 0, 17, 37, 267, 84, 314, 152, 148, 377, 176, 400, 205, 425, 207, 427, 2, 164)
# The lips' outer contour: left out of the lower face's skin colour.
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
_SIDE = 96  # pixels: the face is measured at this size
_CHROMA = 12  # YCrCb units: bare skin above the nose is within 1-3 of the lower face's; a white headset on pale skin 15


@dataclass(frozen=True, slots=True)
class HeadsetSettings:
    min_confidence: float = 0.1  # the face landmarker's detection, presence and tracking thresholds
    texture_ratio: float = 0.35  # auto: covered while the upper band's detail is below this share of the lower face's
    skin_share: float = 0.35  # auto: covered while less of the upper band than this has the lower face's skin colour
    frames: int = 5  # auto: frames in a row before the state changes


def _hull(shape: tuple[int, int], pts: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(pts.astype(np.int32)), 1)
    return mask.astype(bool)


def _detail(gray: np.ndarray, pts: np.ndarray) -> float:
    """Mean absolute Laplacian inside the convex hull of `pts` (pixels)."""
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + 2, gray.shape[1::-1])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0
    mask = _hull((y1 - y0, x1 - x0), pts - [x0, y0])
    n = int(mask.sum())
    return float(np.abs(cv2.Laplacian(gray[y0:y1, x0:x1], cv2.CV_32F))[mask].sum() / n) if n else 0.0


def _skin_share(ycc: np.ndarray, xy: np.ndarray) -> float:
    """Share of the upper band's pixels within a tolerance of the lower face's median skin colour
    (YCrCb: chroma within _CHROMA, brightness within 0.4-2.2 times, for light falling unevenly)."""
    shape = ycc.shape[:2]
    skin = ycc[_hull(shape, xy[list(LOWER_FACE)]) & ~_hull(shape, xy[list(LIPS)])]
    upper = ycc[_hull(shape, xy[list(UPPER_FACE)])]
    if len(skin) < 10 or len(upper) < 10:
        return 1.0
    y, cr, cb = np.median(skin, axis=0)
    near = ((np.abs(upper[:, 1] - cr) < _CHROMA) & (np.abs(upper[:, 2] - cb) < _CHROMA)
            & (upper[:, 0] >= 0.4 * y) & (upper[:, 0] <= 2.2 * y + 10))
    return float(near.mean())


def upper_face_cues(rgb: np.ndarray, landmarks: np.ndarray) -> tuple[float, float]:
    """(detail ratio, skin share) of the band over the eyes and brows, against the lower face: the
    band's fine detail relative to the lower face's (about 1 for an uncovered face, near 0 under a
    smooth headset), and the share of it that has the lower face's skin colour (0.8-0.95 for an
    uncovered face, near 0 under a headset)."""
    h, w = rgb.shape[:2]
    xy = landmarks[:, :2] * [w, h]
    x0, y0 = np.clip(np.floor(xy.min(0)).astype(int) - 2, 0, [w, h])
    x1, y1 = np.clip(np.ceil(xy.max(0)).astype(int) + 3, 0, [w, h])
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 1.0, 1.0
    # the face only, at a fixed size: cheap, and the same measures for near and far faces
    face = cv2.resize(rgb[y0:y1, x0:x1], (_SIDE, _SIDE), interpolation=cv2.INTER_LINEAR)
    gray = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    xy = (xy - [x0, y0]) * [_SIDE / (x1 - x0), _SIDE / (y1 - y0)]
    lower = _detail(gray, xy[list(LOWER_FACE)])
    detail = _detail(gray, xy[list(UPPER_FACE)]) / lower if lower > 0 else 1.0
    return detail, _skin_share(cv2.cvtColor(face, cv2.COLOR_RGB2YCrCb).astype(np.float32), xy)


def looks_covered(rgb: np.ndarray, landmarks: np.ndarray, s: HeadsetSettings = HeadsetSettings()) -> bool:
    """One frame's verdict for "auto": little of the band has the lower face's skin colour, or it is smooth."""
    detail, skin = upper_face_cues(rgb, landmarks)
    return detail < s.texture_ratio or skin < s.skin_share


class HeadsetDetector:
    """`[face] headset`: "on" always covered, "off" never, "auto" from the image with debouncing."""

    def __init__(self, mode: str, settings: HeadsetSettings = HeadsetSettings()):
        if mode not in MODES:
            raise ValueError(f"headset mode {mode!r}: choose {', '.join(MODES)}")
        self.mode = mode
        self.s = settings
        self.covered = mode == "on"
        self._streak = 0

    def update(self, rgb: np.ndarray, landmarks: np.ndarray | None) -> bool:
        if self.mode != "auto" or landmarks is None:
            return self.covered
        now = looks_covered(rgb, landmarks, self.s)
        self._streak = self._streak + 1 if now != self.covered else 0
        if self._streak >= self.s.frames:
            self.covered, self._streak = now, 0
        return self.covered
