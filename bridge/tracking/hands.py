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

Rescue (`HandRescuer`): the palm detector misses small or blurred hands that the pose tracker still
places (on the HaGRID fixtures no hand is found in 29 of 320 photos, though the pose sees both wrists
in 28 of them). For each pose wrist in view that no found hand covers, a square crop around it (side
2.5 forearm lengths, centred 0.6 forearm lengths beyond the wrist along the forearm), scaled to 256 px,
goes to a second landmarker in IMAGE mode (one hand); its landmarks are mapped back to the full image.
Nothing runs while every wrist in view has its hand, or none is in view.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..landmarks import POSE, WRIST
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
    search_every: int = 3  # none found for a while: search one frame in 3 (landmarker.SearchBackoff)


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
        ), still_images, settings.search_every)
        self.input_mirrored = input_mirrored  # True only if frames were flipped before tracking

    def process(self, rgb, timestamp_ms: int) -> list[HandObservation]:
        """Track one RGB uint8 image (array or shared `mp_image`); returns 0..num_hands hands. Timestamps must increase."""
        if self.backoff is not None and not self.backoff.search():
            return []
        result = self._run(rgb, timestamp_ms)
        hands: list[HandObservation] = []
        for lms, wl, cats in zip(result.hand_landmarks, result.hand_world_landmarks, result.handedness):
            label = cats[0].category_name
            side = PERSON_SIDE.get(label, "left")
            if self.input_mirrored:
                side = "left" if side == "right" else "right"
            hands.append(HandObservation(side, float(cats[0].score), points(lms), points(wl), label))
        if self.backoff is not None:
            self.backoff.found(bool(hands))
        return hands


def hands_in_view(hands: list[HandObservation], margin: float = 0.1) -> bool:
    """Whether any detected hand has its wrist inside the image (with a margin): with
    PoseObservation.any_hand_in_view, the rule for running hand inference on the next frame."""
    return any(bool(np.all((h.landmarks[WRIST, :2] >= -margin) & (h.landmarks[WRIST, :2] <= 1 + margin)))
               for h in hands)


@dataclass(frozen=True, slots=True)
class RescueSettings:
    crop_forearms: float = 2.5  # side of the square crop, in forearm lengths (elbow to wrist in the image)
    beyond_wrist: float = 0.6  # crop centre past the wrist along the forearm, in forearm lengths
    size_px: int = 256  # the crop is scaled to this square before the landmarker sees it
    covered: float = 0.6  # a found hand whose wrist is within this many forearm lengths covers a pose wrist
    min_detection_confidence: float = 0.5


def _forearm_px(pose, side: str, wh: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The pose's wrist and unit forearm direction (elbow -> wrist) in pixels, and the forearm length.
    A forearm pointing at the camera looks short: the hand (wrist -> index knuckle, times 1.5) bounds it below."""
    wrist, elbow, index = (pose.landmarks[POSE[f"{side}_{n}"], :2] * wh for n in ("wrist", "elbow", "index"))
    d = wrist - elbow
    n = float(np.linalg.norm(d))
    length = max(n, 1.5 * float(np.linalg.norm(index - wrist)), 1.0)
    return wrist, (d / n if n > 1e-6 else np.zeros(2)), length


class HandRescuer:
    """Looks again for the hands the full-frame landmarker missed, in crops around the pose's wrists.

    `rescue(rgb, pose, hands)` returns the extra hands (0..2), in full-image coordinates, each with
    `side` = the pose wrist it was found at (the person's own side, as the pose labels it; flipped
    when `input_mirrored`), `mp_label` its own label. A hand found in a crop whose wrist lies nearer
    the other pose wrist, or on a hand already found, is dropped (the crop caught the other hand).
    Call it on every frame: it costs nothing unless a pose wrist in view lacks its hand. On video
    (`backoff=True`) a side whose crop held no hand waits 1, 2, 4, then 8 frames before the next try
    (a hand hidden behind an object or another person would otherwise cost a crop every frame); a
    side whose hand is found is searched again on the very next frame it is missing.
    """

    def __init__(self, settings: RescueSettings = RescueSettings(), input_mirrored: bool = False,
                 backoff: bool = False):
        self.settings = settings
        self.input_mirrored = input_mirrored
        self.backoff = backoff
        self._wait = {"left": 0, "right": 0}  # frames to skip after the last failed try
        self._skip = {"left": 0, "right": 0}  # frames still to skip
        self.tracker = HandTracker(HandTrackerSettings(1, settings.min_detection_confidence,
                                                       settings.min_detection_confidence), still_images=True)
        self.attempts = 0  # crops searched
        self.found = 0  # hands found in them

    def missing(self, pose, hands: list[HandObservation], wh) -> list[str]:
        """The pose sides whose wrist is in view and not covered by a found hand."""
        if pose is None:
            return []
        wh = np.asarray(wh, np.float64)
        out = []
        for side in ("left", "right"):
            if not pose.hand_in_view(side):
                continue
            wrist, _, length = _forearm_px(pose, side, wh)
            if any(np.linalg.norm(h.landmarks[WRIST, :2] * wh - wrist) < self.settings.covered * length
                   for h in hands):
                self._wait[side] = self._skip[side] = 0
            elif self._skip[side] > 0:
                self._skip[side] -= 1
            else:
                out.append(side)
        return out

    def rescue(self, rgb: np.ndarray, pose, hands: list[HandObservation],
               sides: list[str] | None = None) -> list[HandObservation]:
        """The hands found around the uncovered pose wrists (`sides`, else `missing(...)`) of this RGB
        uint8 frame (see the class docstring)."""
        import cv2
        h_img, w_img = rgb.shape[:2]
        wh = np.array([w_img, h_img], np.float64)
        sides = self.missing(pose, hands, wh) if sides is None else sides
        if not sides:
            return []
        cfg = self.settings
        wrists = {s: pose.landmarks[POSE[f"{s}_wrist"], :2] * wh for s in ("left", "right")}
        out: list[HandObservation] = []
        for side in sides:
            wrist, d, length = _forearm_px(pose, side, wh)
            centre = wrist + cfg.beyond_wrist * length * d
            scale = cfg.size_px / (cfg.crop_forearms * length)
            offset = cfg.size_px / 2 - scale * centre
            warp = np.array([[scale, 0, offset[0]], [0, scale, offset[1]]])
            crop = cv2.warpAffine(rgb, warp, (cfg.size_px, cfg.size_px), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT)
            self.attempts += 1
            n = len(out)
            for h in self.tracker.process(crop, 0):
                lm = h.landmarks.copy()
                lm[:, :2] = (lm[:, :2] * cfg.size_px - offset) / scale / wh
                lm[:, 2] *= cfg.size_px / scale / w_img  # z is in units of the image width, like x
                at = lm[WRIST, :2] * wh
                other = "right" if side == "left" else "left"
                if np.linalg.norm(at - wrists[side]) > np.linalg.norm(at - wrists[other]):
                    continue  # the crop caught the other hand
                if any(np.linalg.norm(at - g.landmarks[WRIST, :2] * wh) < cfg.covered * length for g in hands + out):
                    continue
                own = side if not self.input_mirrored else other
                out.append(HandObservation(own, h.score, lm, h.world, h.mp_label))
                self.found += 1
            if self.backoff:
                self._wait[side] = 0 if len(out) > n else min(2 * self._wait[side] or 1, 8)
                self._skip[side] = self._wait[side]
        return out

    def close(self) -> None:
        self.tracker.close()
