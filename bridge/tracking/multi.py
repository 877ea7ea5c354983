"""Face, pose and hand landmarkers for several people at once -> every person's arrays.

The single-person trackers (face.py, pose.py) keep `num_faces=1`/`num_poses=1` and read result 0;
these run the same models with `num_faces=N`, `num_poses=N` and `num_hands=2N` and return every
result, in MediaPipe's order (which changes between frames: bridge/tracking/people.py decides who is
who). Results are read through MediaPipe's public API: the face tracker's C-struct fast path reads
one face only. As in combined.py, pose and hands run on a 2-thread pool while the face runs on the
calling thread, all from one MediaPipe image, and hands are skipped while no pose wrist and no last
hand is in view.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..arkit import N_SHAPES, mediapipe_index_map
from ..errors import ConfigError, ModelError
from .face import FaceObservation, FaceTrackerSettings
from .hands import HandObservation, HandTracker, HandTrackerSettings, hands_in_view
from .landmarker import Landmarker, mp_image, points
from .pose import MODEL_VARIANTS, PoseObservation, PoseTrackerSettings

MAX_PEOPLE = 4  # `--people` 1..4


def check_people(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_PEOPLE:
        raise ConfigError(f"people = {n!r}: must be an integer from 1 to {MAX_PEOPLE}")
    return n


class MultiFaceTracker(Landmarker):
    """FaceLandmarker with `num_faces=n`, blendshapes and transformation matrices."""

    def __init__(self, n: int, settings: FaceTrackerSettings = FaceTrackerSettings(), still_images: bool = False):
        super().__init__("face_landmarker", "FaceLandmarker", "FaceLandmarkerOptions", dict(
            num_faces=check_people(n),
            min_face_detection_confidence=settings.min_detection_confidence,
            min_face_presence_confidence=settings.min_presence_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        ), still_images)
        self._index: np.ndarray | None = None

    def process(self, rgb, timestamp_ms: int) -> list[FaceObservation]:
        """Every face in one RGB uint8 image (array or shared `mp_image`); timestamps must increase."""
        result = self._run(rgb, timestamp_ms)
        faces = []
        for lms, cats, matrix in zip(result.face_landmarks, result.face_blendshapes,
                                     result.facial_transformation_matrixes):
            if self._index is None:
                self._index = mediapipe_index_map([c.category_name for c in cats])
            scores = np.fromiter((c.score for c in cats), dtype=np.float32, count=len(cats))
            blend = np.zeros(N_SHAPES, np.float32)
            have = self._index >= 0
            blend[have] = scores[self._index[have]]
            faces.append(FaceObservation(points(lms).astype(np.float32), blend, np.asarray(matrix, np.float64)))
        return faces


class MultiPoseTracker(Landmarker):
    """PoseLandmarker (lite or full) with `num_poses=n` and world landmarks."""

    def __init__(self, n: int, settings: PoseTrackerSettings = PoseTrackerSettings(), still_images: bool = False):
        if settings.model not in MODEL_VARIANTS:
            raise ModelError(f"pose model {settings.model!r} is not one of {', '.join(MODEL_VARIANTS)}")
        super().__init__(f"pose_landmarker_{settings.model}", "PoseLandmarker", "PoseLandmarkerOptions", dict(
            num_poses=check_people(n),
            min_pose_detection_confidence=settings.min_detection_confidence,
            min_pose_presence_confidence=settings.min_presence_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
            output_segmentation_masks=False,
        ), still_images)

    def process(self, rgb, timestamp_ms: int) -> list[PoseObservation]:
        """Every body in one RGB uint8 image (array or shared `mp_image`); timestamps must increase."""
        result = self._run(rgb, timestamp_ms)
        poses = []
        for lm, world in zip(result.pose_landmarks, result.pose_world_landmarks):
            vis = np.array([p.visibility if p.visibility is not None else 0.0 for p in lm], dtype=np.float64)
            pres = np.array([p.presence if p.presence is not None else 0.0 for p in lm], dtype=np.float64)
            poses.append(PoseObservation(points(lm), points(world), vis, pres))
        return poses


@dataclass(slots=True)
class MultiObservations:
    """One frame's detections, in MediaPipe's order (not who is who: see tracking/people.py)."""
    faces: list[FaceObservation] = field(default_factory=list)
    poses: list[PoseObservation] = field(default_factory=list)
    hands: list[HandObservation] = field(default_factory=list)
    hands_ran: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MultiTrackerSettings:
    people: int = 2
    face: bool = True
    pose: bool = True
    hands: bool = True
    pose_model: str = "full"
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    skip_hands_out_of_view: bool = True  # no hand inference while no pose wrist and no last hand is in view


class MultiTrackers:
    """The three landmarkers for up to `settings.people` people, run together on each frame."""

    def __init__(self, settings: MultiTrackerSettings = MultiTrackerSettings(), still_images: bool = False):
        n = check_people(settings.people)
        det, trk = settings.min_detection_confidence, settings.min_tracking_confidence
        self.settings = settings
        self.face = self.pose = self.hands = None
        self._last_poses: list[PoseObservation] = []
        self._last_hands: list[HandObservation] = []
        self._pool: ThreadPoolExecutor | None = None
        try:
            if settings.face:
                self.face = MultiFaceTracker(n, FaceTrackerSettings(det, det, trk), still_images)
            if settings.pose:
                self.pose = MultiPoseTracker(n, PoseTrackerSettings(settings.pose_model, det, det, trk), still_images)
            if settings.hands:
                self.hands = HandTracker(HandTrackerSettings(2 * n, det, det, trk), still_images)
        except BaseException:
            self.close()
            raise
        if self.pose is not None or self.hands is not None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="landmarker")

    def _want_hands(self) -> bool:
        if self.hands is None:
            return False
        if not (self.settings.skip_hands_out_of_view and self.pose is not None and self._last_poses):
            return True
        return any(p.any_hand_in_view() for p in self._last_poses) or hands_in_view(self._last_hands)

    @staticmethod
    def _timed(fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        return out, (time.perf_counter() - t0) * 1000

    def process(self, rgb: np.ndarray, timestamp_ms: int) -> MultiObservations:
        image = mp_image(rgb)
        fp = self._pool.submit(self._timed, self.pose.process, image, timestamp_ms) if self.pose is not None else None
        run_hands = self._want_hands()
        fh = self._pool.submit(self._timed, self.hands.process, image, timestamp_ms) if run_hands else None
        obs = MultiObservations(hands_ran=run_hands)
        if self.face is not None:
            obs.faces, obs.timings_ms["face"] = self._timed(self.face.process, image, timestamp_ms)
        if fp is not None:
            obs.poses, obs.timings_ms["pose"] = fp.result()
            self._last_poses = obs.poses
        if fh is not None:
            obs.hands, obs.timings_ms["hands"] = fh.result()
            self._last_hands = obs.hands
        return obs

    def forget(self) -> None:
        """Before a new video (see Landmarker.forget)."""
        for t in (self.face, self.pose, self.hands):
            if t is not None:
                t.forget()
        self._last_poses, self._last_hands = [], []

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for t in (self.face, self.pose, self.hands):
            if t is not None:
                t.close()
        self.face = self.pose = self.hands = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
