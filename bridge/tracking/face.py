"""MediaPipe FaceLandmarker -> plain arrays. Nothing outside bridge/tracking/ sees MediaPipe types."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..arkit import N_SHAPES, mediapipe_index_map
from ..errors import ModelError
from ..models import load_model
from .native_logs import quiet_native_logs

os.environ.setdefault("GLOG_minloglevel", "2")


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


class FaceTracker:
    """Synchronous VIDEO mode (tracks across frames) or IMAGE mode (each picture on its own).

    Synchronous calls let the pipeline own threading and timing. Unrelated still images must
    use IMAGE mode: VIDEO mode would try to track the previous picture's face into the next.
    """

    def __init__(self, settings: FaceTrackerSettings = FaceTrackerSettings(), still_images: bool = False):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        model = load_model("face_landmarker")
        opts = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=model.path.read_bytes()),
            running_mode=vision.RunningMode.IMAGE if still_images else vision.RunningMode.VIDEO,
            num_faces=1,
            min_face_detection_confidence=settings.min_detection_confidence,
            min_face_presence_confidence=settings.min_presence_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            with quiet_native_logs():
                self._landmarker = vision.FaceLandmarker.create_from_options(opts)
                # The first inference prints more notices: run it now on a blank image.
                blank = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8))
                if still_images:
                    self._landmarker.detect(blank)
                else:
                    self._landmarker.detect_for_video(blank, 0)
        except (RuntimeError, ValueError) as e:
            raise ModelError(f"MediaPipe could not load {model.path.name} ({e}); rebuild it with "
                             "`python models/build_face_landmarker.py`") from None
        self.still_images = still_images
        self._index: np.ndarray | None = None
        self._last_ts = 0

    def process(self, rgb: np.ndarray, timestamp_ms: int) -> FaceObservation | None:
        """Track one RGB uint8 image; timestamps must increase (older ones are bumped forward)."""
        ts = max(int(timestamp_ms), self._last_ts + 1)
        self._last_ts = ts
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self.still_images:
            result = self._landmarker.detect(image)
        else:
            result = self._landmarker.detect_for_video(image, ts)
        if not result.face_landmarks:
            return None
        cats = result.face_blendshapes[0]
        if self._index is None:
            self._index = mediapipe_index_map([c.category_name for c in cats])
        scores = np.fromiter((c.score for c in cats), dtype=np.float32, count=len(cats))
        blend = np.zeros(N_SHAPES, np.float32)
        have = self._index >= 0
        blend[have] = scores[self._index[have]]
        lms = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], dtype=np.float32)
        return FaceObservation(lms, blend, np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64))

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> "FaceTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
