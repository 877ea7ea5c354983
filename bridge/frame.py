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

from .arkit import N_SHAPES


@dataclass(slots=True)
class FaceState:
    """A face after calibration and filtering, in the space its holder says (see retarget/conventions.py).

    `presence` is 1 while tracked and eases to 0 during a loss, so consumers can fade.
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


@dataclass(slots=True)
class Person:
    """One tracked person and what their avatar gets.

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
