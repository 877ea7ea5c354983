"""Every face in a frame, for enrolment: it must see that a frame holds more than one face (and refuse
it), which the one-face FaceTracker cannot tell.

The landmarker's face detector is short-range: it misses faces smaller than about a tenth of the
frame (four of the five people in face/multi_face.jpg). So the frame is also searched in a 3x3 grid
of overlapping tiles, each tile's faces mapped back to the frame and merged with those found whole.
About ten detections a frame: fine for the few frames an enrolment looks at, not for a live run.
"""
from __future__ import annotations

import numpy as np

from .landmarker import Landmarker, points

GRID = 3  # tiles per side; a tile is 2/(GRID+1) of the frame's longer side


class EnrolFaceFinder(Landmarker):
    """FaceLandmarker in IMAGE mode (each frame on its own), two faces a search, landmarks only."""

    def __init__(self, min_confidence: float = 0.5):
        super().__init__("face_landmarker", "FaceLandmarker", "FaceLandmarkerOptions", dict(
            num_faces=2, min_face_detection_confidence=min_confidence,
            min_face_presence_confidence=min_confidence, min_tracking_confidence=min_confidence,
        ), still_images=True)

    def _search(self, rgb: np.ndarray) -> list[np.ndarray]:
        return [points(f).astype(np.float32) for f in self._run(np.ascontiguousarray(rgb), 0).face_landmarks]

    def faces(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Each face found: (478, 3) float32 landmarks normalised to the whole frame; [] when none."""
        h, w = rgb.shape[:2]
        found = self._search(rgb)
        size = min(int(2 * max(w, h) / (GRID + 1)), w, h)
        for x0 in np.linspace(0, w - size, GRID).astype(int):
            for y0 in np.linspace(0, h - size, GRID).astype(int):
                for lm in self._search(rgb[y0:y0 + size, x0:x0 + size]):
                    lm[:, 0] = (lm[:, 0] * size + x0) / w
                    lm[:, 1] = (lm[:, 1] * size + y0) / h
                    lm[:, 2] *= size / w
                    if not any(_same_face(lm, f, (w, h)) for f in found):
                        found.append(lm)
        return found


def _same_face(a: np.ndarray, b: np.ndarray, size: tuple[int, int]) -> bool:
    """Centres closer than half the larger face's width (pixels)."""
    pa, pb = a[:, :2] * size, b[:, :2] * size
    width = max(np.ptp(pa[:, 0]), np.ptp(pb[:, 0]))
    return float(np.linalg.norm(pa.mean(0) - pb.mean(0))) < 0.5 * width
