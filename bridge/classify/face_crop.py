"""An aligned face crop from the 478 MediaPipe landmarks we already track (no second detector).

A similarity transform (rotation, uniform scale, translation; least squares) maps a set of stable
landmarks (eye corners, nose, mouth corners, chin, brows, face sides) onto TEMPLATE: where those
landmarks sit, on median, in FER2013's own 48x48 training crops (measured by
models/measure_fer_face_template.py with the same landmarker). So the live crop frames the face the
way the training data does (face centred and filling most of the frame), with head roll removed.
"""
from __future__ import annotations

import cv2
import numpy as np

# MediaPipe face mesh indices: right eye outer/inner corner, left eye inner/outer, nose tip,
# mouth corners, chin, brow middles, face sides (cheek contour at eye level).
TEMPLATE_IDX = (33, 133, 362, 263, 1, 61, 291, 152, 105, 334, 234, 454)

# Median positions (fraction of the crop, x right, y down) in 226 FER2013 training crops (of 250
# sampled, seed 0), made left-right symmetric (pairs averaged); see module doc.
TEMPLATE = np.array([
    [0.2430, 0.3886],  # 33
    [0.3962, 0.4038],  # 133
    [0.6038, 0.4038],  # 362
    [0.7571, 0.3886],  # 263
    [0.5000, 0.6160],  # 1
    [0.3451, 0.7691],  # 61
    [0.6549, 0.7691],  # 291
    [0.5000, 1.0030],  # 152
    [0.2540, 0.2458],  # 105
    [0.7460, 0.2458],  # 334
    [0.1095, 0.4506],  # 234
    [0.8905, 0.4506],  # 454
], np.float32)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (Umeyama, no reflection) mapping src (N,2) to dst (N,2): (2, 3)."""
    ms, md = src.mean(0), dst.mean(0)
    s0, d0 = src - ms, dst - md
    cov = d0.T @ s0 / len(src)
    u, sv, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    r = u @ np.diag(sign) @ vt
    scale = (sv * sign).sum() / max(s0.var(0).sum(), 1e-12)
    m = np.zeros((2, 3))
    m[:, :2] = scale * r
    m[:, 2] = md - scale * r @ ms
    return m


def crop_transform(landmarks: np.ndarray, image_size: tuple[int, int], size: int = 48) -> np.ndarray:
    """(2, 3) affine from image pixels to the size x size crop. landmarks: (478, 2+) normalised."""
    w, h = image_size
    src = np.asarray(landmarks, np.float64)[list(TEMPLATE_IDX), :2] * (w, h)
    return similarity(src, TEMPLATE.astype(np.float64) * size)


def face_crop(image: np.ndarray, landmarks: np.ndarray, size: int = 48) -> np.ndarray:
    """image: HxWx3 RGB or HxW grayscale uint8, the frame the landmarks came from -> size x size
    grayscale uint8 (OpenCV's RGB->gray luma, as FER2013's grayscale photos).

    Only the face's region is converted and, when the face is much larger than the crop,
    area-downsampled first (no aliasing), so the cost does not grow with the frame size."""
    h, w = image.shape[:2]
    m = crop_transform(landmarks, (w, h), size)
    # the crop's corners in the image -> a region of interest (with a margin of 2 crop pixels)
    inv = cv2.invertAffineTransform(m)
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64) @ inv[:, :2].T + inv[:, 2]
    margin = int(2 / max(float(np.hypot(m[0, 0], m[0, 1])), 1e-3)) + 2
    x0, y0 = np.floor(corners.min(0)).astype(int) - margin
    x1, y1 = np.ceil(corners.max(0)).astype(int) + margin
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:  # face (almost) outside the frame
        x0, y0, x1, y1 = 0, 0, w, h
    roi = image[y0:y1, x0:x1]
    gray = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY) if roi.ndim == 3 else roi
    m = m.copy()
    m[:, 2] += m[:, :2] @ np.array([x0, y0], np.float64)  # roi coordinates
    scale = float(np.hypot(m[0, 0], m[0, 1]))
    if scale < 0.5:
        f = scale * 2
        rw, rh = max(1, int(round(gray.shape[1] * f))), max(1, int(round(gray.shape[0] * f)))
        fx, fy = rw / gray.shape[1], rh / gray.shape[0]
        gray = cv2.resize(gray, (rw, rh), interpolation=cv2.INTER_AREA)
        m[:, 0] /= fx
        m[:, 1] /= fy
    return cv2.warpAffine(gray, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
