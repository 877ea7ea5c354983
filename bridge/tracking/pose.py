"""MediaPipe PoseLandmarker -> plain arrays. Nothing outside bridge/tracking/ sees MediaPipe types.

Landmark indices are BlazePose's 33 (0 nose, 11/12 left/right shoulder, 13/14 elbows, 15/16 wrists,
17-22 pinky/index/thumb knuckles, 23/24 hips, 25/26 knees, 27/28 ankles, 29/30 heels, 31/32 foot index).
"Left" is the person's own left (it appears on the image's right in an unmirrored camera image).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from .landmarker import Landmarker, points

N_POSE = 33
NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
INDEX = {n: i for i, n in enumerate(NAMES)}
MODEL_VARIANTS = ("lite", "full", "heavy")


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
        idx = [INDEX[f"{side}_{n}"] for n in ("wrist", "pinky", "index", "thumb")]
        xy = self.landmarks[idx, :2]
        inside = np.all((xy >= -margin) & (xy <= 1 + margin), axis=1)
        likely = (self.visibility[idx] >= min_visibility) | (self.presence[idx] >= min_presence)
        return bool(np.any(inside & likely))

    def any_hand_in_view(self, min_visibility: float = 0.3, min_presence: float = 0.25, margin: float = 0.1) -> bool:
        return (self.hand_in_view("left", min_visibility, min_presence, margin)
                or self.hand_in_view("right", min_visibility, min_presence, margin))


@dataclass(frozen=True, slots=True)
class PoseTrackerSettings:
    model: str = "full"  # lite | full | heavy (heavy: build it first with models/build_pose_landmarker.py --heavy)
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


class PoseTracker(Landmarker):
    """PoseLandmarker (lite/full/heavy), one person, with world landmarks."""

    def __init__(self, settings: PoseTrackerSettings = PoseTrackerSettings(), still_images: bool = False):
        if settings.model not in MODEL_VARIANTS:
            raise ModelError(f"pose model {settings.model!r} is not one of {', '.join(MODEL_VARIANTS)}")
        self.model = settings.model
        try:
            super().__init__(f"pose_landmarker_{settings.model}", "PoseLandmarker", "PoseLandmarkerOptions", dict(
                num_poses=1,
                min_pose_detection_confidence=settings.min_detection_confidence,
                min_pose_presence_confidence=settings.min_presence_confidence,
                min_tracking_confidence=settings.min_tracking_confidence,
                output_segmentation_masks=False,
            ), still_images, "python models/build_pose_landmarker.py")
        except ModelError as e:
            if settings.model == "heavy":
                raise ModelError(f"{e} (the heavy model is built on demand: "
                                 "`python models/build_pose_landmarker.py --heavy`)") from None
            raise

    def process(self, rgb: np.ndarray, timestamp_ms: int) -> PoseObservation | None:
        """Track one RGB uint8 image; timestamps must increase (older ones are bumped forward)."""
        result = self._run(rgb, timestamp_ms)
        if not result.pose_landmarks:
            return None
        lm = result.pose_landmarks[0]
        vis = np.array([p.visibility if p.visibility is not None else 0.0 for p in lm], dtype=np.float64)
        pres = np.array([p.presence if p.presence is not None else 0.0 for p in lm], dtype=np.float64)
        return PoseObservation(points(lm), points(result.pose_world_landmarks[0]), vis, pres)
