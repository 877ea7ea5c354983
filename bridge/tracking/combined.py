"""Face, pose and hand landmarkers run together on each frame.

MediaPipe releases the GIL while it infers, so pose and hands run on a small thread pool while
the face runs on the calling thread. Hand inference is skipped while neither the pose's wrists nor
the last hands are in view: it cannot change the result, and costs as much as the pose. All
three read one MediaPipe image per frame (wrapping an array copies it). With `[source] budget =
"low"` pose and hands run on alternate frames (pose on even, hands on odd ones, so one body
landmarker overlaps the face each frame) and the frame between holds the last result: the body
and hand filters smooth over it.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..config import Config
from .face import FaceObservation, FaceTracker, FaceTrackerSettings
from .headset import HeadsetDetector, HeadsetSettings
from .landmarker import mp_image
from .lower_face import SHAPES as LOWER_FACE_SHAPES
from .lower_face import LowerFace


@dataclass(slots=True)
class Observations:
    face: FaceObservation | None
    pose: object | None = None  # tracking.pose.PoseObservation
    hands: list = field(default_factory=list)  # tracking.hands.HandObservation
    hands_ran: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)

    def box(self, min_visibility: float = 0.5) -> np.ndarray | None:
        """(x0, y0, x1, y1), normalized, around everything tracked of the person: face, the pose
        points likely visible, hands; None when nothing is."""
        pts = [self.face.landmarks[:, :2]] if self.face is not None else []
        if self.pose is not None:
            pts.append(self.pose.landmarks[self.pose.visibility >= min_visibility, :2])
        pts += [hand.landmarks[:, :2] for hand in self.hands]
        pts = [p for p in pts if len(p)]
        if not pts:
            return None
        p = np.concatenate(pts)
        return np.r_[p.min(0), p.max(0)].astype(np.float64)


class Trackers:
    def __init__(self, cfg: Config, still_images: bool, face: FaceTracker | None = None):
        self.face = None
        self.headset: HeadsetDetector | None = None
        self.lower_face: LowerFace | None = None  # headset mode: mouth, jaw and cheeks while the eyes are covered
        self.pose = None
        self.hands = None
        self.rescuer = None  # tracking.hands.HandRescuer: crops around pose wrists whose hand was missed
        self._pool: ThreadPoolExecutor | None = None
        self.skip_hands = cfg.hands.skip_when_out_of_view and cfg.pose.enabled
        self._last_pose = None
        self._last_hands: list = []
        self._own_face = face is None
        self.alternate = cfg.source.budget == "low" and not still_images  # unrelated pictures hold nothing
        self._frame = 0
        try:
            if cfg.face.enabled:
                f = cfg.face
                low = HeadsetSettings().min_confidence  # headset mode: see tracking/headset.py
                conf = ((f.min_detection_confidence, f.min_detection_confidence, f.min_tracking_confidence)
                        if f.headset == "off" else (low, low, low))
                self.face = face or FaceTracker(FaceTrackerSettings(*conf), still_images=still_images)
                if f.headset != "off":
                    self.headset, self.lower_face = HeadsetDetector(f.headset), LowerFace()
            if cfg.pose.enabled:
                from .pose import PoseTracker, PoseTrackerSettings
                p = cfg.pose
                self.pose = PoseTracker(PoseTrackerSettings(p.model, p.min_detection_confidence, p.min_detection_confidence,
                                                            p.min_tracking_confidence), still_images=still_images)
            if cfg.hands.enabled:
                from .hands import HandTracker, HandTrackerSettings
                h = cfg.hands
                self.hands = HandTracker(HandTrackerSettings(h.num_hands, h.min_detection_confidence,
                                                             h.min_detection_confidence, h.min_tracking_confidence),
                                         still_images=still_images)
                if h.rescue and cfg.pose.enabled:
                    from .hands import HandRescuer
                    self.rescuer = HandRescuer(backoff=not still_images)
        except BaseException:
            self.close()
            raise
        if self.pose is not None or self.hands is not None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="landmarker")

    def _want_hands(self) -> bool:
        if self.hands is None:
            return False
        if not self.skip_hands or self._last_pose is None:
            return True
        from .hands import hands_in_view
        return self._last_pose.any_hand_in_view() or hands_in_view(self._last_hands)

    @staticmethod
    def _timed(fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        return out, (time.perf_counter() - t0) * 1000

    def process(self, rgb: np.ndarray, timestamp_ms: int) -> Observations:
        image = mp_image(rgb)
        even = self._frame % 2 == 0
        self._frame += 1
        run_pose = self.pose is not None and (not self.alternate or even)
        fp = self._pool.submit(self._timed, self.pose.process, image, timestamp_ms) if run_pose else None
        run_hands = self._want_hands() and (not self.alternate or not even)
        fh = self._pool.submit(self._timed, self.hands.process, image, timestamp_ms) if run_hands else None
        obs = Observations(None, hands_ran=run_hands)
        if self.face is not None:
            obs.face, obs.timings_ms["face"] = self._timed(self.face.process, image, timestamp_ms)
            if self.headset is not None:
                covered = self.headset.update(rgb, None if obs.face is None else obs.face.landmarks)
                if obs.face is not None:
                    obs.face.upper_covered = covered
                    if covered and self.lower_face is not None:  # MediaPipe's own are dragged by the covered eyes
                        h, w = rgb.shape[:2]
                        f = obs.face
                        f.blendshapes[LOWER_FACE_SHAPES] = self.lower_face(f.landmarks, f.blendshapes, w, h)
        if fp is not None:
            obs.pose, obs.timings_ms["pose"] = fp.result()
            self._last_pose = obs.pose
        elif self.alternate:
            obs.pose = self._last_pose
        if fh is not None:
            obs.hands, obs.timings_ms["hands"] = fh.result()
            missing = self.rescuer.missing(obs.pose, obs.hands, rgb.shape[1::-1]) if self.rescuer else None
            if missing:
                extra, obs.timings_ms["hand_rescue"] = self._timed(self.rescuer.rescue, rgb, obs.pose, obs.hands, missing)
                obs.hands = obs.hands + extra
            self._last_hands = obs.hands
        elif self.alternate and self._want_hands():
            obs.hands = self._last_hands  # held for the frame between; out of view stays empty
        return obs

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for t, own in ((self.face, self._own_face), (self.pose, True), (self.hands, True), (self.rescuer, True)):
            if t is not None and own:
                t.close()
