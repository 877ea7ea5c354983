"""What every MediaPipe landmarker wrapper shares: loading a checked model quietly, running it in
VIDEO or IMAGE mode with increasing timestamps, and closing it."""
from __future__ import annotations

import os

import numpy as np

from ..errors import ModelError
from ..models import load_model
from .native_logs import quiet_native_logs

os.environ.setdefault("GLOG_minloglevel", "2")


class Landmarker:
    """Subclasses pass the Tasks class and its options (minus base options and running mode).

    VIDEO mode tracks across frames; IMAGE mode treats each picture on its own (unrelated still
    images must use it, or VIDEO mode would try to track the previous picture's subject).
    """

    def __init__(self, model_name: str, task_class_name: str, options_class_name: str, options: dict,
                 still_images: bool, rebuild_hint: str):
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp = mp
        self.still_images = still_images
        self._landmarker = None
        self._last_ts = 0
        model = load_model(model_name)
        opts = getattr(vision, options_class_name)(
            base_options=BaseOptions(model_asset_buffer=model.path.read_bytes()),
            running_mode=vision.RunningMode.IMAGE if still_images else vision.RunningMode.VIDEO, **options)
        try:
            with quiet_native_logs():
                self._landmarker = getattr(vision, task_class_name).create_from_options(opts)
                self._run(np.zeros((64, 64, 3), np.uint8), 0)  # the first inference prints notices too
        except (RuntimeError, ValueError) as e:
            raise ModelError(f"MediaPipe could not load {model.path.name} ({e}); rebuild it with `{rebuild_hint}`") from None

    def _run(self, rgb: np.ndarray, timestamp_ms: int):
        """The raw MediaPipe result for one RGB uint8 image; timestamps are bumped to keep increasing."""
        ts = max(int(timestamp_ms), self._last_ts + 1)
        self._last_ts = ts
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self.still_images:
            return self._landmarker.detect(image)
        return self._landmarker.detect_for_video(image, ts)

    def close(self) -> None:
        if self._landmarker is not None:
            with quiet_native_logs():
                self._landmarker.close()
            self._landmarker = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def points(landmarks) -> np.ndarray:
    """MediaPipe landmark list -> (N, 3) float64 array."""
    return np.array([(p.x, p.y, p.z) for p in landmarks], dtype=np.float64)
