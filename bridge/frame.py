"""The per-frame record: everything that leaves the sidecar for one captured image.

A frame holds a list of people. Each `Person` carries the face twice, in subject space
(first person: VRChat, the exports) and in avatar space (mirrored when `[source] mirror`:
VMC, WebSocket, the engine receivers), plus the mapped shapes, the bones, the classifier
output, the trigger events and the `[reactions]` parameters. Encoders read only this record, so
a live run, a replay and a batch run send the same bytes for the same frames.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .arkit import INDEX, N_SHAPES

# The shapes a VR headset hides: held neutral while a FaceState's `eyes_tracked` is false
UPPER_FACE_SHAPES = np.array([i for n, i in INDEX.items() if n.startswith(("eye", "brow"))])


@dataclass(slots=True)
class FaceState:
    """A face after calibration and filtering, in the space its holder says (see retarget/conventions.py).

    `presence` is 1 while tracked and eases to 0 during a loss, so consumers can fade.
    `eyes_tracked` is false in headset mode while the upper face is covered: eye and brow shapes and
    the eye rotations are then held neutral and not sent to VRChat.
    """

    found: bool
    presence: float
    blendshapes: np.ndarray  # (52,) float32, ARKit order, 0..1
    head_rotation: np.ndarray  # (4,) xyzw
    head_position: np.ndarray  # (3,) metres, relative to the neutral position
    left_eye: np.ndarray  # (4,) xyzw, local to the head
    right_eye: np.ndarray  # (4,)
    eye_angles_deg: np.ndarray  # (4,) left pitch, left yaw, right pitch, right yaw (Unity signs)
    landmarks: np.ndarray | None = None  # (478, 3) normalized image coords, raw tracker output
    eyes_tracked: bool = True

    @staticmethod
    def neutral() -> "FaceState":
        ident = np.array([0.0, 0.0, 0.0, 1.0])
        return FaceState(False, 0.0, np.zeros(N_SHAPES, np.float32), ident.copy(), np.zeros(3),
                         ident.copy(), ident.copy(), np.zeros(4))


@dataclass(slots=True)
class Parameters:
    """`[reactions]` VRChat avatar parameters: bools (true while a trigger is on) and floats."""

    bool_names: tuple[str, ...] = ()
    bools: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    float_names: tuple[str, ...] = ()
    floats: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


# VRChat OSC trackers (docs/wire-formats.md): our fixed slot number for each tracker name, and the
# groups a config may name instead. VRChat assigns no roles to slots (its calibration matches each
# tracker to the nearest body part), so the table is ours; it follows SlimeVR's.
TRACKER_SLOTS: dict[str, int] = {"hip": 1, "left_foot": 2, "right_foot": 3, "left_knee": 4, "right_knee": 5,
                                 "chest": 6, "left_elbow": 7, "right_elbow": 8}
TRACKER_GROUPS: dict[str, tuple[str, ...]] = {"feet": ("left_foot", "right_foot"),
                                              "knees": ("left_knee", "right_knee"),
                                              "elbows": ("left_elbow", "right_elbow"),
                                              "all": tuple(TRACKER_SLOTS)}


@dataclass(slots=True)
class TrackerPoses:
    """The VRChat OSC trackers to send this frame, in VRChat's frame (subject space, never mirrored;
    see retarget/conventions.py): only the trackers that are tracked (or held), in slot order, plus
    the head reference that aligns them with the headset."""

    names: tuple[str, ...]  # TRACKER_SLOTS names
    positions: np.ndarray  # (N, 3) metres, VRChat world space (floor at y = 0, scaled to the user's height)
    rotations: np.ndarray  # (N, 4) xyzw world rotations
    head_position: np.ndarray  # (3,) metres
    head_rotation: np.ndarray  # (4,) xyzw


@dataclass(slots=True)
class Person:
    """One tracked person and what their avatar gets.

    `id` is stable through a run and never reused; `slot` is where the person's output goes (a person
    who leaves and comes back within `[tracking] keep_s` keeps both).

    `blend_names`/`blend_values` are the mapped shapes the avatar has (after presets, renames and
    `[reactions]` shapes); `bone_names` are Unity HumanBodyBones names with local rotations (N, 4)
    and positions (N, 3).
    """

    id: int
    face: FaceState  # avatar space
    subject: FaceState  # subject space (first person)
    blend_names: tuple[str, ...]
    blend_values: np.ndarray
    bone_names: tuple[str, ...] = ()
    bone_rotations: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    bone_positions: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    root_position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    root_rotation: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))
    classes: dict[str, dict[str, float]] = field(default_factory=dict)  # e.g. {"expression": {"happy": 0.9, ...}}
    events: list[dict] = field(default_factory=list)  # triggers: {"type", "name", "state": "start"|"end", "value"}
    parameters: Parameters = field(default_factory=Parameters)
    trackers: TrackerPoses | None = None  # [vrchat] trackers, when asked for and the body is seen
    slot: int = 1  # 1..[tracking] people: the avatar and outputs this person drives
    name: str | None = None  # an enrolled name or "unknown" while face identity runs, else None
    similarity: float = float("nan")  # 1 - descriptor distance to that name (to the nearest when unknown)
    box: np.ndarray | None = None  # (4,) x0, y0, x1, y1 normalized image coordinates, when tracked


@dataclass(slots=True)
class AvatarFrame:
    """One captured image's output: its people (person 0 is today's single person) and timings."""

    seq: int
    capture_time: float  # wall-clock seconds (time.time()) when the image was captured
    source_time: float  # seconds into the source (video position), for replay/export
    people: list[Person]
    timings_ms: dict[str, float] = field(default_factory=dict)
    image_size: tuple[int, int] = (0, 0)  # width, height

    @property
    def found(self) -> bool:
        """Whether any person's face is tracked in this frame."""
        return any(p.face.found for p in self.people)

    @property
    def has_events(self) -> bool:
        return any(p.events for p in self.people)

    def person(self, slot: int = 1) -> Person | None:
        """The person in `slot` (1: the first, and in a one-person run the only one), or None."""
        return next((p for p in self.people if p.slot == slot), None)


def timeline(frames: list[AvatarFrame], slot: int = 1) -> list[Person]:
    """One slot's person for each frame, for the exports, which need one per frame: while they are
    away their last record is held; frames before they first appear are left out."""
    out: list[Person] = []
    for f in frames:
        p = f.person(slot)
        if p is not None or out:
            out.append(p if p is not None else out[-1])
    return out
