"""MediaPipe's 478 face landmarks -> the aligned 150x150 chip dlib's face descriptor expects (no second
detector, no dlib shape predictor).

dlib aligns with its 5-point model (`get_face_chip_details`, dlib/image_transforms/interpolation.h):
both corners of each eye and the point under the nose are mapped onto fixed chip positions by a
similarity transform; `compute_face_descriptor` uses a 150 px chip with padding 0.25. The same five
points are read from MediaPipe's mesh here and mapped the same way.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..classify.face_crop import similarity

CHIP_SIZE = 150
PADDING = 0.25
# MediaPipe mesh indices in dlib's 5-point order: image-right eye outer and inner corner (the subject's
# left eye in an unmirrored image), image-left eye outer and inner corner, under the nose (subnasale).
FIVE_POINT_IDX = (263, 362, 33, 133, 2)
# dlib's 5-point chip positions (fractions of the unpadded chip), from get_face_chip_details
_DLIB_FIVE = np.array([
    [0.8595674595992, 0.2134981538014],
    [0.6460604764104, 0.2289674387677],
    [0.1205750620789, 0.2137274526848],
    [0.3340850613712, 0.2290642403242],
    [0.4901123135679, 0.6277975316475],
])
TEMPLATE = (PADDING + _DLIB_FIVE) / (2 * PADDING + 1) * CHIP_SIZE  # chip pixels


def chip_transform(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(2, 3) affine from image pixels to the chip. landmarks: (478, 2+) normalised to the image."""
    w, h = image_size
    src = np.asarray(landmarks, np.float64)[list(FIVE_POINT_IDX), :2] * (w, h)
    return similarity(src, TEMPLATE)


def face_chip(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """rgb: HxWx3 uint8, the frame the landmarks came from -> 150x150x3 uint8 aligned chip.

    Only the chip's region of the frame is read; a face much larger than the chip is area-downsampled
    first, so the chip does not alias and the cost does not grow with the frame size."""
    h, w = rgb.shape[:2]
    m = chip_transform(landmarks, (w, h))
    inv = cv2.invertAffineTransform(m)
    corners = np.array([[0, 0], [CHIP_SIZE, 0], [0, CHIP_SIZE], [CHIP_SIZE, CHIP_SIZE]], np.float64)
    corners = corners @ inv[:, :2].T + inv[:, 2]
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 2, (w, h))
    if x1 - x0 < 2 or y1 - y0 < 2:  # the face is (almost) outside the frame
        x0, y0, x1, y1 = 0, 0, w, h
    roi = rgb[y0:y1, x0:x1]
    m = m.copy()
    m[:, 2] += m[:, :2] @ np.array([x0, y0], np.float64)
    scale = float(np.hypot(m[0, 0], m[0, 1]))
    if scale < 0.5:
        rw, rh = max(1, round(roi.shape[1] * scale * 2)), max(1, round(roi.shape[0] * scale * 2))
        fx, fy = rw / roi.shape[1], rh / roi.shape[0]
        roi = cv2.resize(roi, (rw, rh), interpolation=cv2.INTER_AREA)
        m[:, 0] /= fx
        m[:, 1] /= fy
    return cv2.warpAffine(roi, m, (CHIP_SIZE, CHIP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
