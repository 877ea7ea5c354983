"""MediaPipe FaceLandmarker -> plain arrays. Nothing outside bridge/tracking/ sees MediaPipe types.

MediaPipe's Python API turns each result into 478 landmark and 52 category objects before we turn
them into arrays (about 1.5 ms a frame on this project's machine, measured in bench/cpu.py); where
its C result struct is reachable (mediapipe 1.2.x), the arrays are read from it in one copy
instead, and the public API is used otherwise. tests/test_face_tracking.py checks both agree.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from ..arkit import N_SHAPES, mediapipe_index_map
from .landmarker import Landmarker, points


@dataclass(slots=True)
class FaceObservation:
    landmarks: np.ndarray  # (478, 3) normalized x, y (image), z
    blendshapes: np.ndarray  # (52,) float32 ARKit order, tongueOut = 0
    matrix: np.ndarray  # (4, 4) canonical face -> camera (right-handed, cm)
    upper_covered: bool = False  # headset mode: the eyes and brows are hidden (tracking/headset.py)


@dataclass(frozen=True, slots=True)
class FaceTrackerSettings:
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    search_every: int = 3  # none found for a while: search one frame in 3 (landmarker.SearchBackoff)


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
        ), still_images, settings.search_every)
        self._index: np.ndarray | None = None
        self._bulk = _BulkReader.attach(self._landmarker, still_images)

    def process(self, rgb, timestamp_ms: int) -> FaceObservation | None:
        """Track one RGB uint8 image (array or shared `mp_image`); timestamps must increase."""
        if self.backoff is None:
            return self._track(rgb, timestamp_ms)
        if not self.backoff.search():
            return None
        obs = self._track(rgb, timestamp_ms)
        self.backoff.found(obs is not None)
        return obs

    def _track(self, rgb, timestamp_ms: int) -> FaceObservation | None:
        if self._bulk is not None:
            return self._bulk.read(self, rgb, timestamp_ms)
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


class _BulkReader:
    """Calls the landmarker's C detect function as MediaPipe's own wrapper does (same dispatcher, same
    error checks) and copies landmarks and scores out of the C structs with NumPy."""

    def __init__(self, landmarker, vision_mod, still_images: bool):
        from mediapipe.tasks.python.components.containers import category_c, landmark_c
        self._lm = landmarker
        self._result_type = vision_mod.MpFaceLandmarkerResultC
        self._detect = (landmarker._lib.MpFaceLandmarkerDetectImage if still_images
                        else landmarker._lib.MpFaceLandmarkerDetectForVideo)
        self._close = landmarker._lib.MpFaceLandmarkerCloseResult
        self._still = still_images
        lmc, cat = landmark_c.MpNormalizedLandmarkC, category_c.MpCategoryC
        self._lm_size, self._lm_xyz = ctypes.sizeof(lmc), lmc.x.offset // 4
        self._cat_size, self._cat_score = ctypes.sizeof(cat), cat.score.offset // 4

    @classmethod
    def attach(cls, landmarker, still_images: bool) -> _BulkReader | None:
        try:
            from mediapipe.tasks.python.vision import face_landmarker as vision_mod
            return cls(landmarker, vision_mod, still_images)
        except (ImportError, AttributeError):
            return None  # another MediaPipe layout: the public API it is

    def _floats(self, ptr, count: int, size: int) -> np.ndarray:
        return np.frombuffer(ctypes.string_at(ptr, count * size), np.float32).reshape(count, size // 4)

    def read(self, tracker: FaceTracker, image, timestamp_ms: int) -> FaceObservation | None:
        from .landmarker import mp_image
        ts = tracker._timestamp(timestamp_ms)
        image = mp_image(image) if isinstance(image, np.ndarray) else image
        res = self._result_type()
        args = (self._lm._handle, image._image_ptr, None) + (() if self._still else (ts,)) + (ctypes.byref(res),)
        self._detect(*args)
        try:
            if res.face_landmarks_count == 0:
                return None
            lms = res.face_landmarks[0]
            xyz = self._floats(lms.landmarks, lms.landmarks_count, self._lm_size)[:, self._lm_xyz:self._lm_xyz + 3]
            cats = res.face_blendshapes[0]
            if tracker._index is None:
                tracker._index = mediapipe_index_map([cats.categories[j].category_name.decode()
                                                      for j in range(cats.categories_count)])
            scores = self._floats(cats.categories, cats.categories_count, self._cat_size)[:, self._cat_score]
            matrix = res.facial_transformation_matrixes[0].to_numpy().astype(np.float64)
        finally:
            self._close(ctypes.byref(res))
        blend = np.zeros(N_SHAPES, np.float32)
        have = tracker._index >= 0
        blend[have] = scores[tracker._index[have]]
        return FaceObservation(np.ascontiguousarray(xyz), blend, matrix)
