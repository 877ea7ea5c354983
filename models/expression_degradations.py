"""Degradations that imitate faces from other sources than FER2013, for training and for the robustness table.

Each takes a (48, 48) uint8 grayscale FER-style face and a NumPy Generator and returns a degraded
(48, 48) uint8 face. The robustness table (models/evaluate_expression.py) applies each one, with
seeded random strengths, to a fixed subset of PublicTest and re-reads MediaPipe's blendshapes from
the degraded face (as live, where the landmarker sees the same pixels); train_expression_fusion.py
`--robust` draws them at random during training.

Colour vs grayscale is not among them: the sidecar converts every frame to grayscale before the
crop (bridge.classify.face_crop), as FER2013's faces are, so no colour ever reaches the model.
"""
from __future__ import annotations

import cv2
import numpy as np

SIZE = 48


def framing(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scale 0.8-1.2 and shift up to 5 px: a crop framed tighter or looser than FER2013's."""
    s = rng.uniform(0.8, 1.2)
    tx, ty = rng.uniform(-5, 5, 2)
    m = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), 0.0, s)
    m[:, 2] += (tx, ty)
    return cv2.warpAffine(face, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def pose(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Roll of 10-20 degrees either way and a horizontal squeeze to 0.8-0.95 (a turned head, roughly)."""
    ang = rng.uniform(10, 20) * rng.choice([-1, 1])
    m = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), ang, 1.0)
    sq = rng.uniform(0.8, 0.95)
    m[0] *= sq
    m[0, 2] += (1 - sq) * SIZE / 2 + rng.uniform(-2, 2)  # squeezed about the centre, shifted a little
    return cv2.warpAffine(face, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def blur(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur, sigma 0.6-1.2 px (defocus, motion, a soft webcam)."""
    return cv2.GaussianBlur(face, (0, 0), rng.uniform(0.6, 1.2))


def noise(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gaussian sensor noise, sigma 6-14 grey levels (a dim room)."""
    return np.clip(face + rng.normal(0, rng.uniform(6, 14), face.shape), 0, 255).astype(np.uint8)


def jpeg(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """JPEG at quality 15-35 (a compressed stream)."""
    ok, buf = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 36))])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def lighting(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gamma 0.5-0.7 or 1.5-2.0 and contrast 0.5-0.8 about mid grey, plus a brightness offset of +-25."""
    g = rng.uniform(0.5, 0.7) if rng.random() < 0.5 else rng.uniform(1.5, 2.0)
    x = (face / 255.0) ** g
    x = (x - 0.5) * rng.uniform(0.5, 0.8) + 0.5 + rng.uniform(-25, 25) / 255
    return np.clip(x * 255, 0, 255).astype(np.uint8)


def resolution(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another resolution: the face downsampled to 20-32 px (a face far from the camera) and back up."""
    n = int(rng.integers(20, 33))
    small = cv2.resize(face, (n, n), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)


def sharp_source(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sharper source downsampled: the face upscaled 4x, unsharp-masked (amount 0.6-1.2), area-downsampled
    back, as the sidecar's crop of a high-resolution frame is sharper than FER2013's faces."""
    big = cv2.resize(face, (SIZE * 4, SIZE * 4), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    a = rng.uniform(0.6, 1.2)
    big = np.clip(big * (1 + a) - a * cv2.GaussianBlur(big, (0, 0), 3.0), 0, 255)
    return cv2.resize(big, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.uint8)


DEGRADATIONS = {f.__name__: f for f in (framing, pose, blur, noise, jpeg, lighting, resolution, sharp_source)}


def degrade_all(faces: np.ndarray, name: str, seed: int = 0) -> np.ndarray:
    """Every face through one degradation, with seeded strengths (the robustness table's inputs)."""
    rng = np.random.default_rng(seed)
    fn = DEGRADATIONS[name]
    return np.stack([fn(f, rng) for f in faces])


def random_degrade(face: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Training: with probability p, one or two degradations drawn at random."""
    if rng.random() >= p:
        return face
    names = list(DEGRADATIONS)
    for name in rng.choice(names, size=int(rng.integers(1, 3)), replace=False):
        face = DEGRADATIONS[name](face, rng)
    return face
