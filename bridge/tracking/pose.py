"""MediaPipe PoseLandmarker -> plain arrays. Nothing outside bridge/tracking/ sees MediaPipe types.

Landmark indices are BlazePose's 33, named in bridge/landmarks.py (POSE_NAMES). "Left" is the person's
own left (it appears on the image's right in an unmirrored camera image).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..landmarks import POSE
from .landmarker import Landmarker, points

MODEL_VARIANTS = ("lite", "full")  # both ship in the package; nothing is downloaded


@dataclass(slots=True)
class PoseObservation:
    landmarks: np.ndarray  # (33, 3) normalized x, y in [0, 1] of the image (x right, y down), z relative depth
    world: np.ndarray  # (33, 3) metres, origin between the hips; x image right, y down, z away from the camera
    visibility: np.ndarray  # (33,) 0..1: likely visible (in frame and not occluded)
    presence: np.ndarray  # (33,) 0..1: likely inside the image

    def hand_in_view(self, side: str, min_visibility: float = 0.3, min_presence: float = 0.25,
                     margin: float = 0.1) -> bool:
        """Whether any of the person's `side` ('left'/'right') hand landmarks (wrist, pinky, index, thumb)
        is inside the image (with a margin) and visible or likely present: when neither hand is, hand
        inference cannot find a hand the pose knows about and the pipeline may skip it."""
        idx = [POSE[f"{side}_{n}"] for n in ("wrist", "pinky", "index", "thumb")]
        xy = self.landmarks[idx, :2]
        inside = np.all((xy >= -margin) & (xy <= 1 + margin), axis=1)
        likely = (self.visibility[idx] >= min_visibility) | (self.presence[idx] >= min_presence)
        return bool(np.any(inside & likely))

    def any_hand_in_view(self, min_visibility: float = 0.3, min_presence: float = 0.25, margin: float = 0.1) -> bool:
        return (self.hand_in_view("left", min_visibility, min_presence, margin)
                or self.hand_in_view("right", min_visibility, min_presence, margin))


@dataclass(frozen=True, slots=True)
class PoseTrackerSettings:
    model: str = "full"  # lite | full
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


class PoseTracker(Landmarker):
    """PoseLandmarker (lite or full), one person, with world landmarks."""

    def __init__(self, settings: PoseTrackerSettings = PoseTrackerSettings(), still_images: bool = False):
        if settings.model not in MODEL_VARIANTS:
            raise ModelError(f"pose model {settings.model!r} is not one of {', '.join(MODEL_VARIANTS)}")
        self.model = settings.model
        super().__init__(f"pose_landmarker_{settings.model}", "PoseLandmarker", "PoseLandmarkerOptions", dict(
            num_poses=1,
            min_pose_detection_confidence=settings.min_detection_confidence,
            min_pose_presence_confidence=settings.min_presence_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
            output_segmentation_masks=False,
        ), still_images)

    def process(self, rgb, timestamp_ms: int) -> PoseObservation | None:
        """Track one RGB uint8 image (array or shared `mp_image`); timestamps must increase (older ones are bumped forward)."""
        result = self._run(rgb, timestamp_ms)
        if not result.pose_landmarks:
            return None
        lm = result.pose_landmarks[0]
        vis = np.array([p.visibility if p.visibility is not None else 0.0 for p in lm], dtype=np.float64)
        pres = np.array([p.presence if p.presence is not None else 0.0 for p in lm], dtype=np.float64)
        return PoseObservation(points(lm), points(result.pose_world_landmarks[0]), vis, pres)
