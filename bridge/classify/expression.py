"""Facial expression (7 FER2013 classes) from the tracked face: aligned crop -> ONNX -> probabilities."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelError
from .face_crop import face_crop
from .onnx_runner import OnnxModel

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013 order
DEFAULT_MODEL = "expression_fer_mini_xception"  # the higher measured PublicTest accuracy (docs/models.md)


class ExpressionClassifier:
    """`classify(image, landmarks) -> {class: probability}` per frame.

    image: the RGB uint8 frame the landmarks came from; landmarks: (478, 3) normalised
    (FaceState.landmarks / FaceObservation.landmarks). The card's preprocessing is applied:
    grayscale crop of `size` px, then x * scale + offset, NCHW float32.
    """

    def __init__(self, model: str = DEFAULT_MODEL, directory: Path | None = None):
        self.model = OnnxModel(model, directory)
        inp = self.model.card["inputs"][0]
        pre = inp.get("preprocessing", {})
        try:
            self.size = int(pre["size"])
            self.scale = float(pre["scale"])
            self.offset = float(pre["offset"])
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"model card {model}.card.json lacks inputs[0].preprocessing size/scale/offset: "
                             "restore it from the repository") from None
        if tuple(self.model.classes) != CLASSES:
            raise ModelError(f"{model} lists classes {self.model.classes}, expected FER2013 order {CLASSES}")
        self.classes = CLASSES

    def crop(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        return face_crop(image, landmarks, self.size)

    def _prep(self, crops: np.ndarray) -> np.ndarray:
        crops = np.asarray(crops)
        if crops.ndim == 2:
            crops = crops[None]
        if crops.shape[1:] != (self.size, self.size):
            crops = np.stack([cv2.resize(c, (self.size, self.size), interpolation=cv2.INTER_LINEAR) for c in crops])
        return (crops.astype(np.float32) * self.scale + self.offset)[:, None]

    def predict(self, crops: np.ndarray, batch: int = 256) -> np.ndarray:
        """(N, H, W) or (H, W) uint8 grayscale faces (48x48 FER-style crops are resized to the model's size)
        -> (N, 7) probabilities."""
        x = self._prep(crops)
        return np.concatenate([self.model.run(x[i:i + batch]) for i in range(0, len(x), batch)])

    def classify(self, image: np.ndarray, landmarks: np.ndarray) -> dict[str, float]:
        p = self.model.run(self._prep(self.crop(image, landmarks)))[0]
        return dict(zip(self.classes, (float(v) for v in p)))


class ProbabilitySmoother:
    """Exponential smoothing of class probabilities with time constant tau (seconds), frame-rate
    independent. A step from 0 to 1 crosses 0.5 after tau * ln 2 (69 ms at the default 0.1 s)."""

    def __init__(self, tau_s: float = 0.1):
        self.tau = tau_s
        self._t: float | None = None
        self._p: dict[str, float] = {}

    def update(self, t: float, probs: dict[str, float]) -> dict[str, float]:
        if self._t is None or self.tau <= 0:
            self._p = dict(probs)
        else:
            a = 1.0 - float(np.exp(-max(t - self._t, 0.0) / self.tau))
            self._p = {k: self._p.get(k, v) + a * (v - self._p.get(k, v)) for k, v in probs.items()}
        self._t = t
        return dict(self._p)

    def reset(self) -> None:
        self._t, self._p = None, {}
