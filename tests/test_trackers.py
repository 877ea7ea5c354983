"""The VRChat tracker solver (bridge/retarget/trackers.py) on real pose landmarks from the fixtures:
Unity Euler angles, first person whatever the mirror, proportions scaled to the height, hold then drop."""
import cv2
import numpy as np
import pytest

from bridge.frame import FaceState
from bridge.retarget import quat
from bridge.retarget.body import BodySolver
from bridge.retarget.trackers import TrackerSettings, TrackerSolver
from conftest import FIXTURES

NTU = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"
ALL = ("hip", "chest", "left_foot", "right_foot", "left_knee", "right_knee", "left_elbow", "right_elbow")


@pytest.fixture(scope="module")
def poses():
    """The first 40 frames of a real standing person, tracked by the real pose landmarker (its
    visibilities ramp up over the first ten or so)."""
    from bridge.tracking.pose import PoseTracker
    cap = cv2.VideoCapture(str(NTU))
    tracker = PoseTracker()
    out = []
    try:
        for i in range(40):
            ok, bgr = cap.read()
            assert ok
            obs = tracker.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), i * 33)
            assert obs is not None
            out.append((i / 30.0, obs))
    finally:
        tracker.close()
        cap.release()
    return out


def _run(poses, mirror=False, height=1.7, names=ALL, visibility=None):
    body = BodySolver(mirror=mirror)
    solver = TrackerSolver(TrackerSettings(names, height))
    face = FaceState.neutral()
    out = []
    for t, obs in poses:
        vis = obs.visibility if visibility is None else visibility(t, obs.visibility)
        bp = body.solve(obs.world, vis, t, obs.landmarks)
        out.append(solver.solve(obs.world, vis, bp, face, t))
    return out


def test_unity_euler_angles_round_trip_in_z_x_y_order():
    rng = np.random.default_rng(0)
    for x, y, z in rng.uniform([-80, -170, -170], [80, 170, 170], (50, 3)):
        q = quat.from_euler_unity(np.radians(x), np.radians(y), np.radians(z))
        np.testing.assert_allclose(quat.to_euler_deg(q), (x, y, z), atol=1e-6)
    # Unity: Quaternion.Euler(0, 90, 0) turns forward (+Z) to the right (+X); (90, 0, 0) pitches it down
    fwd = np.array([0, 0, 1.0])
    np.testing.assert_allclose(quat.to_matrix(quat.from_euler_unity(0, np.pi / 2)) @ fwd, [1, 0, 0], atol=1e-9)
    np.testing.assert_allclose(quat.to_matrix(quat.from_euler_unity(np.pi / 2, 0)) @ fwd, [0, -1, 0], atol=1e-9)


def test_standing_person_geometry(poses):
    tr = _run(poses)[-1]
    assert tr is not None and set(ALL) - {"right_elbow"} <= set(tr.names)  # the right arm is behind the cup
    p = dict(zip(tr.names, tr.positions))
    assert np.all(np.isfinite(tr.positions)) and np.all(np.isfinite(tr.rotations))
    # the floor is under the feet, the hip at about Drillis & Contini's 0.53 of the height
    assert 0.0 <= p["left_foot"][1] < 0.2 and 0.0 <= p["right_foot"][1] < 0.2
    assert 0.45 * 1.7 < p["hip"][1] < 0.62 * 1.7
    assert p["left_foot"][1] < p["left_knee"][1] < p["hip"][1] < p["chest"][1] < tr.head_position[1]
    # first person: the subject's left is -X
    assert p["left_foot"][0] < p["hip"][0] and p["left_foot"][0] < p["right_foot"][0]
    hip_right = quat.to_matrix(tr.rotations[tr.names.index("hip")]) @ [1.0, 0, 0]  # the hips' +X, the person's right
    assert np.dot(p["right_foot"] - p["left_foot"], hip_right) > 0.1
    assert p["left_elbow"][0] < p["chest"][0]
    np.testing.assert_allclose(np.linalg.norm(tr.rotations, axis=1), 1.0, atol=1e-6)


def test_trackers_scale_with_the_height(poses):
    short, tall = _run(poses, height=1.5)[-1], _run(poses, height=1.9)[-1]
    # to scale, up to the One Euro filter (its speed term is in m/s, so not exactly scale-free)
    np.testing.assert_allclose(tall.positions, short.positions * 1.9 / 1.5, rtol=0.02, atol=0.005)
    np.testing.assert_allclose(tall.rotations, short.rotations, atol=1e-12)


def test_never_mirrored(poses):
    a, b = _run(poses, mirror=False)[-1], _run(poses, mirror=True)[-1]
    assert a.names == b.names
    np.testing.assert_allclose(a.positions, b.positions, atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(a.rotations * b.rotations, axis=1)), 1.0, atol=1e-9)


def test_unseen_legs_are_held_then_dropped(poses):
    from bridge.landmarks import L_ANK, L_HEEL, L_KNEE, L_TOE

    def hide_left_leg(t, vis):  # from frame 25 on, as if the left leg left the image
        if t < 25 / 30.0:
            return vis
        v = vis.copy()
        v[[L_KNEE, L_ANK, L_HEEL, L_TOE]] = 0.1
        return v

    out = _run(poses, visibility=hide_left_leg)
    held = out[26].positions[out[26].names.index("left_foot")]
    np.testing.assert_array_equal(held, out[24].positions[out[24].names.index("left_foot")])
    late = [tr for (t, _), tr in zip(poses, out) if t > 24 / 30.0 + 0.3 + 1e-9]
    assert late and all("left_foot" not in tr.names and "left_knee" not in tr.names for tr in late)
    assert all("right_foot" in tr.names for tr in late)


def test_unknown_tracker_name():
    with pytest.raises(ValueError, match="unknown tracker 'tail'"):
        TrackerSolver(TrackerSettings(("hip", "tail")))
