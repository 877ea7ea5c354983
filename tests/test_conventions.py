"""The conventions stated once (bridge/landmarks.py, bridge/retarget/conventions.py), checked against
MediaPipe's own landmark enums, real photos of people and real Kinect skeletons; and the import
direction they exist for: tracking takes nothing from the stages after it."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from bridge import landmarks as LM
from bridge.classify import action as act
from bridge.retarget import quat
from bridge.retarget.conventions import kinect_points, reflect_x_pos, reflect_x_quat, subject_points
from conftest import FIXTURES, ROOT

cv2 = pytest.importorskip("cv2")

LATER_STAGES = ("retarget", "classify", "mapping", "frame", "protocols", "transports", "pipeline", "reactions")


@pytest.fixture(scope="module")
def frontal_poses():
    """Pose observations of the COCO people who face the camera (their left shoulder on the image's right)."""
    from bridge.tracking.pose import PoseTracker
    out = []
    with PoseTracker(still_images=True) as t:
        for f in sorted((FIXTURES / "pose").glob("*.jpg")):
            o = t.process(cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB), 0)
            if (o is not None and o.visibility[[LM.NOSE, LM.L_SH, LM.R_SH]].min() > 0.9
                    and o.landmarks[LM.L_SH, 0] - o.landmarks[LM.R_SH, 0] > 0.05):
                out.append((f.name, o))
    assert len(out) >= 3, f"only {len(out)} frontal people in the COCO photos"
    return out


def test_landmark_names_are_mediapipes():
    from mediapipe.tasks.python.vision.hand_landmarker import HandLandmark
    from mediapipe.tasks.python.vision.pose_landmarker import PoseLandmark
    assert LM.POSE_NAMES == tuple(p.name.lower() for p in sorted(PoseLandmark))
    assert LM.HAND_NAMES == tuple(p.name.lower() for p in sorted(HandLandmark))
    assert LM.FINGER_CHAINS["Thumb"] == tuple(HandLandmark[f"THUMB_{k}"] for k in ("CMC", "MCP", "IP", "TIP"))
    assert LM.FINGER_CHAINS["Little"] == tuple(HandLandmark[f"PINKY_{k}"] for k in ("MCP", "PIP", "DIP", "TIP"))
    # the five chains and the wrist are the 21 landmarks, each once
    assert sorted([LM.WRIST] + [i for c in LM.FINGER_CHAINS.values() for i in c]) == list(range(21))


def test_subject_space_on_real_people(frontal_poses):
    """Subject space is Unity's frame with the avatar's left = the person's left: -X left, +Y up, +Z forward."""
    for name, o in frontal_poses:
        P = subject_points(o.world)
        assert P[LM.L_SH, 0] < P[LM.R_SH, 0] and P[LM.L_HIP, 0] < P[LM.R_HIP, 0], name
        assert min(P[LM.NOSE, 1], P[[LM.L_SH, LM.R_SH], 1].mean()) > P[[LM.L_HIP, LM.R_HIP], 1].max() + 0.2, name
        assert P[LM.NOSE, 2] > P[[LM.L_EAR, LM.R_EAR], 2].mean(), name  # the nose is in front of the ears


def _chirality(right: np.ndarray, up: np.ndarray) -> float:
    """z of (subject's right x up): in a right-handed frame with x right and y up, + means z points backwards."""
    return float(np.cross(right, up)[2])


def test_action_frame_matches_the_kinect_skeletons(frontal_poses):
    """MediaPipe people go into the action model in the same frame as MSR Action3D's Kinect skeletons:
    x the subject's right, y up, z away from the sensor (towards the subject's back)."""
    J = act.J
    msr = act.load_msr_skeleton(FIXTURES / "action" / "msr_action3d" / "a13_s01_e01_skeleton3D.txt")[0]
    for name, j in [("msr", msr)] + [(n, act.joints_from_mediapipe(o.world)) for n, o in frontal_poses]:
        right = j[J["right_shoulder"]] - j[J["left_shoulder"]]
        up = j[J["neck"]] - j[J["hip_center"]]
        assert right[0] > 0 and up[1] > 0, name
        assert _chirality(right, up) > 0, name
    for _, o in frontal_poses:
        K = kinect_points(o.world)
        assert K.dtype == np.float32
        assert K[LM.NOSE, 2] < K[[LM.L_EAR, LM.R_EAR], 2].mean()  # the nose is nearer the sensor
        np.testing.assert_array_equal(K, (subject_points(o.world) * (1, 1, -1)).astype(np.float32))


def test_mirror_is_the_reflection_across_yz():
    """reflect_x_quat(q) is the rotation S R(q) S with S = diag(-1, 1, 1); reflect_x_pos is S p."""
    rng = np.random.default_rng(1)
    S = np.diag([-1.0, 1.0, 1.0])
    for q in rng.normal(size=(20, 4)):
        q /= np.linalg.norm(q)
        np.testing.assert_allclose(quat.to_matrix(reflect_x_quat(q)), S @ quat.to_matrix(q) @ S, atol=1e-12)
        p = rng.normal(size=3)
        np.testing.assert_allclose(reflect_x_pos(p), S @ p)


def _imports(path: Path) -> set[str]:
    """Absolute names of the bridge modules a file imports (relative imports resolved)."""
    pkg = path.relative_to(ROOT).with_suffix("").parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = pkg[:len(pkg) - node.level + 1] if node.level else ()
            mod = ".".join(base + ((node.module,) if node.module else ()))
            out |= {mod} | {f"{mod}.{a.name}" for a in node.names}
    return {m for m in out if m.startswith("bridge")}


def test_tracking_imports_nothing_downstream():
    for path in sorted((ROOT / "bridge" / "tracking").glob("*.py")):
        back = [m for m in _imports(path) if m.split(".")[1] in LATER_STAGES]
        assert not back, f"{path.name} imports {back}"


@pytest.mark.parametrize("leaf", ["landmarks.py", "retarget/conventions.py", "retarget/quat.py"])
def test_convention_modules_are_leaves(leaf):
    assert _imports(ROOT / "bridge" / leaf) == set()
