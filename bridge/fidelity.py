"""Does the avatar move like the person? Limb and head directions of an avatar, as a consumer
(three-vrm, Blender) posed it, against the same directions measured by an independent MediaPipe run
on the frames.

The reference runs MediaPipe's own task API on each decoded frame (IMAGE mode, the full pose model,
hands assigned to sides by the nearest pose wrist, the face landmarker's transformation matrix for
the head): none of the sidecar's tracking, filtering or retargeting is on this path, so an error
there shows up here. Directions are unit vectors in the avatar frame of
`bridge/retarget/conventions.py` (Unity: +Y up, the avatar faces +Z, +X its right); `Head` is the
way the face points (the avatar's +Z turned by its head).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import landmarks as lm
from .retarget.conventions import MP_TO_SUBJECT, reflect_x_pos, subject_points

SIDES = ("Left", "Right")
# limb -> (joint it starts at, joint it points to), as Unity HumanBodyBones: what a consumer reads
# off its posed avatar (the bones' world positions).
LIMBS: dict[str, tuple[str, str]] = {}
for _s in SIDES:
    LIMBS |= {f"{_s}UpperArm": (f"{_s}UpperArm", f"{_s}LowerArm"), f"{_s}LowerArm": (f"{_s}LowerArm", f"{_s}Hand"),
              f"{_s}UpperLeg": (f"{_s}UpperLeg", f"{_s}LowerLeg"), f"{_s}LowerLeg": (f"{_s}LowerLeg", f"{_s}Foot"),
              f"{_s}Hand": (f"{_s}Hand", f"{_s}MiddleProximal"),
              f"{_s}Index": (f"{_s}IndexProximal", f"{_s}IndexDistal"),
              f"{_s}Thumb": (f"{_s}ThumbIntermediate", f"{_s}ThumbDistal")}
HEAD = "Head"  # the face's forward direction: no joint pair, read off the head's rotation
GROUPS = {"body": ("UpperArm", "LowerArm", "UpperLeg", "LowerLeg"), "hand": ("Hand",), "fingers": ("Index", "Thumb"),
          "head": (HEAD,)}
GOALS_DEG = {"body": 10.0, "hand": 15.0, "fingers": 15.0, "head": 5.0}

_POSE_LIMBS = {"UpperArm": ("shoulder", "elbow"), "LowerArm": ("elbow", "wrist"),
               "UpperLeg": ("hip", "knee"), "LowerLeg": ("knee", "ankle")}
_HAND_LIMBS = {"Hand": (lm.WRIST, lm.MIDDLE_MCP),
               "Index": (lm.HAND["index_finger_mcp"], lm.HAND["index_finger_dip"]),
               "Thumb": (lm.HAND["thumb_mcp"], lm.HAND["thumb_ip"])}
MIN_VISIBILITY = 0.5


def group_of(limb: str) -> str:
    core = limb.removeprefix("Left").removeprefix("Right")
    return next(g for g, parts in GROUPS.items() if core in parts)


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else None


def face_forward(matrix: np.ndarray) -> np.ndarray:
    """The way a face points, in subject space, from MediaPipe's facial transformation matrix: the
    canonical face looks along its +Z (towards the camera), and the matrix's frame differs from
    subject space by X alone (conventions.py)."""
    return _unit(MP_TO_SUBJECT @ np.asarray(matrix, float)[:3, 2])


def person_directions(pose_world: np.ndarray | None, visibility: np.ndarray | None, hands: dict[str, np.ndarray],
                      mirror: bool, face_matrix: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """One frame's directions from MediaPipe: pose world landmarks (33, 3) with visibility (33,)
    (None: no body found), hands {person's side: (21, 3)} and the face's transformation matrix. With
    `mirror` the avatar is the person's reflection: its left limb follows the person's right one,
    and everything is reflected across the avatar's YZ plane."""
    person: dict[str, np.ndarray] = {}
    if face_matrix is not None and (d := face_forward(face_matrix)) is not None:
        person[HEAD] = d
    pose = subject_points(pose_world) if pose_world is not None else None
    for side in SIDES:
        s = side.lower()
        for limb, (a, b) in _POSE_LIMBS.items() if pose is not None else ():
            i, j = lm.POSE[f"{s}_{a}"], lm.POSE[f"{s}_{b}"]
            if min(visibility[i], visibility[j]) >= MIN_VISIBILITY and (d := _unit(pose[j] - pose[i])) is not None:
                person[side + limb] = d
        if side in hands:
            pts = subject_points(hands[side])
            for limb, (i, j) in _HAND_LIMBS.items():
                if (d := _unit(pts[j] - pts[i])) is not None:
                    person[side + limb] = d
    if not mirror:
        return person
    return {_other_side(k): reflect_x_pos(v) for k, v in person.items()}


def _other_side(name: str) -> str:
    for a, b in (("Left", "Right"), ("Right", "Left")):
        if name.startswith(a):
            return b + name[len(a):]
    return name


def avatar_directions(joints: dict[str, np.ndarray], head_forward: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Limbs of a posed avatar from its joints' world positions {Unity bone: (3,)} in the avatar
    frame, and its head's forward direction when the consumer read one off."""
    out = {}
    if head_forward is not None and (d := _unit(np.asarray(head_forward, float))) is not None:
        out[HEAD] = d
    for limb, (a, b) in LIMBS.items():
        if a in joints and b in joints and (d := _unit(np.asarray(joints[b], float) - np.asarray(joints[a], float))) is not None:
            out[limb] = d
    return out


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b), -1.0, 1.0))))


def compare(reference: dict[int, dict[str, np.ndarray]], avatar: dict[int, dict[str, np.ndarray]]) -> dict[str, list[float]]:
    """Per limb, the angles between avatar and reference over the frames both have."""
    angles: dict[str, list[float]] = {}
    for f, ref in reference.items():
        for limb, d in ref.items():
            if limb in avatar.get(f, {}):
                angles.setdefault(limb, []).append(angle_deg(d, avatar[f][limb]))
    return angles


def summary(angles: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Per limb group: median and 90th percentile angle (degrees) and the number of samples."""
    pooled: dict[str, list[float]] = {}
    for limb, a in angles.items():
        pooled.setdefault(group_of(limb), []).extend(a)
    return {g: {"median": float(np.median(a)), "p90": float(np.percentile(a, 90)), "n": len(a)}
            for g, a in pooled.items() if a}


def reference_directions(video: Path, frame_indices: list[int] | None, mirror: bool) -> dict[int, dict[str, np.ndarray]]:
    """Decode `video` and measure the limbs and the head on the wanted frames (all when None) with MediaPipe."""
    import cv2
    import mediapipe as mp
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    from .models import load_model
    from .tracking.native_logs import quiet_native_logs

    def options(name: str):
        return BaseOptions(model_asset_path=str(load_model(name).path))

    with quiet_native_logs():
        pose = vision.PoseLandmarker.create_from_options(vision.PoseLandmarkerOptions(
            base_options=options("pose_landmarker_full"), running_mode=vision.RunningMode.IMAGE))
        hands = vision.HandLandmarker.create_from_options(vision.HandLandmarkerOptions(
            base_options=options("hand_landmarker"), running_mode=vision.RunningMode.IMAGE, num_hands=2))
        face = vision.FaceLandmarker.create_from_options(vision.FaceLandmarkerOptions(
            base_options=options("face_landmarker"), running_mode=vision.RunningMode.IMAGE, num_faces=1,
            output_facial_transformation_matrixes=True))
    wanted = None if frame_indices is None else set(frame_indices)
    cap = cv2.VideoCapture(str(video))
    out: dict[int, dict[str, np.ndarray]] = {}
    index = -1
    try:
        while wanted is None or (wanted and index < max(wanted)):
            ok, bgr = cap.read()
            if not ok:
                break
            index += 1
            if wanted is not None and index not in wanted:
                continue
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            f = face.detect(image)
            matrix = np.array(f.facial_transformation_matrixes[0]) if f.facial_transformation_matrixes else None
            p = pose.detect(image)
            world = vis = None
            found: dict[str, np.ndarray] = {}
            if p.pose_world_landmarks:  # hands need the pose's wrists to know their side
                world = np.array([[q.x, q.y, q.z] for q in p.pose_world_landmarks[0]])
                vis = np.array([q.visibility for q in p.pose_landmarks[0]])
                img = np.array([[q.x, q.y] for q in p.pose_landmarks[0]])
                h = hands.detect(image)
                for norm, hw in zip(h.hand_landmarks, h.hand_world_landmarks):
                    wrist = np.array([norm[lm.WRIST].x, norm[lm.WRIST].y])
                    side = min(SIDES, key=lambda s: float(np.linalg.norm(img[lm.POSE[f"{s.lower()}_wrist"]] - wrist)))
                    found[side] = np.array([[q.x, q.y, q.z] for q in hw])
            if d := person_directions(world, vis, found, mirror, matrix):
                out[index] = d
    finally:
        cap.release()
        pose.close()
        hands.close()
        face.close()
    return out
