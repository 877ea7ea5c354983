"""Face identity off the frame path: a descriptor costs about 130 ms of CPU, a frame has 33.

The pipeline offers each tracked person's face when a look is due: about once a second per person,
but three times as often for a newcomer's first looks, so that a name settles within about a second
(the recogniser's `k` votes) rather than three; the aligned chip is cut on the pipeline's thread (a fraction of a millisecond)
and one thread computes the descriptors and updates the labels, which the pipeline reads every
frame. A full queue drops the offer: the next frame offers again.
"""
from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

import numpy as np

from ..config import TrackingSettings
from ..errors import ConfigError, ModelError
from .align import face_chip
from .recognise import Identity, Recogniser, Templates
from .store import default_store_path, read_store, templates_of

log = logging.getLogger("avatar_bridge.identity")


class IdentityWorker:
    def __init__(self, recogniser: Recogniser, embed_chip, people: int):
        self.recogniser = recogniser
        self._embed_chip = embed_chip
        self._asked: dict[int, tuple[float, int]] = {}  # person id -> (when the last look was offered, looks)
        self._labels: dict[int, Identity] = {}
        self._queue: queue.Queue = queue.Queue(maxsize=people)
        self._thread = threading.Thread(target=self._run, name="identity", daemon=True)
        self._thread.start()

    def offer(self, person_id: int, t: float, rgb: np.ndarray, face_landmarks: np.ndarray) -> None:
        s = self.recogniser.settings
        last, looks = self._asked.get(person_id, (None, 0))
        interval = s.interval_s if looks >= s.k else s.interval_s / 3
        if last is not None and 0 <= t - last < interval:
            return
        try:
            self._queue.put_nowait((person_id, face_chip(rgb, face_landmarks)))
        except queue.Full:
            return
        self._asked[person_id] = (t, looks + 1)

    def label(self, person_id: int) -> Identity:
        return self._labels.get(person_id) or self.recogniser.identity(person_id)

    def forget(self, person_id: int) -> None:
        """The person left for good: their id is never reused, so only memory is at stake."""
        self._asked.pop(person_id, None)
        self._labels.pop(person_id, None)
        self.recogniser.forget(person_id)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            person_id, chip = item
            try:
                self._labels[person_id] = self.recogniser.update(person_id, self._embed_chip(chip))
            except Exception as e:  # noqa: BLE001 - a failed look leaves the label as it was
                log.warning("face identity: a descriptor failed (%s); the label stays as it was", e)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)


def start(settings: TrackingSettings) -> IdentityWorker | None:
    """The worker `[tracking] identify` asks for, or None; `auto` starts it only when someone is
    enrolled and the model can run, and says why not in one line when enrolled people are ignored."""
    if settings.identify == "off":
        return None
    path = Path(settings.people_file).expanduser() if settings.people_file else default_store_path()
    people = read_store(path)
    if not people:
        if settings.identify == "on":
            raise ConfigError(f"[tracking] identify = \"on\", but nobody is enrolled in {path}: "
                              "run `avatar-bridge enroll NAME` first")
        return None
    try:
        from .embedder import FaceEmbedder
        embedder = FaceEmbedder()
    except ModelError as e:
        if settings.identify == "on":
            raise
        log.warning("%d enrolled people ignored: %s", len(people), e)
        return None
    log.info("face identity: %d enrolled (%s), from %s", len(people), ", ".join(sorted(people)), path)
    return IdentityWorker(Recogniser(Templates.from_people(templates_of(people))), embedder.embed_chip,
                          settings.people)
