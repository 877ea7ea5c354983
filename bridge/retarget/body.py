"""Pose world landmarks -> local rotations of Unity HumanBodyBones (+ hips position), vectorised.

Pipeline per frame (conventions: retarget/conventions.py, docs/body.md):
  1. MediaPipe world landmarks -> subject space (conventions.subject_points: Unity's frame with the
     avatar's left = the person's left).
  2. World rotation of each bone = the look rotation taking its T-pose rest direction
     (humanoid.REST_DIR) onto the observed segment direction, with a reference vector fixing the
     twist: upper arms/legs use the plane of the bend (so the elbow and knee become hinges about the
     bone's local Y / X axis), lower limbs swing from their parent, hands and feet use their own
     landmarks, hips and chest use the hip and shoulder lines with the torso's up vector.
  3. local = inverse(parent world) * world; the hips-to-chest turn is split evenly over Spine,
     Chest and UpperChest. Shoulders (no clavicle landmarks) and toes stay at rest.
  4. Per-limb visibility gating (limb_filter.LimbGate), One Euro on rotations (filters.OneEuroQuat),
     upper-body mode (hips fixed, legs at a seated rest) chosen by config or automatically when the
     knees/ankles are not visible.
  5. Optional mirror: quaternions (x, -y, -z, w) with Left/Right bones swapped, root x negated.
Only directions enter the rotations, so people of any size drive the avatar the same way; the hips
position is expressed in units of the person's own leg length times the avatar's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..landmarks import (L_ANK, L_EAR, L_EL, L_HEEL, L_HIP, L_INDEX, L_KNEE, L_PINKY, L_SH, L_TOE, L_WR, NOSE,
                         R_ANK, R_EAR, R_EL, R_HEEL, R_HIP, R_INDEX, R_KNEE, R_PINKY, R_SH, R_TOE, R_WR)
from . import humanoid as H
from . import quat
from .conventions import MP_WORLD_TO_SUBJECT, reflect_x_pos, reflect_x_quat, subject_points
from .limb_filter import GateSettings, LimbGate, RotationSmoother

BODY_BONES: tuple[str, ...] = (
    "Hips", "LeftUpperLeg", "RightUpperLeg", "LeftLowerLeg", "RightLowerLeg", "LeftFoot", "RightFoot",
    "Spine", "Chest", "Neck", "Head", "LeftShoulder", "RightShoulder", "LeftUpperArm", "RightUpperArm",
    "LeftLowerArm", "RightLowerArm", "LeftHand", "RightHand", "LeftToes", "RightToes", "UpperChest",
)
BI = {b: i for i, b in enumerate(BODY_BONES)}
_MIRROR = H.mirror_permutation(BODY_BONES)

LIMBS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    # group: (landmarks whose min visibility gates it, bones)
    "torso": ((L_SH, R_SH, L_HIP, R_HIP), ("Spine", "Chest", "UpperChest")),
    "head": ((NOSE, L_EAR, R_EAR), ("Neck", "Head")),
    "left_arm": ((L_SH, L_EL, L_WR), ("LeftUpperArm", "LeftLowerArm")),
    "right_arm": ((R_SH, R_EL, R_WR), ("RightUpperArm", "RightLowerArm")),
    "left_hand": ((L_WR, L_PINKY, L_INDEX), ("LeftHand",)),
    "right_hand": ((R_WR, R_PINKY, R_INDEX), ("RightHand",)),
    "left_leg": ((L_HIP, L_KNEE, L_ANK), ("LeftUpperLeg", "LeftLowerLeg")),
    "right_leg": ((R_HIP, R_KNEE, R_ANK), ("RightUpperLeg", "RightLowerLeg")),
    "left_foot": ((L_ANK, L_TOE, L_HEEL), ("LeftFoot",)),
    "right_foot": ((R_ANK, R_TOE, R_HEEL), ("RightFoot",)),
    "hips": ((L_HIP, R_HIP), ("Hips",)),
}
LEG_LANDMARKS = (L_KNEE, R_KNEE, L_ANK, R_ANK)
_LEG_IDX = np.array(LEG_LANDMARKS)
# each limb's landmarks, padded to four by repeating its first: one min over axis 1 gives every limb's score
_LIMB_IDX = np.array([(lm + (lm[0],) * 4)[:4] for lm, _ in LIMBS.values()])


@dataclass(frozen=True, slots=True)
class BodySettings:
    mode: str = "auto"  # auto | full | upper (seated: hips fixed, legs at the seated rest pose)
    leg_visibility: float = 0.5  # auto: full body while min visibility of knees+ankles >= this
    mode_switch_s: float = 0.5  # auto: the legs' state must last this long before the mode changes
    mode_ease_s: float = 0.5  # hips/legs blend between modes over this time
    seated_hip_deg: float = 90.0  # upper-body mode rest: thighs raised forward by this much
    seated_knee_deg: float = 90.0  # and shins bent back down by this much
    arm_rest_down_deg: float = 70.0  # an arm that leaves the frame eases to hanging this far below horizontal
    neck_share: float = 0.5  # with a face-tracker head rotation: share of the head turn taken by the neck
    forearm_twist_share: float = 0.5  # share of the wrist's twist about the forearm given to the lower arm
    move_root: bool = True
    root_gain: float = 1.0
    max_root_offset_m: float = 1.0  # clamp on each axis of the hips offset
    gate: GateSettings = field(default_factory=GateSettings)
    min_cutoff: float = 1.5  # One Euro on rotations (Hz)
    beta: float = 0.5  # per rad/s
    d_cutoff: float = 1.0

    def validate(self) -> None:
        if self.mode not in ("auto", "full", "upper"):
            raise ValueError(f"body mode {self.mode!r}: choose auto, full or upper")
        for k in ("neck_share", "forearm_twist_share"):
            if not 0.0 <= getattr(self, k) <= 1.0:
                raise ValueError(f"body {k} must be within 0..1")


@dataclass(slots=True)
class BodyPose:
    """One solved frame in the output space (mirrored if asked). Rows follow BODY_BONES."""

    found: bool
    names: tuple[str, ...]
    local: np.ndarray  # (22, 4) local rotations (x, y, z, w), Unity frame, against the VRM T-pose
    world: np.ndarray  # (22, 4) world rotations (relative to the avatar root)
    root_position: np.ndarray  # (3,) hips offset from their rest position, metres (avatar scale)
    mode: str  # "full" or "upper"
    weights: dict[str, float]  # per-limb presence 0..1
    mirrored: bool


def _bend_weight(a: np.ndarray, b: np.ndarray, lo_deg: float = 6.0, hi_deg: float = 25.0) -> np.ndarray:
    """0 when segments a, b (..., 3) are nearly straight, 1 when bent by hi_deg or more."""
    c = np.sum(H.normalize(a) * H.normalize(b), -1)
    ang = np.degrees(np.arccos(np.clip(c, -1, 1)))
    return np.clip((ang - lo_deg) / (hi_deg - lo_deg), 0.0, 1.0)[..., None]


_X, _Y, _Z = np.eye(3)
_ARM_REST = np.stack([H.REST_DIR["LeftUpperArm"], H.REST_DIR["RightUpperArm"]])
_SIDE_SIGN = np.array([[1.0], [-1.0]])
# the rest frames of solve_world's three stages of look rotations (constant, so made once)
_S1_REST = H.rest_frames(np.stack([_X, _X, _X]), np.stack([_Y, _Y, _Z]))
_S2_REST = H.rest_frames(np.concatenate([[_Y], _ARM_REST, [-_Y, -_Y], _ARM_REST, [H.FOOT_DIR, H.FOOT_DIR]]),
                         np.concatenate([[_Z], [_Z, _Z], [-_Z, -_Z], [-_Y, -_Y], [_Y, _Y]]))
_S3_REST = H.rest_frames(np.concatenate([_ARM_REST, [-_Y, -_Y]]), np.stack([_Y, _Y, _X, _X]))
_TORSO_AXES = np.stack([_Z, _Y, _Z, _Y])  # chest forward, chest up, hips forward, hips up
# upper arms' and thighs' hinges (local Y, local X), then their swing fallbacks (local +Z, -Z)
_HINGE_SWING = np.stack([_Y, _Y, _X, _X, _Z, _Z, -_Z, -_Z])
_LIMB_ROWS = np.array([BI[s + b] for b in ("UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot", "Toes")
                       for s in ("Left", "Right")])


def solve_world(P: np.ndarray, hips_fixed: bool | float = False, head_rotation: np.ndarray | None = None,
                hand_world: dict[str, np.ndarray] | None = None, neck_share: float = 0.5,
                forearm_twist_share: float = 0.5) -> np.ndarray:
    """Subject-space landmarks P (33, 3) -> world rotations (22, 4) of BODY_BONES (unfiltered).

    `hips_fixed`: 1/True keeps the hips at rest (upper-body mode), 0 follows the pelvis, in between blends.
    `head_rotation`: a subject-space head rotation from the face tracker, used instead of the pose's head.
    `hand_world`: {'Left'/'Right': (4,) subject-space hand rotation} from the hand solver, used instead
    of the pose's coarse hand landmarks.
    Three batched stages of look rotations: (hips, chest, head), then the bones whose twist reference
    comes from the torso (neck, upper arms, upper legs, hands, feet), then the forearms and shins.
    """
    P = np.asarray(P, dtype=np.float64)
    W = np.tile(quat.IDENTITY, (len(BODY_BONES), 1))
    mid_hip = (P[L_HIP] + P[R_HIP]) * 0.5
    mid_sh = (P[L_SH] + P[R_SH]) * 0.5
    mid_ear = (P[L_EAR] + P[R_EAR]) * 0.5
    up = mid_sh - mid_hip
    # Stage 1. Hips and chest: primary axis = the hip / shoulder line (+X, the avatar's right), up = torso.
    # Head: the ear line, forward = towards the nose.
    s1 = H.look_rotation(None, None, P[[R_HIP, R_SH, R_EAR]] - P[[L_HIP, L_SH, L_EAR]],
                         np.stack([up, up, P[NOSE] - mid_ear]), _S1_REST)
    w_hips, w_chest, w_head_pose = s1[0], s1[1], s1[2]
    fixed = float(hips_fixed)
    if fixed > 0:
        w_hips = quat.slerp(quat.IDENTITY, w_hips, 1.0 - fixed)
    rel = quat.multiply(quat.conjugate(w_hips), w_chest)
    third = H.power(rel, 1.0 / 3.0)
    W[BI["Hips"]] = w_hips
    W[BI["Spine"]] = quat.multiply(w_hips, third)
    W[BI["Chest"]] = quat.multiply(W[BI["Spine"]], third)
    W[BI["UpperChest"]] = w_uc = quat.multiply(W[BI["Chest"]], third)  # == w_chest
    W[BI["LeftShoulder"]] = W[BI["RightShoulder"]] = w_uc
    axes = H.rotate(np.stack([w_uc, w_uc, w_hips, w_hips]), _TORSO_AXES)
    chest_fwd, chest_up, hips_fwd, hips_up = axes

    # Stage 2 inputs, rows left then right of: upper arms, thighs (`limb`), hands, feet. Arms: the elbow
    # bends towards the rest +Z, so the upper arm's +Z follows the forearm's part perpendicular to it; a
    # straight arm faces the chest's forward (hanging arms: elbow pits forward), or up when it points
    # forward. Legs: the knee bends towards the rest -Z; a straight leg faces the hips' forward. Hands
    # from the pose's index/pinky knuckles (palm normal -Y at rest); feet: ankle -> toe tip, shin up.
    wr, kn, an = P[[L_WR, R_WR]], P[[L_KNEE, R_KNEE]], P[[L_ANK, R_ANK]]
    limb = P[[L_EL, R_EL, L_KNEE, R_KNEE]] - P[[L_SH, R_SH, L_HIP, R_HIP]]
    lower = P[[L_WR, R_WR, L_ANK, R_ANK]] - P[[L_EL, R_EL, L_KNEE, R_KNEE]]  # forearms, shins
    idx, pky = P[[L_INDEX, R_INDEX]], P[[L_PINKY, R_PINKY]]
    hand_dir = (idx + pky) * 0.5 - wr
    normal = H.cross(idx - wr, pky - wr) * _SIDE_SIGN
    foot_dir = P[[L_TOE, R_TOE]] - an
    straight = H.perpendicular_ref(  # arm and leg fallbacks, palm and foot references
        np.concatenate([limb, hand_dir, foot_dir]),
        np.concatenate([np.stack([chest_fwd, chest_fwd, -hips_fwd, -hips_fwd]), normal, kn - an]),
        np.stack([chest_up, chest_up, -hips_up, -hips_up, -chest_up, -chest_up, hips_up, hips_up]))
    bw = _bend_weight(limb, lower)
    l_n = H.normalize(limb)
    bend_ref = H.normalize(bw * H.normalize(lower - H.dot(lower, l_n) * l_n) + (1 - bw) * straight[:4])
    neck_dir = (mid_ear - mid_sh)[None]
    s2 = H.look_rotation(None, None, np.concatenate([neck_dir, limb, hand_dir, foot_dir]),
                         np.concatenate([[chest_fwd], bend_ref, straight[4:]]), _S2_REST)
    w_neck_pose, w_ua, w_ul, w_hand, w_ft = s2[0], s2[1:3], s2[3:5], s2[5:7].copy(), s2[7:9]
    if head_rotation is not None:
        w_head = np.asarray(head_rotation, dtype=np.float64)
        w_neck = quat.slerp(w_uc, w_head, neck_share)
    else:
        w_head, w_neck = w_head_pose, w_neck_pose
    W[BI["Neck"]], W[BI["Head"]] = w_neck, w_head

    # Stage 3. Forearms and shins swing from their parent about its hinge axis (upper arm's local Y,
    # thigh's local X), which is perpendicular to both segments of a bent joint.
    par = s2[1:5]  # upper arms, thighs
    hinge_swing = H.rotate(np.concatenate([par, par]), _HINGE_SWING)
    s3 = H.look_rotation(None, None, lower, H.perpendicular_ref(lower, hinge_swing[:4], hinge_swing[4:]), _S3_REST)
    w_la, w_ll = s3[:2], s3[2:]
    if hand_world:
        for i, side in enumerate(("Left", "Right")):
            if hand_world.get(side) is not None:
                w_hand[i] = hand_world[side]
    if forearm_twist_share > 0:  # a share of the wrist's twist about the forearm turns the forearm
        rel_hand = quat.multiply(quat.conjugate(w_la), w_hand)
        _, twist = H.swing_twist(rel_hand, _ARM_REST)
        w_la = quat.multiply(w_la, H.power(twist, forearm_twist_share))
    W[_LIMB_ROWS] = np.concatenate([w_ua, w_la, w_hand, w_ul, w_ll, w_ft, w_ft])
    return W


_PARENT_ROW = np.array([BI.get(H.PARENT[b], -1) if H.PARENT[b] is not None else -1 for b in BODY_BONES])


def world_to_local(W: np.ndarray) -> np.ndarray:
    """local = inverse(parent world) * world for BODY_BONES rows (the hips' parent is the root)."""
    parent = np.where(_PARENT_ROW[:, None] >= 0, W[np.maximum(_PARENT_ROW, 0)], quat.IDENTITY)
    return quat.multiply(quat.conjugate(parent), W)


def _depth_levels() -> list[tuple[np.ndarray, np.ndarray]]:
    """BODY_BONES rows grouped by depth below the hips, with their parents' rows (root level excluded)."""
    depth = np.zeros(len(BODY_BONES), int)
    for b in H._TOPO:
        if b in BI and _PARENT_ROW[BI[b]] >= 0:
            depth[BI[b]] = depth[_PARENT_ROW[BI[b]]] + 1
    return [(rows, _PARENT_ROW[rows]) for d in range(1, depth.max() + 1) for rows in [np.flatnonzero(depth == d)]]


_LEVELS = _depth_levels()
_SPINE_ROWS = np.array([BI[b] for b in ("Hips", "Spine", "Chest", "UpperChest")])  # the root down to UpperChest
_ROOTS = _PARENT_ROW < 0


def local_to_world(L: np.ndarray) -> np.ndarray:
    """Parent world * local down the tree, one depth level at a time."""
    W = np.empty_like(L)
    W[_ROOTS] = L[_ROOTS]
    for rows, parents in _LEVELS:
        W[rows] = quat.multiply(W[parents], L[rows])
    return W


def rest_pose(s: BodySettings, seated: float) -> np.ndarray:
    """(22, 4) local rest rotations: arms hanging `arm_rest_down_deg`, legs blended standing->seated by `seated`."""
    R = np.tile(quat.IDENTITY, (len(BODY_BONES), 1))
    a = np.radians(s.arm_rest_down_deg)
    R[BI["LeftUpperArm"]] = quat.axis_angle(np.array([0, 0, 1.0]), a)
    R[BI["RightUpperArm"]] = quat.axis_angle(np.array([0, 0, 1.0]), -a)
    hip = quat.axis_angle(np.array([1.0, 0, 0]), -np.radians(s.seated_hip_deg) * seated)
    knee = quat.axis_angle(np.array([1.0, 0, 0]), np.radians(s.seated_knee_deg) * seated)
    for side in ("Left", "Right"):
        R[BI[side + "UpperLeg"]] = hip
        R[BI[side + "LowerLeg"]] = knee
    return R


class BodySolver:
    """Stateful per-stream solver: gating, mode switching, filtering and mirroring around solve_world."""

    def __init__(self, settings: BodySettings = BodySettings(), mirror: bool = False, still_images: bool = False):
        settings.validate()
        self.s = settings
        self.mirror = mirror
        self.still = still_images
        groups = {g: [BI[b] for b in bones] for g, (_, bones) in LIMBS.items()}
        self.gate = LimbGate(groups, len(BODY_BONES), settings.gate)
        self.smoother = RotationSmoother(settings.min_cutoff, settings.beta, settings.d_cutoff)
        self.reset()

    def reset(self) -> None:
        self.gate.reset()
        self.smoother.reset()
        self._upper = self.s.mode == "upper"
        self._upper_w = 1.0 if self._upper else 0.0
        self._pending_since: float | None = None
        self._t: float | None = None
        self._root = np.zeros(3)
        self._rest: tuple[float | None, np.ndarray | None] = (None, None)
        self.found = False

    # --- mode -----------------------------------------------------------------------------------------
    def _update_mode(self, legs_visible: bool | None, t: float, dt: float) -> None:
        if self.s.mode != "auto":
            self._upper = self.s.mode == "upper"
        elif legs_visible is not None and legs_visible == self._upper:  # state disagrees with the mode
            if self.still:
                self._upper = not legs_visible
            elif self._pending_since is None:
                self._pending_since = t
            elif t - self._pending_since >= self.s.mode_switch_s:
                self._upper = not legs_visible
                self._pending_since = None
        else:
            self._pending_since = None
        target = 1.0 if self._upper else 0.0
        if self.still or self.s.mode_ease_s <= 0:
            self._upper_w = target
        else:
            step = dt / self.s.mode_ease_s
            self._upper_w = min(target, self._upper_w + step) if target > self._upper_w else max(target, self._upper_w - step)

    def _aim_head(self, held: np.ndarray, w: np.ndarray, rest: np.ndarray, head: np.ndarray) -> None:
        """Neck and Head under the torso that will be output, not the pose's: a held or resting torso
        (hips fixed when seated, shoulders or hips out of view) must not tilt the face tracker's head,
        which is a world rotation. The neck takes `neck_share` of the turn from the upper chest."""
        chain = quat.slerp(rest[_SPINE_ROWS], held[_SPINE_ROWS], w[_SPINE_ROWS])
        upper_chest = chain[0]
        for q in chain[1:]:
            upper_chest = quat.multiply(upper_chest, q)
        neck = quat.slerp(upper_chest, head, self.s.neck_share)
        held[BI["Neck"]] = quat.multiply(quat.conjugate(upper_chest), neck)
        held[BI["Head"]] = quat.multiply(quat.conjugate(neck), head)

    @property
    def mode(self) -> str:
        return "upper" if self._upper else "full"

    # --- per frame ------------------------------------------------------------------------------------
    def solve(self, world_landmarks: np.ndarray | None, visibility: np.ndarray | None, t: float,
              landmarks: np.ndarray | None = None, head_rotation: np.ndarray | None = None,
              hand_world: dict[str, np.ndarray] | None = None) -> BodyPose:
        """One frame. world_landmarks/visibility: PoseObservation.world/.visibility (None when no pose).

        `landmarks` (normalized image coordinates) drive the root's sideways motion; `head_rotation`
        (subject space, e.g. FaceState.head_rotation before mirroring) replaces the pose's head;
        `hand_world` {'Left'/'Right': rotation} (HandSolver's subject-space hand rotations) replaces the
        pose's coarse hands. All inputs are subject space / unmirrored; mirroring happens here.
        """
        dt = 0.0 if self._t is None or self.still else max(0.0, t - self._t)
        self._t = t
        found = world_landmarks is not None
        self.found = found
        if found:
            P = subject_points(world_landmarks)
            vis = np.asarray(visibility, dtype=np.float64) if visibility is not None else np.ones(len(P))
            legs_visible = bool(np.min(vis[_LEG_IDX]) >= self.s.leg_visibility)
        else:
            vis = None
            legs_visible = None
        self._update_mode(legs_visible, t, dt)
        seated = self._upper_w
        if self._rest[0] != seated:  # constant but for the seated blend, which is mostly 0 or 1
            self._rest = (seated, rest_pose(self.s, seated))
        rest = self._rest[1]
        if found:
            W = solve_world(P, seated, head_rotation, hand_world, self.s.neck_share, self.s.forearm_twist_share)
            local = world_to_local(W)
            seen = {g: self.gate.visible(g, v) for g, v in zip(LIMBS, vis[_LIMB_IDX].min(axis=1).tolist())}
            if head_rotation is not None:
                seen["head"] = seen["head"] or seen["torso"]
            if hand_world:
                for side in ("Left", "Right"):
                    if hand_world.get(side) is not None:
                        seen[side.lower() + "_hand"] = True
            if self._upper:
                for g in ("left_leg", "right_leg", "left_foot", "right_foot"):
                    seen[g] = False
            seen["hips"] = seen["hips"] and not self._upper
        else:
            local = self.gate.held.copy()
            seen = {g: False for g in LIMBS}
        held, w = self.gate(local, seen, t, self.still, rest)
        # Hips: fixed (identity) in upper-body mode, blended by the mode weight
        w[BI["Hips"]] *= 1.0 - seated
        if found and head_rotation is not None and seen["head"]:
            self._aim_head(held, w, rest, np.asarray(head_rotation, dtype=np.float64))
        out = self.smoother(held, w, rest, t, self.still)
        world = local_to_world(out)
        if found and self.s.move_root:
            self._root = self._root_position(P, landmarks) * (1.0 - seated)  # hips fixed when seated
        elif not self.s.move_root:
            self._root = np.zeros(3)
        root = self._root.copy()  # held while the pose is lost
        names = BODY_BONES
        if self.mirror:
            out = _mirror(out)
            world = _mirror(world)
            root = reflect_x_pos(root)
        weights = self.gate.weight
        return BodyPose(found, names, out, world, root, self.mode, weights, self.mirror)

    def _root_position(self, P: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
        """Hips offset in avatar metres: sideways from the image, down when the hips drop (crouch)."""
        segs = P[[L_KNEE, L_ANK, R_KNEE, R_ANK]] - P[[L_HIP, L_KNEE, R_HIP, R_KNEE]]
        thigh_l, shin_l, thigh_r, shin_r = H.norm(segs)[:, 0].tolist()
        person_leg = max(1e-3, 0.5 * ((thigh_l + shin_l) + (thigh_r + shin_r)))
        avatar_leg = float(-H.REST_OFFSET["LeftLowerLeg"][1] - H.REST_OFFSET["LeftFoot"][1])
        scale = avatar_leg / person_leg * self.s.root_gain
        mid_hip = (P[L_HIP] + P[R_HIP]) / 2
        hip_height = float(np.max(mid_hip[1] - P[[L_ANK, R_ANK], 1]))  # the standing leg's height
        y = min(0.0, hip_height - person_leg) * scale
        x = 0.0
        if landmarks is not None:
            lm = np.asarray(landmarks)
            # metres per normalized x unit from the shoulder width seen in both spaces
            sw_img = abs(lm[L_SH, 0] - lm[R_SH, 0])
            sw_world = abs(P[L_SH, 0] - P[R_SH, 0])
            if sw_img > 0.02:
                x = MP_WORLD_TO_SUBJECT[0] * ((lm[L_HIP, 0] + lm[R_HIP, 0]) / 2 - 0.5) * (sw_world / sw_img) * scale
        lim = self.s.max_root_offset_m
        return np.clip(np.array([x, y, 0.0]), -lim, lim)


def _mirror(q: np.ndarray) -> np.ndarray:
    return reflect_x_quat(q[_MIRROR])
