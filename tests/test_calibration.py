"""Calibration: capture with the CLI, save, load, apply (the round trip a user makes)."""
import json

import numpy as np
import pytest

from bridge.arkit import ARKIT_NAMES, INDEX
from bridge.calibration import Profile, load_profile
from bridge.errors import ConfigError
from conftest import FACE, cli
from helpers import run_frames


def test_profile_apply_rescales_to_user_range():
    p = Profile()
    p.neutral[INDEX["mouthSmileLeft"]] = 0.3
    p.maximum[INDEX["mouthSmileLeft"]] = 0.8
    x = np.zeros(52, np.float32)
    x[INDEX["mouthSmileLeft"]] = 0.3
    assert p.apply(x)[INDEX["mouthSmileLeft"]] == 0
    x[INDEX["mouthSmileLeft"]] = 0.55
    assert p.apply(x)[INDEX["mouthSmileLeft"]] == pytest.approx(0.5)
    x[INDEX["mouthSmileLeft"]] = 0.9
    assert p.apply(x)[INDEX["mouthSmileLeft"]] == 1.0


def test_profile_json_round_trip_and_errors(tmp_path):
    p = Profile()
    p.neutral[:] = np.linspace(0, 0.2, 52)
    p.head_position_cm = np.array([1.0, 2.0, -40.0])
    q = Profile.from_json(p.to_json(), "x")
    np.testing.assert_allclose(q.neutral, p.neutral, atol=1e-5)
    np.testing.assert_allclose(q.head_position_cm, p.head_position_cm)
    with pytest.raises(ConfigError, match="run `avatar-bridge calibrate` again"):
        Profile.from_json('{"version": 1, "neutral": {}}', "bad.json")


def test_calibrate_command_then_run_uses_profile(tmp_path, tracker):
    profile = tmp_path / "me.json"
    # neutral only: 1 s of extremes on this clip (no faces pulled) would put max barely above neutral
    proc = cli("calibrate", "--source", str(FACE / "single_face.mp4"), "--seconds", "1.0", "--extremes", "0",
               "--calibration", str(profile), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "profile saved to" in proc.stderr and "relaxed, neutral face" in proc.stdout
    data = json.loads(profile.read_text())
    assert list(data["neutral"]) == list(ARKIT_NAMES)
    loaded = load_profile(profile)
    squint = INDEX["eyeSquintLeft"]
    assert loaded.neutral[squint] > 0.2  # his resting face reads as a squint without calibration

    plain = run_frames(FACE / "single_face.mp4", tracker, {"source": {"mirror": False}})
    calibrated = run_frames(FACE / "single_face.mp4", tracker,
                            {"source": {"mirror": False}, "calibration": {"profile": str(profile)}})
    raw = np.median([f.people[0].face.blendshapes[squint] for f in plain[10:40]])
    cal = np.median([f.people[0].face.blendshapes[squint] for f in calibrated[10:40]])
    assert raw > 0.2 and cal < raw / 2  # his resting squint now reads near neutral
    # expressions are read relative to his calibrated neutral face (classify/expression.py)
    p_plain = [f.people[0].classes["expression"]["neutral"] for f in plain[8:15]]
    p_cal = [f.people[0].classes["expression"]["neutral"] for f in calibrated[8:15]]
    assert np.max(np.abs(np.subtract(p_cal, p_plain))) > 1e-3 and np.median(p_cal) >= np.median(p_plain)
    # the neutral head pose is removed too
    from bridge.retarget import quat
    angle = np.median([np.degrees(quat.angle_between(f.people[0].face.head_rotation, quat.IDENTITY)) for f in calibrated[10:]])
    angle_raw = np.median([np.degrees(quat.angle_between(f.people[0].face.head_rotation, quat.IDENTITY)) for f in plain[10:]])
    assert angle < angle_raw


def test_calibrate_without_a_face_says_so(tmp_path):
    """A clip with no human face: one line saying no face was seen, exit 1, no profile written."""
    profile = tmp_path / "me.json"
    proc = cli("calibrate", "--source", str(FACE / "no_face.mp4"), "--seconds", "0.5", "--calibration", str(profile), "-q")
    assert proc.returncode == 1 and not profile.exists()
    assert "no face was seen during calibration: face the camera" in proc.stderr
    assert "Traceback" not in proc.stderr
