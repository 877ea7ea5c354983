"""Downscaled camera preview for the dashboard, encoded off the per-frame path.

The pipeline offers a frame at most `max_hz` times a second and only while some client wants a
preview; a one-slot mailbox hands it to this thread (a newer offer replaces an older one), which
resizes, JPEG-encodes and publishes it with the face, pose and hand landmarks found in that frame,
so the camera view shows exactly what each tracker saw.
"""
from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from .protocols.jsonframe import preview_message
from .tracking.combined import Observations


def _xy(landmarks: np.ndarray | None) -> list[float]:
    """Flat x, y pairs in 0..1 image coordinates, rounded: the dashboard needs no more than 3 decimals."""
    return [] if landmarks is None else np.round(landmarks[:, :2].ravel(), 3).tolist()


class PreviewEncoder:
    def __init__(self, publish: Callable[[str], None], width: int = 320, max_hz: float = 5.0, quality: int = 70):
        self.publish = publish
        self.width = width
        self.period = 1.0 / max_hz
        self.quality = quality
        self._slot: tuple | None = None
        self._cond = threading.Condition()
        self._last_offer = 0.0
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="preview", daemon=True)
        self._thread.start()

    def offer(self, seq: int, rgb: np.ndarray, obs: Observations) -> None:
        """`obs` holds the face (478), pose (33 BlazePose points) and hand (21 each) landmarks of `rgb`."""
        now = time.monotonic()
        if now - self._last_offer < self.period:
            return
        self._last_offer = now
        with self._cond:
            self._slot = (seq, rgb, obs)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                seq, rgb, obs = self._slot
                self._slot = None
            h, w = rgb.shape[:2]
            scale = self.width / w
            small = cv2.resize(rgb, (self.width, max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, self.quality])
            if not ok:
                continue
            pose = obs.pose
            self.publish(preview_message(
                seq, base64.b64encode(jpeg.tobytes()).decode(), small.shape[1], small.shape[0],
                _xy(None if obs.face is None else obs.face.landmarks), _xy(None if pose is None else pose.landmarks),
                [] if pose is None else np.round(pose.visibility, 2).tolist(),
                [{"side": hand.side, "landmarks": _xy(hand.landmarks)} for hand in obs.hands]))

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=2)
