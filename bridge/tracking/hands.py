"""MediaPipe HandLandmarker -> plain arrays. Nothing outside bridge/tracking/ sees MediaPipe types.

Handedness: the legacy `mp.solutions.hands` documentation says labels assume a mirrored (selfie)
image. Measured with mediapipe 1.2.3's HandLandmarker and this model on unmirrored photos, that is
NOT what happens: the label is the person's own hand. On COCO photos (unmirrored camera pictures)
"Left" sits on the pose tracker's left wrist (the person's left, image right for a person facing the
camera) and "Right" on the right wrist; on the HaGRID fixtures 41 of 42 labelled palms agree with the
pose wrists the same way (tests/test_hands.py keeps checking this). Camera and video frames reach the
sidecar unmirrored, so `side` = label.lower(); pass `input_mirrored=True` only if frames were flipped
before tracking. `mp_label` keeps MediaPipe's raw label.
Landmarks: MediaPipe's 21 hand landmarks, indices in bridge/landmarks.py (HAND_NAMES, FINGER_CHAINS).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landmarks import WRIST
from .landmarker import Landmarker, points

# MediaPipe's label -> the person's own side in an unmirrored image (measured, see the module docstring).
PERSON_SIDE = {"Left": "left", "Right": "right"}


@dataclass(slots=True)
class HandObservation:
    side: str  # the person's own hand: "left" or "right" (see module docstring)
    score: float  # handedness confidence 0..1
    landmarks: np.ndarray  # (21, 3) normalized x, y in [0, 1] (x right, y down), z relative to the wrist
    world: np.ndarray  # (21, 3) metres around the hand's centre; x image right, y down, z away from the camera
    mp_label: str  # MediaPipe's raw label ("Left"/"Right")


@dataclass(frozen=True, slots=True)
class HandTrackerSettings:
    num_hands: int = 2
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


class HandTracker(Landmarker):
    """Synchronous VIDEO mode (tracks across frames) or IMAGE mode (each picture on its own).

    Skipping frames (e.g. when the pose tracker sees no wrist in view) is allowed in VIDEO mode:
    timestamps only have to increase.
    """

    def __init__(self, settings: HandTrackerSettings = HandTrackerSettings(), still_images: bool = False,
                 input_mirrored: bool = False):
        super().__init__("hand_landmarker", "HandLandmarker", "HandLandmarkerOptions", dict(
            num_hands=settings.num_hands,
            min_hand_detection_confidence=settings.min_detection_confidence,
            min_hand_presence_confidence=settings.min_presence_confidence,
            min_tracking_confidence=settings.min_tracking_confidence,
        ), still_images)
        self.input_mirrored = input_mirrored  # True only if frames were flipped before tracking

    def process(self, rgb, timestamp_ms: int) -> list[HandObservation]:
        """Track one RGB uint8 image (array or shared `mp_image`); returns 0..num_hands hands. Timestamps must increase."""
        result = self._run(rgb, timestamp_ms)
        hands: list[HandObservation] = []
        for lms, wl, cats in zip(result.hand_landmarks, result.hand_world_landmarks, result.handedness):
            label = cats[0].category_name
            side = PERSON_SIDE.get(label, "left")
            if self.input_mirrored:
                side = "left" if side == "right" else "right"
            hands.append(HandObservation(side, float(cats[0].score), points(lms), points(wl), label))
        return hands


def hands_in_view(hands: list[HandObservation], margin: float = 0.1) -> bool:
    """Whether any detected hand has its wrist inside the image (with a margin): with
    PoseObservation.any_hand_in_view, the rule for running hand inference on the next frame."""
    return any(bool(np.all((h.landmarks[WRIST, :2] >= -margin) & (h.landmarks[WRIST, :2] <= 1 + margin)))
               for h in hands)
