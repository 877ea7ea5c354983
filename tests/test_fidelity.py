"""The fidelity reference: limb directions from MediaPipe landmarks in the avatar frame."""
import numpy as np

from bridge import fidelity
from bridge.landmarks import POSE


def test_raised_left_arm_points_up_on_the_left_and_mirrors_onto_the_right():
    world = np.zeros((33, 3))
    vis = np.ones(33)
    world[POSE["left_shoulder"]] = [0.2, -0.5, 0]  # MediaPipe: x towards image right = the person's left, y down
    world[POSE["left_elbow"]] = [0.4, -0.5, 0]  # straight out to the person's left
    world[POSE["left_wrist"]] = [0.4, -0.8, 0]  # forearm up
    world[POSE["right_shoulder"]] = [-0.2, -0.5, 0]
    world[POSE["right_elbow"]] = [-0.2, -0.2, 0.1]
    vis[[POSE["right_wrist"], POSE["left_knee"]]] = 0.2  # out of view
    first = fidelity.person_directions(world, vis, {}, mirror=False)
    np.testing.assert_allclose(first["LeftUpperArm"], [-1, 0, 0], atol=1e-9)  # avatar's left is -X in Unity
    np.testing.assert_allclose(first["LeftLowerArm"], [0, 1, 0], atol=1e-9)
    assert "RightLowerArm" not in first and "LeftUpperLeg" not in first  # not seen: no reference
    mirrored = fidelity.person_directions(world, vis, {}, mirror=True)
    np.testing.assert_allclose(mirrored["RightUpperArm"], [1, 0, 0], atol=1e-9)
    np.testing.assert_allclose(mirrored["RightLowerArm"], [0, 1, 0], atol=1e-9)
    vis[POSE["left_wrist"]] = 0.1
    assert "LeftLowerArm" not in fidelity.person_directions(world, vis, {}, mirror=False)


def test_summary_pools_limbs_into_groups():
    s = fidelity.summary({"LeftUpperArm": [1.0, 3.0], "RightLowerLeg": [5.0], "LeftIndex": [20.0]})
    assert s["body"]["median"] == 3.0 and s["body"]["n"] == 3 and s["fingers"]["median"] == 20.0
    a = {"LeftHand": np.array([1.0, 0, 0])}
    assert fidelity.compare({0: a}, {0: {"LeftHand": np.array([0, 1.0, 0])}}) == {"LeftHand": [90.0]}


def test_head_points_where_the_face_matrix_says_and_mirrors():
    assert np.allclose(fidelity.person_directions(None, None, {}, False, np.eye(4))["Head"], [0, 0, 1])  # at the camera
    a = np.radians(30)  # MediaPipe's frame: +Y up, the face turned towards image right, the person's own left
    turned = np.eye(4)
    turned[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    first = fidelity.person_directions(None, None, {}, False, turned)
    np.testing.assert_allclose(first["Head"], [-np.sin(a), 0, np.cos(a)], atol=1e-9)  # the avatar's left is -X
    assert list(first) == ["Head"]  # no body: no limbs
    mirrored = fidelity.person_directions(None, None, {}, True, turned)
    np.testing.assert_allclose(mirrored["Head"], [np.sin(a), 0, np.cos(a)], atol=1e-9)
    assert fidelity.group_of("Head") == "head"
    assert fidelity.avatar_directions({}, np.array([0, 0, 2.0]))["Head"].tolist() == [0, 0, 1]
