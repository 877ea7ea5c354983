"""ARKit `tongueOut` from the face image: MediaPipe's 52 scores have no tongue (it always reads 0).

A small ONNX model looks at the face and says how likely the tongue is out; that probability
becomes the tongueOut value, written into the tracker's blendshapes before the face solver, so it
is calibrated, filtered, mirrored and mapped (e.g. to VRChat's `v2/TongueOut`) like every other
shape. The model is FoxyFace's (models/tongue_foxyface.card.json): its input is the whole face,
turned upright by the eye line (landmarks 33 and 263), framed by the box of all 478 landmarks
plus a margin, warped (bicubic) to 256x256 RGB and scaled to [0, 1], as FoxyFace prepares it;
FoxyFace's margin is 64 camera pixels, here a fraction of the face so it does not depend on the
camera's resolution. It costs tens of milliseconds a face, so it runs at `[classify] tongue_hz`
and the last value is held in between; it is off by default (docs/models.md).
"""
from __future__ import annotations

import cv2
import numpy as np

from ..arkit import ARKIT_NAMES
from .onnx_runner import OnnxModel

TONGUE_OUT = ARKIT_NAMES.index("tongueOut")
MODEL = "tongue_foxyface"
SIZE = 256
MARGIN = 0.25  # of the landmark box's larger side: FoxyFace's 64 px on a face about 256 px tall
EYES = (33, 263)  # outer eye corners, image left and image right


def tongue_crop(rgb: np.ndarray, landmarks: np.ndarray, size: int = SIZE, margin: float = MARGIN) -> np.ndarray:
    """The model's input for one face: (size, size, 3) uint8 RGB, black outside the image.
    rgb: the HxWx3 frame the landmarks came from; landmarks: (478, 2+) normalised."""
    h, w = rgb.shape[:2]
    xy = np.asarray(landmarks, np.float64)[:, :2] * (w, h)
    (lx, ly), (rx, ry) = xy[EYES[0]], xy[EYES[1]]
    angle = np.arctan2(ry - ly, rx - lx)
    c, s = np.cos(angle), np.sin(angle)
    upright = (xy - ((lx + rx) / 2, (ly + ry) / 2)) @ np.array([[c, -s], [s, c]])  # rotate by -angle
    lo, hi = upright.min(0), upright.max(0)
    pad = margin * float((hi - lo).max())
    lo, hi = lo - pad, hi + pad
    scale = size / np.maximum(hi - lo, 1.0)
    # image -> crop: translate to the eye centre, rotate upright, shift the box to the origin, scale
    rot = np.array([[c, s], [-s, c]])
    m = np.zeros((2, 3))
    m[:, :2] = scale[:, None] * rot
    m[:, 2] = scale * (-rot @ np.array([(lx + rx) / 2, (ly + ry) / 2]) - lo)
    return cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT)


class TongueEstimator:
    """`update(t, rgb, face)` sets `face.blendshapes[tongueOut]` for one frame (a FaceObservation),
    running the model at most `hz` times a second and holding its last value in between."""

    def __init__(self, hz: float, model: str | OnnxModel = MODEL):
        """`model`: a name, or an OnnxModel already loaded (shared by several people)."""
        self.model = model if isinstance(model, OnnxModel) else OnnxModel(model)
        self.period = 1.0 / hz
        self._last_t = -np.inf
        self.value = 0.0

    def estimate(self, rgb: np.ndarray, landmarks: np.ndarray) -> float:
        x = tongue_crop(rgb, landmarks)[None].astype(np.float32) * np.float32(1 / 255)
        return float(self.model.run(x)[0, 0])

    def update(self, t: float, rgb: np.ndarray, face) -> None:
        if face is None:  # a new face starts from a fresh estimate
            self._last_t, self.value = -np.inf, 0.0
            return
        if t - self._last_t >= self.period or t < self._last_t:
            self._last_t = t
            self.value = self.estimate(rgb, face.landmarks)
        face.blendshapes[TONGUE_OUT] = self.value
