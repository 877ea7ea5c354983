"""Pose tracking and body retargeting on real photos (COCO people in ../shared/fixtures/pose/).

The emitted local rotations are pushed through forward kinematics of a VRM T-pose skeleton with
random bone lengths (an FK written here, independent of the solver); the resulting limb directions,
elbow and knee angles must match the ones measured straight from MediaPipe's world landmarks.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import FIXTURES

cv2 = pytest.importorskip("cv2")

from bridge import landmarks as LM  # noqa: E402
from bridge.landmarks import (L_ANK, L_EL, L_HIP, L_INDEX, L_KNEE, L_PINKY, L_SH, L_TOE, L_WR, R_ANK,  # noqa: E402
                              R_EL, R_HIP, R_KNEE, R_SH, R_TOE, R_WR)
from bridge.retarget import body as B  # noqa: E402
from bridge.retarget import humanoid as H  # noqa: E402
from bridge.retarget import quat  # noqa: E402
from bridge.retarget.conventions import reflect_x_pos, subject_points  # noqa: E402

POSE = FIXTURES / "pose"
ANGLE_TOL_DEG = 2.0  # joint angles and limb directions, FK vs landmarks
SEGMENTS = {  # bone: (from landmark, to landmark)
    "LeftUpperArm": (L_SH, L_EL), "LeftLowerArm": (L_EL, L_WR), "RightUpperArm": (R_SH, R_EL),
    "RightLowerArm": (R_EL, R_WR), "LeftUpperLeg": (L_HIP, L_KNEE), "LeftLowerLeg": (L_KNEE, L_ANK),
    "RightUpperLeg": (R_HIP, R_KNEE), "RightLowerLeg": (R_KNEE, R_ANK), "LeftFoot": (L_ANK, L_TOE),
    "RightFoot": (R_ANK, R_TOE),
}
JOINTS = {  # joint: (landmarks a, b, c): angle between b-a and c-b; FK: (bone1, bone2)
    "left elbow": ((L_SH, L_EL, L_WR), ("LeftUpperArm", "LeftLowerArm")),
    "right elbow": ((R_SH, R_EL, R_WR), ("RightUpperArm", "RightLowerArm")),
    "left knee": ((L_HIP, L_KNEE, L_ANK), ("LeftUpperLeg", "LeftLowerLeg")),
    "right knee": ((R_HIP, R_KNEE, R_ANK), ("RightUpperLeg", "RightLowerLeg")),
}


def rgb(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def angle(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def fk(names, local, rng=None):
    """Independent FK: matrices from quat.to_matrix, T-pose offsets scaled by random per-bone lengths.
    Returns {bone: (world matrix, joint position)}."""
    loc = dict(zip(names, local))
    out = {}
    scale = {b: (rng.uniform(0.6, 1.6) if rng is not None else 1.0) for b in H.BONES}
    for b in H._TOPO:
        m = quat.to_matrix(loc.get(b, quat.IDENTITY))
        p = H.PARENT[b]
        if p is None:
            out[b] = (m, np.array([0.0, 1.0, 0.0]))
        else:
            pm, pp = out[p]
            out[b] = (pm @ m, pp + pm @ (H.REST_OFFSET[b] * scale[b]))
    return out


def direction(k, bone):
    return k[bone][0] @ H.REST_DIR[bone]


@pytest.fixture(scope="module")
def observations():
    from bridge.tracking.pose import PoseTracker
    obs = {}
    with PoseTracker(still_images=True) as t:
        for f in sorted(POSE.glob("*.jpg")):
            o = t.process(rgb(f), 0)
            if o is not None:
                obs[f.name] = o
    return obs


@pytest.mark.parametrize("variant", ["lite", "full"])
def test_built_pose_models_load_and_find_people(variant):
    from bridge.tracking.pose import PoseTracker, PoseTrackerSettings
    found = 0
    with PoseTracker(PoseTrackerSettings(model=variant), still_images=True) as t:
        for f in sorted(POSE.glob("*.jpg")):
            o = t.process(rgb(f), 0)
            if o is None:
                continue
            found += 1
            assert o.landmarks.shape == (33, 3) and o.world.shape == (33, 3) and o.visibility.shape == (33,)
            assert np.all(np.isfinite(o.world))
            # world landmarks are metres around the hips: a person is 0.2 - 2.5 m across
            assert 0.2 < np.ptp(o.world[:, 1]) < 2.5
    assert found >= 5, f"{variant}: people found in only {found} of 10 COCO photos"


def test_unknown_pose_model_is_one_clear_error():
    from bridge.errors import ModelError
    from bridge.tracking.pose import MODEL_VARIANTS, PoseTracker, PoseTrackerSettings
    with pytest.raises(ModelError, match="pose model 'heavy' is not one of " + ", ".join(MODEL_VARIANTS)):
        PoseTracker(PoseTrackerSettings(model="heavy"), still_images=True)


def test_fk_reproduces_limb_directions_and_joint_angles(observations):
    assert len(observations) >= 5
    rng = np.random.default_rng(3)
    checked = 0
    for name, o in observations.items():
        solver = B.BodySolver(B.BodySettings(mode="full"), mirror=False, still_images=True)
        pose = solver.solve(o.world, np.ones(33), 0.0, o.landmarks)
        assert pose.names == B.BODY_BONES
        np.testing.assert_allclose(np.linalg.norm(pose.local, axis=1), 1.0, atol=1e-9)
        P = subject_points(o.world)
        for trial in range(3):
            k = fk(pose.names, pose.local, rng)
            for bone, (a, b) in SEGMENTS.items():
                err = angle(direction(k, bone), P[b] - P[a])
                assert err < ANGLE_TOL_DEG, f"{name}: {bone} direction off by {err:.2f} deg"
            for joint, ((a, b, c), (b1, b2)) in JOINTS.items():
                observed = angle(P[b] - P[a], P[c] - P[b])
                # joint positions from FK with random bone lengths
                p1, p2 = k[b1][1], k[b2][1]
                child = {"LeftLowerArm": "LeftHand", "RightLowerArm": "RightHand",
                         "LeftLowerLeg": "LeftFoot", "RightLowerLeg": "RightFoot"}[b2]
                p3 = k[child][1]
                got = angle(p2 - p1, p3 - p2)
                assert abs(got - observed) < ANGLE_TOL_DEG, f"{name}: {joint} {got:.1f} vs {observed:.1f} deg"
                checked += 1
            # torso lines: the hips' and the upper chest's +X (the avatar's right) follow the hip and shoulder lines
            assert angle(k["Hips"][0] @ [1, 0, 0], P[R_HIP] - P[L_HIP]) < ANGLE_TOL_DEG
            assert angle(k["UpperChest"][0] @ [1, 0, 0], P[R_SH] - P[L_SH]) < ANGLE_TOL_DEG
    assert checked >= 5 * 4 * 3


def test_elbow_and_knee_are_hinges(observations):
    """Bent elbows rotate about the lower arm's local Y axis, knees about local X (anatomical hinges)."""
    for name, o in observations.items():
        pose = B.BodySolver(B.BodySettings(mode="full", forearm_twist_share=0.0), still_images=True).solve(
            o.world, np.ones(33), 0.0)
        for bone, axis in (("LeftLowerArm", 1), ("RightLowerArm", 1), ("LeftLowerLeg", 0), ("RightLowerLeg", 0)):
            q = pose.local[B.BI[bone]]
            ang = 2 * np.degrees(np.arccos(min(1.0, abs(q[3]))))
            if ang > 30:
                v = q[:3] / np.linalg.norm(q[:3])
                assert abs(v[axis]) > 0.9, f"{name}: {bone} bends about {np.round(v, 2)}"


def test_bone_length_independence(observations):
    """A person with other proportions (every segment rescaled) in the same pose gives the same rotations."""
    o = observations["COCO_val2014_000000000589.jpg"]
    W = o.world.copy()
    # rebuild the skeleton outward from the hips and shoulders with each limb segment 0.7-1.4x as long
    rng = np.random.default_rng(0)
    W2 = W * 1.3
    for chain in [(L_HIP, L_KNEE, L_ANK, L_TOE), (R_HIP, R_KNEE, R_ANK, R_TOE), (L_SH, L_EL, L_WR), (R_SH, R_EL, R_WR)]:
        for a, b in zip(chain[:-1], chain[1:]):
            W2[b] = W2[a] + (W[b] - W[a]) * 1.3 * rng.uniform(0.7, 1.4)
    for side, wrist in (("left", L_WR), ("right", R_WR)):
        tips = [LM.POSE[f"{side}_{k}"] for k in ("pinky", "index", "thumb")]
        for t in tips:
            W2[t] = W2[wrist] + (W[t] - W[wrist]) * 1.3
    s1 = B.BodySolver(B.BodySettings(mode="full", move_root=False), still_images=True)
    s2 = B.BodySolver(B.BodySettings(mode="full", move_root=False), still_images=True)
    a = s1.solve(W, np.ones(33), 0.0).local
    b = s2.solve(W2, np.ones(33), 0.0).local
    assert np.max(quat.angle_between(a, b)) < np.radians(0.5)


def test_mirror_swaps_sides_and_reflects(observations):
    o = observations["COCO_val2014_000000000536.jpg"]
    plain = B.BodySolver(B.BodySettings(mode="full"), mirror=False, still_images=True).solve(o.world, np.ones(33), 0.0, o.landmarks)
    mir = B.BodySolver(B.BodySettings(mode="full"), mirror=True, still_images=True).solve(o.world, np.ones(33), 0.0, o.landmarks)
    kp, km = fk(plain.names, plain.local), fk(mir.names, mir.local)
    flip = np.array([-1.0, 1.0, 1.0])
    for bone in SEGMENTS:
        other = H.MIRROR_NAME[bone]
        # the mirrored avatar's right arm does what the person's left arm does, reflected across YZ
        assert angle(direction(km, other), direction(kp, bone) * flip) < 1e-6
    np.testing.assert_allclose(mir.root_position, reflect_x_pos(plain.root_position))
    # reflection twice is the identity
    np.testing.assert_allclose(H.mirror_rotations(mir.names, mir.local), plain.local, atol=1e-12)


def test_upper_body_fallback_when_legs_not_visible(observations):
    seated = observations["COCO_val2014_000000000428.jpg"]  # a child behind a cake: no knees or ankles in view
    assert seated.visibility[[L_KNEE, R_KNEE, L_ANK, R_ANK]].max() < 0.5
    s = B.BodySettings(mode="auto", seated_hip_deg=90, seated_knee_deg=90)
    pose = B.BodySolver(s, still_images=True).solve(seated.world, seated.visibility, 0.0, seated.landmarks)
    assert pose.mode == "upper"
    assert quat.angle_between(pose.local[B.BI["Hips"]], quat.IDENTITY) < 1e-9
    np.testing.assert_allclose(pose.root_position, 0.0)
    k = fk(pose.names, pose.local)
    for side in ("Left", "Right"):  # thighs forward (+Z), shins down (-Y)
        assert angle(direction(k, f"{side}UpperLeg"), [0, 0, 1]) < 1.0
        assert angle(direction(k, f"{side}LowerLeg"), [0, -1, 0]) < 1.0
    # the arms are still tracked
    assert pose.weights["left_arm"] == 1.0 and pose.weights["right_arm"] == 1.0
    standing = observations["COCO_val2014_000000000589.jpg"]
    assert B.BodySolver(s, still_images=True).solve(standing.world, standing.visibility, 0.0).mode == "full"


def test_face_trackers_head_is_the_heads_world_rotation_whatever_the_torso_does(observations):
    """The face tracker's head rotation is a world one: with the hips fixed (seated) or the torso out
    of view (held at rest), the avatar's head must still turn exactly that much in the world, not by
    that much under a chest the pose solved but the avatar does not show."""
    seated = observations["COCO_val2014_000000000428.jpg"]  # upper-body mode: the hips stay fixed
    head = quat.from_euler_unity(np.radians(12.0), np.radians(-25.0))  # looks down and to its left
    hidden = seated.visibility.copy()
    hidden[[L_HIP, R_HIP]] = 0.0  # and a torso not seen: it rests, the head still follows the face
    for vis in (seated.visibility, hidden):
        pose = B.BodySolver(B.BodySettings(mode="auto"), mirror=False, still_images=True).solve(
            seated.world, vis, 0.0, seated.landmarks, head_rotation=head)
        assert pose.mode == "upper"
        assert quat.angle_between(pose.world[B.BI["Head"]], head) < 1e-6
        neck = pose.world[B.BI["Neck"]]  # the neck takes its share of the turn from the upper chest
        assert abs(quat.angle_between(pose.world[B.BI["UpperChest"]], neck)
                   - 0.5 * quat.angle_between(pose.world[B.BI["UpperChest"]], head)) < 1e-6
    assert pose.weights["torso"] == 0.0


def test_legs_cropped_out_of_a_real_photo_switch_to_upper_body():
    """The same photo, cropped above the knees: the tracker loses the legs and the solver falls back."""
    from bridge.tracking.pose import PoseTracker
    img = rgb(POSE / "COCO_val2014_000000000589.jpg")
    with PoseTracker(still_images=True) as t:
        full = t.process(img, 0)
        knee_y = int(full.landmarks[[L_KNEE, R_KNEE], 1].min() * img.shape[0])
        cropped = t.process(np.ascontiguousarray(img[: max(knee_y - 25, 10)]), 1)
    s = B.BodySettings(mode="auto")
    assert B.BodySolver(s, still_images=True).solve(full.world, full.visibility, 0.0).mode == "full"
    assert cropped is not None
    assert B.BodySolver(s, still_images=True).solve(cropped.world, cropped.visibility, 0.0).mode == "upper"


def test_limb_leaving_the_frame_eases_to_rest_without_jumps(observations):
    """Video mode at 30 fps: the left arm's landmarks become invisible; the arm holds, then eases to rest."""
    o = observations["COCO_val2014_000000000536.jpg"]
    st = B.BodySettings(mode="full")
    solver = B.BodySolver(st)
    i = B.BI["LeftUpperArm"]
    rest = B.rest_pose(st, 0.0)[i]
    outs, weights = [], []
    for f in range(60):
        vis = np.ones(33)
        if f >= 20:
            vis[[L_EL, L_WR, L_PINKY, L_INDEX, LM.POSE["left_thumb"]]] = 0.05  # elbow and wrist gone
        # the tracker's guesses for invisible points wander: they must not reach the avatar
        world = o.world.copy()
        if f >= 20:
            world[[L_EL, L_WR]] += np.random.default_rng(f).normal(0, 0.15, (2, 3))
        pose = solver.solve(world, vis, f / 30.0)
        outs.append(pose.local[i])
        weights.append(pose.weights["left_arm"])
    outs = np.array(outs)
    steps = np.degrees(quat.angle_between(outs[1:], outs[:-1]))
    assert steps.max() < 12.0, f"the arm jumped {steps.max():.1f} deg in one frame"
    assert weights[19] == 1.0 and weights[25] == 1.0  # held for hold_s
    assert weights[-1] == 0.0 and np.all(np.diff(weights[20:]) <= 0)
    assert np.degrees(quat.angle_between(outs[-1], rest)) < 1.0
    # unit quaternions with continuous signs throughout
    np.testing.assert_allclose(np.linalg.norm(outs, axis=1), 1.0, atol=1e-9)
    assert np.all(np.sum(outs[1:] * outs[:-1], axis=1) > 0)


def test_video_sequence_unit_and_sign_continuous():
    """Real video through the VIDEO-mode tracker and the filtered solver: unit quaternions, no sign flips."""
    from bridge.tracking.pose import PoseTracker
    cap = cv2.VideoCapture(str(FIXTURES / "face" / "expressions_pexels.mp4"))
    solver = B.BodySolver(B.BodySettings(mode="auto"), mirror=True)
    prev, found = None, 0
    with PoseTracker() as t:
        for f in range(45):
            ok, bgr = cap.read()
            assert ok
            o = t.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), int(f * 1000 / 24))
            found += o is not None
            pose = solver.solve(None if o is None else o.world, None if o is None else o.visibility, f / 24.0,
                                None if o is None else o.landmarks)
            np.testing.assert_allclose(np.linalg.norm(pose.local, axis=1), 1.0, atol=1e-9)
            if prev is not None:
                assert np.all(np.sum(pose.local * prev, axis=1) > 0), "quaternion sign flipped between frames"
            prev = pose.local
    assert found >= 30
    assert solver.mode == "upper"  # a head-and-shoulders video


def test_face_head_rotation_drives_head_and_neck(observations):
    o = observations["COCO_val2014_000000000589.jpg"]
    head = quat.from_euler_unity(np.radians(10), np.radians(30), 0.0)
    pose = B.BodySolver(B.BodySettings(mode="full", neck_share=0.5), still_images=True).solve(
        o.world, np.ones(33), 0.0, head_rotation=head)
    assert quat.angle_between(pose.world[B.BI["Head"]], head) < 1e-6
    world = B.local_to_world(pose.local)
    assert quat.angle_between(world[B.BI["Head"]], head) < 1e-6


def test_settings_are_validated():
    with pytest.raises(ValueError, match="auto, full or upper"):
        B.BodySolver(B.BodySettings(mode="sitting"))
    with pytest.raises(ValueError, match="neck_share"):
        B.BodySolver(B.BodySettings(neck_share=1.5))


def test_humanoid_tables_match_unity():
    assert len(H.BONES) == 55 and H.BONES[0] == "Hips" and H.BONES[54] == "UpperChest"
    assert H.INDEX["LeftThumbProximal"] == 24 and H.INDEX["RightLittleDistal"] == 53 and H.INDEX["Jaw"] == 23
    assert H.PARENT["LeftShoulder"] == "UpperChest" and H.PARENT["Neck"] == "UpperChest"
    assert H.PARENT["RightIndexProximal"] == "RightHand" and H.PARENT["LeftToes"] == "LeftFoot"
    np.testing.assert_allclose(H.REST_DIR["LeftUpperArm"], [-1, 0, 0])
    np.testing.assert_allclose(H.REST_DIR["RightIndexIntermediate"], [1, 0, 0])
    np.testing.assert_allclose(H.REST_DIR["LeftUpperLeg"], [0, -1, 0])
    np.testing.assert_allclose(H.REST_DIR["Spine"], [0, 1, 0])
    np.testing.assert_allclose(H.REST_DIR["RightThumbProximal"], np.array([1, 0, 1]) / np.sqrt(2))
