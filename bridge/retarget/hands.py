"""21 hand landmarks -> finger bone rotations (Proximal/Intermediate/Distal, thumb..little) and the hand's rotation.

Conventions (docs/body.md): subject space as for the body (conventions.subject_points, the avatar's
left = the person's left); landmark indices from bridge/landmarks.py (FINGER_CHAINS); rest = VRM
T-pose (fingers along -X for the left hand and +X for the right, palms -Y, thumbs 45 degrees
forward). Unity's thumb bones are VRM 1.0's metacarpal/proximal/distal: ThumbProximal = CMC->MCP,
ThumbIntermediate = MCP->IP, ThumbDistal = IP->tip; the other fingers' Proximal = MCP->PIP,
Intermediate = PIP->DIP, Distal = DIP->tip.

The hand's world rotation comes from its own landmarks (wrist -> middle knuckle, palm normal);
each finger bone's world rotation takes its rest direction onto the observed segment with the
hand's lateral axis (towards the thumb) as the twist reference, so finger flexion is a pure hinge;
the thumb uses the palm normal. local = inverse(parent world) * world, the parent of a proximal
being the hand. The hand's rotation relative to the lower arm is made by BodySolver, which takes
`HandsPose.hand_world` as an input (pose gives the arm, this solver the hand).

Sides: `HandObservation.side` (the person's own hand, see tracking/hands.py) is a vote, not the
answer: detections are assigned to Left/Right by a cost that also weighs the distance to the pose
tracker's wrists (or to where each hand was last seen), so a label that flips for a frame or two
hands labelled the same do not swap the avatar's hands. A hand that vanishes holds, then eases to
the open rest pose; one that appears blends in (limb_filter.LimbGate).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..landmarks import FINGER_CHAINS, INDEX_MCP, L_WR, MIDDLE_MCP, PINKY_MCP, R_WR, WRIST
from . import humanoid as H
from . import quat
from .conventions import reflect_x_quat, subject_points
from .limb_filter import GateSettings, LimbGate, RotationSmoother

SIDES = ("Left", "Right")
FINGER_NAMES: dict[str, tuple[str, ...]] = {s: H.finger_bones(s) for s in SIDES}
HAND_BONES: tuple[str, ...] = FINGER_NAMES["Left"] + FINGER_NAMES["Right"]  # 30 rows
_SEG_FROM = np.array([FINGER_CHAINS[f][k] for f in H.FINGERS for k in range(3)])
_SEG_TO = np.array([FINGER_CHAINS[f][k + 1] for f in H.FINGERS for k in range(3)])
_IS_THUMB = np.array([f == "Thumb" for f in H.FINGERS for _ in range(3)])
_PARENT_ROW = np.array([-1 if k == 0 else 3 * i + k - 1 for i in range(5) for k in range(3)])
_MIRROR = H.mirror_permutation(HAND_BONES)


def _rest(side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rest directions (15, 3), twist references in the hand's rest frame (15, 3), fallbacks (15, 3))."""
    names = FINGER_NAMES[side]
    dirs = np.stack([H.REST_DIR[n] for n in names])
    lateral = np.array([0.0, 0.0, 1.0])  # towards the thumb: the fingers' flexion axis
    palm = np.array([0.0, -1.0, 0.0])
    pad = np.array([-1.0 if side == "Left" else 1.0, 0.0, -1.0]) / np.sqrt(2)  # thumb pad faces the index
    ref = np.where(_IS_THUMB[:, None], palm, lateral)
    fb = np.where(_IS_THUMB[:, None], pad, palm)
    return dirs, ref, fb


_REST = {s: _rest(s) for s in SIDES}
_PHALANX_ROWS = [np.arange(k, 15, 3) for k in range(3)]  # proximal, intermediate, distal of the five fingers
# solve_hand's rest frames per side and phalanx, and the hand's own (constant, so made once)
_PHALANX_REST = {s: [H.rest_frames(_REST[s][0][rows], _REST[s][1][rows]) for rows in _PHALANX_ROWS] for s in SIDES}
_HAND_REST = {s: H.rest_frames(H.REST_DIR[f"{s}Hand"], np.array([0.0, -1.0, 0.0])) for s in SIDES}


def hand_world_rotation(P: np.ndarray, side: str) -> np.ndarray:
    """Subject-space hand landmarks (21, 3) -> the hand's world rotation (4,) against the T-pose
    (wrist -> middle knuckle along -X/+X, palm normal -Y)."""
    d = P[MIDDLE_MCP] - P[WRIST]
    n = H.cross(P[INDEX_MCP] - P[WRIST], P[PINKY_MCP] - P[WRIST]) * (1.0 if side == "Left" else -1.0)
    ref = H.perpendicular_ref(d, n, H.cross(d, P[INDEX_MCP] - P[PINKY_MCP]))
    return H.look_rotation(None, None, d, ref, _HAND_REST[side])


def solve_hand(P: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Subject-space landmarks (21, 3) of the person's `side` hand -> (hand world (4,),
    finger local rotations (15, 4), finger world rotations (15, 4)), rows in H.finger_bones(side) order."""
    w_hand = hand_world_rotation(P, side)
    _, ref, fb = _REST[side]
    seg = P[_SEG_TO] - P[_SEG_FROM]
    # Phalanx by phalanx (proximal, intermediate, distal for all five fingers at once): each takes its
    # twist reference from its parent's frame, so a bend is a hinge about the parent's axis.
    world = np.empty((15, 4))
    parent_w = np.broadcast_to(w_hand, (5, 4))
    for rows, rest in zip(_PHALANX_ROWS, _PHALANX_REST[side]):
        obs_ref = H.perpendicular_ref(seg[rows], H.rotate(parent_w, ref[rows]), H.rotate(parent_w, fb[rows]))
        world[rows] = H.look_rotation(None, None, seg[rows], obs_ref, rest)
        parent_w = world[rows]
    parent = np.where(_PARENT_ROW[:, None] >= 0, world[np.maximum(_PARENT_ROW, 0)], w_hand)
    local = quat.multiply(quat.conjugate(parent), world)
    return w_hand, local, world


@dataclass(frozen=True, slots=True)
class HandSettings:
    label_weight: float = 0.25  # cost of going against the tracker's left/right label (x its confidence)
    position_weight: float = 1.0  # cost per normalized image unit from where that side's wrist is expected
    memory_s: float = 0.5  # how long a hand's last position is trusted for the assignment
    new_hand_cost: float = 0.2  # cost of starting a side that has no track while the other side has one
    duplicate_distance: float = 0.03  # two detections whose wrists are this close are one hand
    gate: GateSettings = field(default_factory=lambda: GateSettings(0.5, 0.5, 0.25, 0.5, 0.3))
    min_cutoff: float = 2.0
    beta: float = 0.6
    d_cutoff: float = 1.0


@dataclass(slots=True)
class HandsPose:
    names: tuple[str, ...]  # HAND_BONES, or mirrored sides' data in the same name order
    local: np.ndarray  # (30, 4) finger local rotations (output space)
    hand_world: dict[str, np.ndarray | None]  # subject space (unmirrored) hand rotations for BodySolver, None if unseen
    present: dict[str, float]  # per side (output space naming) presence weight 0..1
    assigned: dict[str, int]  # subject side -> index of the detection used (-1 if none)
    mirrored: bool


class HandSolver:
    def __init__(self, settings: HandSettings = HandSettings(), mirror: bool = False, still_images: bool = False):
        self.s = settings
        self.mirror = mirror
        self.still = still_images
        self.gate = LimbGate({"Left": np.arange(15), "Right": np.arange(15, 30)}, 30, settings.gate)
        self.smoother = RotationSmoother(settings.min_cutoff, settings.beta, settings.d_cutoff)
        self.rest = np.tile(quat.IDENTITY, (30, 1))
        self.reset()

    def reset(self) -> None:
        self.gate.reset()
        self.smoother.reset()
        self._last_pos: dict[str, tuple[np.ndarray, float]] = {}
        self._last_world: dict[str, tuple[np.ndarray, float]] = {}

    def assign(self, hands: list, t: float, pose_wrists: dict[str, np.ndarray | None] | None = None) -> dict[str, int]:
        """Detections -> {'Left': i or -1, 'Right': j or -1} (the person's sides) by label + position cost."""
        dets = list(range(len(hands)))
        # one physical hand found twice: keep the more confident detection
        for a in range(len(hands)):
            for b in range(a + 1, len(hands)):
                apart = np.linalg.norm(hands[a].landmarks[WRIST, :2] - hands[b].landmarks[WRIST, :2])
                if a in dets and b in dets and apart < self.s.duplicate_distance:
                    dets.remove(b if hands[a].score >= hands[b].score else a)
        expected: dict[str, np.ndarray] = {}
        for side in SIDES:
            p = (pose_wrists or {}).get(side)
            if p is not None:
                expected[side] = np.asarray(p, dtype=np.float64)[:2]
            elif side in self._last_pos and (self.still is False and t - self._last_pos[side][1] <= self.s.memory_s):
                expected[side] = self._last_pos[side][0]

        def cost(i: int, side: str) -> float:
            h = hands[i]
            c = 0.0 if h.side.capitalize() == side else self.s.label_weight * (2 * h.score - 1 + 1e-3)
            if side in expected:
                c += self.s.position_weight * float(np.linalg.norm(h.landmarks[WRIST, :2] - expected[side]))
            elif expected:  # a hand appearing on a side with no track, while the other side has one
                c += self.s.new_hand_cost
            return c

        out = {"Left": -1, "Right": -1}
        if len(dets) == 1:
            i = dets[0]
            out[min(SIDES, key=lambda s: cost(i, s))] = i
        elif len(dets) >= 2:
            best = None
            for a in dets:
                for b in dets:
                    if a != b:
                        c = cost(a, "Left") + cost(b, "Right")
                        if best is None or c < best[0]:
                            best = (c, a, b)
            out["Left"], out["Right"] = best[1], best[2]
        return out

    def solve(self, hands: list, t: float, pose_wrists: dict[str, np.ndarray | None] | None = None) -> HandsPose:
        """hands: list of tracking.hands.HandObservation (may be empty: hand inference skipped or nothing found).

        pose_wrists: {'Left'/'Right': normalized image (x, y) of the pose's wrist, or None} to anchor sides.
        """
        assigned = self.assign(hands, t, pose_wrists)
        live = self.gate.held.copy()
        seen: dict[str, bool] = {}
        hand_world: dict[str, np.ndarray | None] = {"Left": None, "Right": None}
        for k, side in enumerate(SIDES):
            i = assigned[side]
            seen[side] = i >= 0
            if i < 0:
                continue
            h = hands[i]
            w_hand, local, _ = solve_hand(subject_points(h.world), side)
            live[15 * k:15 * (k + 1)] = local
            hand_world[side] = w_hand
            self._last_pos[side] = (h.landmarks[WRIST, :2].copy(), t)
            self._last_world[side] = (w_hand, t)
        for side in SIDES:  # a hand missing for a moment keeps its last rotation for the body (no flicker
            # between the hand landmarker's and the pose's estimate); after hold_s the pose's takes over
            if hand_world[side] is None and side in self._last_world and not self.still:
                w_hand, seen_t = self._last_world[side]
                if t - seen_t <= self.s.gate.hold_s:
                    hand_world[side] = w_hand
        held, w = self.gate(live, seen, t, self.still, self.rest)
        out = self.smoother(held, w, self.rest, t, self.still)
        present = self.gate.weight
        if self.mirror:
            out = reflect_x_quat(out[_MIRROR])
            present = {"Left": present["Right"], "Right": present["Left"]}
        return HandsPose(HAND_BONES, out, hand_world, present, assigned, self.mirror)


def pose_wrists(landmarks: np.ndarray | None, visibility: np.ndarray | None,
                min_visibility: float = 0.5) -> dict[str, np.ndarray | None]:
    """The pose's wrists in normalized image coordinates, for HandSolver.solve's side assignment
    (PoseObservation.landmarks/.visibility)."""
    out: dict[str, np.ndarray | None] = {"Left": None, "Right": None}
    if landmarks is None:
        return out
    for side, i in (("Left", L_WR), ("Right", R_WR)):
        if visibility is None or visibility[i] >= min_visibility:
            out[side] = np.asarray(landmarks[i, :2], dtype=np.float64)
    return out

