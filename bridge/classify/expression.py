"""Facial expression (7 FER2013 classes) from the tracked face: aligned crop -> ONNX -> probabilities."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..arkit import ARKIT_NAMES
from ..classes import EXPRESSIONS
from ..errors import ModelError
from .face_crop import face_crop
from .onnx_runner import OnnxModel

CLASSES = EXPRESSIONS
DEFAULT_MODEL = "expression_fusion"  # the highest measured PublicTest accuracy (docs/models.md); 1.4 ms at 10 Hz


class ExpressionClassifier:
    """`classify(image, landmarks, blendshapes) -> {class: probability}` per frame.

    image: the RGB uint8 frame the landmarks came from; landmarks: (478, 3) normalised
    (FaceState.landmarks / FaceObservation.landmarks). The card's preprocessing is applied:
    grayscale crop of `size` px, then x * scale + offset, NCHW float32. A fusion model's card has a
    second input, `blendshapes` (N, 52) in ARKit order, fed from the tracker's blendshapes (zeros
    when unknown). Given the user's calibrated neutral face, those are read relative to it: the
    shift that moves this user's resting blendshapes onto the training faces' resting ones
    (`neutral_reference` in the card: FER2013 Training's neutral faces) is applied first, so a
    resting face MediaPipe reads with a slight frown or smile is not taken for sad or happy.
    """

    def __init__(self, model: str | Path = DEFAULT_MODEL, directory: Path | None = None):
        self.model = OnnxModel(model, directory)
        name = self.model.name
        inp = self.model.card["inputs"][0]
        pre = inp.get("preprocessing", {})
        try:
            self.size = int(pre["size"])
            self.scale = float(pre["scale"])
            self.offset = float(pre["offset"])
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"model card {name}.card.json lacks inputs[0].preprocessing size/scale/offset: "
                             "restore it from the repository") from None
        extra = [i["name"] for i in self.model.card["inputs"][1:]]
        if extra not in ([], ["blendshapes"]):
            raise ModelError(f"{name} has inputs {extra} besides the face; an expression model takes the face and "
                             "optionally `blendshapes` (N, 52)")
        self.uses_blendshapes = bool(extra)
        ref = self.model.card["inputs"][1].get("neutral_reference") if extra else None
        self.neutral_reference = (np.array([float(ref[n]) for n in ARKIT_NAMES], np.float32)
                                  if isinstance(ref, dict) else None)
        if tuple(self.model.classes) != CLASSES:
            raise ModelError(f"{name} lists classes {self.model.classes}, expected FER2013 order {CLASSES}")
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

    def _run(self, x: np.ndarray, blendshapes: np.ndarray | None) -> np.ndarray:
        if not self.uses_blendshapes:
            return self.model.run(x)
        if blendshapes is None:
            blendshapes = np.zeros((len(x), 52), np.float32)
        return self.model.run(x, np.asarray(blendshapes, np.float32).reshape(len(x), 52))

    def predict(self, crops: np.ndarray, blendshapes: np.ndarray | None = None, batch: int = 256,
                progress=None) -> np.ndarray:
        """(N, H, W) or (H, W) uint8 grayscale faces (48x48 FER-style crops are resized to the model's size),
        and for a fusion model their (N, 52) blendshapes (see fer_blendshapes) -> (N, 7) probabilities."""
        x = self._prep(crops)
        out = []
        for i in range(0, len(x), batch):
            out.append(self._run(x[i:i + batch], None if blendshapes is None else blendshapes[i:i + batch]))
            if progress is not None:
                progress.update(len(out[-1]))
        return np.concatenate(out)

    def relative(self, blendshapes: np.ndarray, neutral: np.ndarray | None) -> np.ndarray:
        """The blendshapes as the training faces would read them, given this user's neutral face
        (raw tracker values, calibration.Profile.neutral); unchanged without one or without a
        reference in the card."""
        if neutral is None or self.neutral_reference is None:
            return blendshapes
        return np.clip(blendshapes - neutral + self.neutral_reference, 0.0, 1.0).astype(np.float32)

    def classify(self, image: np.ndarray, landmarks: np.ndarray, blendshapes: np.ndarray | None = None,
                 neutral: np.ndarray | None = None) -> dict[str, float]:
        if blendshapes is not None:
            blendshapes = self.relative(blendshapes, neutral)
        p = self._run(self._prep(self.crop(image, landmarks)), blendshapes)[0]
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


FER_PAD = 8  # px of replicated border around a 48x48 FER-style crop: the face detector needs a margin
FER_UPSCALE = 256  # the padded crop is upscaled to this size before tracking


def fer_blendshapes(faces: np.ndarray, tracker, progress=None, landmarks: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The 52 ARKit blendshapes MediaPipe reads from small pre-cropped grayscale faces (FER2013 style).

    Used to train and evaluate the fusion model on face datasets, where no video frame exists: each
    face gets a replicated border (the detector needs a margin), is upscaled and tracked as a still
    image. Returns (N, 52) float32 and (N,) bool "face found"; shapes are 0 where none was found, as
    the fusion model expects. `tracker`: a FaceTracker(still_images=True); `progress`: a Progress;
    `landmarks`: an (N, 478, 3) array to fill with the face landmarks (NaN where none was found).
    """
    faces = np.asarray(faces)
    out = np.zeros((len(faces), 52), np.float32)
    found = np.zeros(len(faces), bool)
    for i, face in enumerate(faces):
        big = cv2.resize(cv2.copyMakeBorder(face, FER_PAD, FER_PAD, FER_PAD, FER_PAD, cv2.BORDER_REPLICATE),
                         (FER_UPSCALE, FER_UPSCALE), interpolation=cv2.INTER_CUBIC)
        obs = tracker.process(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB), i)
        if obs is not None:
            out[i], found[i] = obs.blendshapes, True
            if landmarks is not None:
                landmarks[i] = obs.landmarks
        elif landmarks is not None:
            landmarks[i] = np.nan
        if progress is not None:
            progress.update()
    return out, found
