"""Downscaled camera preview for the dashboard, encoded off the per-frame path.

The pipeline offers a frame at most `max_hz` times a second and only while some client wants a
preview; a one-slot mailbox hands it to this thread (a newer offer replaces an older one), which
resizes, JPEG-encodes and publishes it with every tracked person's id, slot, name, box and face,
pose and hand landmarks found in that frame, so the camera view shows exactly what each tracker saw
and who it took each person for. The message's top-level landmarks are the first person's, for a
client that reads one person only.
"""
from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from .frame import Person
from .protocols.jsonframe import preview_message
from .tracking.combined import Observations

View = tuple[Person, Observations]  # one person and the tracker output that is theirs
_NOBODY = {"landmarks": [], "pose": [], "pose_visibility": [], "hands": []}  # the top level with nobody in view


def _xy(landmarks: np.ndarray | None) -> list[float]:
    """Flat x, y pairs in 0..1 image coordinates, rounded: the dashboard needs no more than 3 decimals.
    Rounded in float64: a rounded float32 prints as 0.5230000019073486, three times the text."""
    return [] if landmarks is None else np.round(landmarks[:, :2].ravel().astype(np.float64), 3).tolist()


def _seen(obs: Observations) -> dict:
    """The landmarks of one person's observations, as the preview message carries them."""
    pose = obs.pose
    return {"landmarks": _xy(None if obs.face is None else obs.face.landmarks),
            "pose": _xy(None if pose is None else pose.landmarks),
            "pose_visibility": [] if pose is None else np.round(pose.visibility, 2).tolist(),
            "hands": [{"side": hand.side, "landmarks": _xy(hand.landmarks)} for hand in obs.hands]}


def _person(person: Person, obs: Observations) -> dict:
    return {"id": person.id, "slot": person.slot, "name": person.name,
            "similarity": None if person.similarity != person.similarity else round(float(person.similarity), 3),
            "box": None if person.box is None else np.round(person.box, 4).tolist(), **_seen(obs)}


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

    def offer(self, seq: int, rgb: np.ndarray, views: list[View]) -> None:
        """`views`: every tracked person of `rgb` in slot order (possibly none), each with the face (478),
        pose (33 BlazePose points) and hand (21 each) landmarks the trackers gave them. Only references
        are kept: the message is built on this encoder's thread."""
        now = time.monotonic()
        if now - self._last_offer < self.period:
            return
        self._last_offer = now
        with self._cond:
            self._slot = (seq, rgb, views)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                seq, rgb, views = self._slot
                self._slot = None
            h, w = rgb.shape[:2]
            scale = self.width / w
            small = cv2.resize(rgb, (self.width, max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, self.quality])
            if not ok:
                continue
            people = [_person(person, obs) for person, obs in views]
            first = {k: people[0][k] for k in _NOBODY} if people else _NOBODY
            self.publish(preview_message(seq, base64.b64encode(jpeg.tobytes()).decode(), small.shape[1],
                                         small.shape[0], **first, people=people))

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=2)
