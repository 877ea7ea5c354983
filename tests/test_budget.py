"""`[source] budget = "low"`: it really picks cheaper settings, and still tracks."""
import numpy as np
import pytest

from bridge.config import ConfigError, from_tables
from bridge.tracking.combined import Trackers
from conftest import FACE
from helpers import run_frames

CLIP = FACE / "expressions_pexels.mp4"
BODY_CLIP = FACE.parent / "body" / "ntu_S001C001P001R001A001_rgb.avi"


def test_low_budget_picks_the_cheaper_settings():
    normal = from_tables({"pose": {"enabled": True, "model": "full"}})
    low = from_tables({"source": {"budget": "low"}, "pose": {"enabled": True, "model": "full"}})
    assert (normal.pose.model, normal.classify.expression_model, normal.classify.expression_hz) == \
        ("full", "expression_fusion", 10.0)
    assert (low.pose.model, low.classify.expression_model, low.classify.expression_hz) == \
        ("lite", "expression_fusion_fast", 5.0)
    assert from_tables({"source": {"budget": "low"}, "classify": {"expression_hz": 2}}).classify.expression_hz == 2


def test_an_unknown_budget_is_one_clear_error():
    with pytest.raises(ConfigError, match=r"budget.*normal.*low"):
        from_tables({"source": {"budget": "tiny"}})


def test_budget_flag_reaches_the_config():
    from bridge.cli import build_parser
    from bridge.cli.flags import overrides_from
    args = build_parser().parse_args(["run", "--budget", "low"])
    assert overrides_from(args)[0]["source"]["budget"] == "low"


def test_low_budget_still_tracks_the_face_clip(tracker):
    run_frames(CLIP, tracker, max_frames=90)  # the shared tracker's first run after another video differs a little
    normal = run_frames(CLIP, tracker, max_frames=90)
    low = run_frames(CLIP, tracker, {"source": {"budget": "low"}}, max_frames=90)
    assert sum(f.found for f in low) == sum(f.found for f in normal) == 90
    # the budget leaves the face tracker alone: the same blendshapes, frame for frame
    np.testing.assert_array_equal(np.array([f.people[0].face.blendshapes for f in low]),
                                  np.array([f.people[0].face.blendshapes for f in normal]))


def test_low_budget_alternates_pose_and_hands_and_holds_between():
    import cv2
    cfg = from_tables({"source": {"budget": "low"}, "pose": {"enabled": True}, "hands": {"enabled": True},
                       "classify": {"expression": False, "action": False}})
    cap = cv2.VideoCapture(str(BODY_CLIP))
    ran = []
    with_pose = 0
    tr = Trackers(cfg, still_images=False)
    try:
        assert tr.pose.model == "lite"
        for i in range(20):
            ok, bgr = cap.read()
            obs = tr.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), i * 33)
            ran.append(("pose" in obs.timings_ms, "hands" in obs.timings_ms))
            with_pose += obs.pose is not None
    finally:
        tr.close()
        cap.release()
    assert all(p != h for p, h in ran[1:])  # one body landmarker a frame, taking turns
    assert [p for p, _ in ran[:4]] == [True, False, True, False]
    assert with_pose == 20  # the frame between holds the last pose
