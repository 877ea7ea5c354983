"""MediaPipe FaceLandmarker -> plain arrays. Nothing outside bridge/tracking/ sees MediaPipe types."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arkit import N_SHAPES, mediapipe_index_map
from .landmarker import Landmarker, points


@dataclass(slots=True)
class FaceObservation:
    landmarks: np.ndarray  # (478, 3) normalized x, y (image), z
    blendshapes: np.ndarray  # (52,) float32 ARKit order, tongueOut = 0
    matrix: np.ndarray  # (4, 4) canonical face -> camera (right-handed, cm)


@dataclass(frozen=True, slots=True)
class FaceTrackerSettings:
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


class FaceTracker(Landmarker):
    """FaceLandmarker, one face, with blendshapes and the facial transformation matrix."""

    def __init__(self, settings: FaceTrackerSettings = FaceTrackerSettings(), still_images: bool = False):
        super().__init__("face_landmarker", "FaceLandmarker", "FaceLandmarkerOptions", dict(
            num_faces=1,
            min_face_detection_confidence=settings.min_detection_confidence,
            min_face_presence_confidence=settings.min_presence_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        ), still_images)
        self._index: np.ndarray | None = None

    def process(self, rgb: np.ndarray, timestamp_ms: int) -> FaceObservation | None:
        result = self._run(rgb, timestamp_ms)
        if not result.face_landmarks:
            return None
        cats = result.face_blendshapes[0]
        if self._index is None:
            self._index = mediapipe_index_map([c.category_name for c in cats])
        scores = np.fromiter((c.score for c in cats), dtype=np.float32, count=len(cats))
        blend = np.zeros(N_SHAPES, np.float32)
        have = self._index >= 0
        blend[have] = scores[self._index[have]]
        return FaceObservation(points(result.face_landmarks[0]).astype(np.float32), blend,
                               np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64))
