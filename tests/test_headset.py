"""Headset mode on a real face clip under a simulated headset that follows the head (bench/headset.py:
a dark occluder over the eyes and brows drawn from the uncovered run's landmarks on every frame):
the face is kept, the lower face and the head pose stay near the uncovered run's, the eyes and brows
are held neutral and marked not tracked, VRChat gets no eye data, and "auto" leaves an uncovered face
alone."""
import importlib.util
import time

import numpy as np
import pytest

from bridge.config import from_tables
from bridge.frame import UPPER_FACE_SHAPES, AvatarFrame, Person
from bridge.outputs import Outputs
from bridge.tracking.headset import HeadsetDetector, upper_face_detail_ratio
from conftest import FACE, ROOT, Oscdump, free_port

CLIP = FACE / "expressions_pexels.mp4"
N = 120


def _bench():
    spec = importlib.util.spec_from_file_location("bench_headset", ROOT / "bench" / "headset.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def clip():
    bench = _bench()
    frames, fps = bench.decode(CLIP, N)
    covered = [bench.cover(f, lm) for f, lm in zip(frames, bench.reference_landmarks(frames, fps))]
    ref = bench.run(frames, fps, "off")
    return bench, frames, covered, fps, ref


def test_the_three_figures_under_a_simulated_headset(clip):
    bench, _, covered, fps, ref = clip
    assert sum(r.found for r in ref) == N
    on = bench.run(covered, fps, "on")
    f = bench.figures(ref, on)
    # measured on this clip's first 120 frames: kept 100%, mouth/jaw median ~0.002, jawOpen ~0.01, head ~3.3 deg
    assert f["kept"] >= 0.95, f
    assert f["mouth_all"] <= 0.1 and f["jaw_open"] <= 0.1, f
    assert f["head_deg"] <= 5.0, f
    assert f["eyes_held"] == 1.0
    for s in on:
        if s.found:
            assert not s.eyes_tracked
            np.testing.assert_array_equal(s.blendshapes[UPPER_FACE_SHAPES], 0.0)  # neutral, not guesses
            np.testing.assert_allclose(s.eye_angles_deg, 0.0, atol=1e-9)


def test_auto_finds_the_headset_and_leaves_a_bare_face_alone(clip):
    bench, frames, covered, fps, _ = clip
    auto = bench.run(covered, fps, "auto")
    assert np.mean([not s.eyes_tracked for s in auto if s.found]) >= 0.9  # all but the first few frames
    assert all(s.eyes_tracked for s in bench.run(frames, fps, "auto"))


def test_detail_ratio_separates_a_bare_face_from_a_covered_one(clip):
    bench, frames, covered, fps, _ = clip
    lms = bench.reference_landmarks(frames[:20], fps)
    bare = [upper_face_detail_ratio(f, lm) for f, lm in zip(frames, lms)]
    hidden = [upper_face_detail_ratio(f, lm) for f, lm in zip(covered, lms)]
    assert min(bare) > 0.7 and max(hidden) < 0.1
    d = HeadsetDetector("auto")
    states = [d.update(f, lm) for f, lm in zip(covered, lms)]
    assert states[:4] == [False] * 4 and all(states[5:])  # five frames in a row to switch


def test_vrchat_gets_no_eye_data_in_headset_mode(clip):
    bench, _, covered, fps, _ = clip
    states = [s for s in bench.run(covered[:30], fps, "on") if s.found]
    port = free_port()
    dump = Oscdump(port)
    cfg = from_tables({"vmc": {"enabled": False}, "websocket": {"enabled": False},
                       "vrchat": {"enabled": True, "port": port}})
    out = Outputs(cfg, lambda *a: None, dashboard=False)
    try:
        for i, s in enumerate(states):
            out.send(AvatarFrame(i, time.time(), i / fps, [Person(0, s, s, (), np.zeros(0, np.float32))]))
    finally:
        out.close()
    lines = dump.stop()
    assert any("/avatar/parameters/v2/JawOpen" in l for l in lines)  # the lower face still goes out
    assert not any("/tracking/eye/" in l or "/v2/Eye" in l or "/v2/Brow" in l for l in lines), lines[:5]


def test_flag_and_config():
    assert from_tables({"face": {"headset": "auto"}}).face.headset == "auto"
    with pytest.raises(Exception, match="allowed values are off, on, auto"):
        from_tables({"face": {"headset": "yes"}})
    import argparse

    from bridge.cli.flags import add_common, overrides_from
    p = argparse.ArgumentParser()
    add_common(p, "source")
    assert overrides_from(p.parse_args(["--headset"]))[0]["face"]["headset"] == "on"
    assert overrides_from(p.parse_args(["--headset", "auto"]))[0]["face"]["headset"] == "auto"


def test_low_thresholds_find_no_face_in_a_cartoon():
    """Headset mode's low confidence thresholds on the no-face fixture (a cartoon): nothing found."""
    import cv2

    from bridge.tracking.combined import Trackers
    cap = cv2.VideoCapture(str(FACE / "no_face.mp4"))
    trackers = Trackers(from_tables({"face": {"headset": "on"}}), still_images=False)
    found = frames = 0
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            found += trackers.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), frames * 33).face is not None
            frames += 1
    finally:
        trackers.close()
        cap.release()
    assert frames > 90 and found == 0


def test_without_eyes_drops_every_form_of_an_eye_parameter():
    from bridge.mapping import Mapper, load_preset
    from bridge.protocols import osc, vrchat
    m = Mapper(load_preset("vrchat_unified"))
    names = vrchat.eye_parameter_names(m.names, m.apply)
    assert {"v2/EyeLeftX", "v2/EyeLidLeft", "v2/BrowInnerUp", "v2/EyeSquint"} <= set(names)
    assert "v2/JawOpen" not in names and "v2/MouthSmileLeft" not in names
    sent = [osc.message(a, "f", 0.5) for a in (
        "/avatar/parameters/v2/JawOpen", "/avatar/parameters/FT/v2/EyeLidLeft", "/avatar/parameters/v2/EyeLeftX4",
        "/avatar/parameters/v2/EyeLeftXNegative", "/avatar/parameters/FT/v2/JawOpen2", "/tracking/eye/EyesClosedAmount")]
    kept = vrchat.without_eyes(sent, names)
    assert kept == [sent[0], sent[4]]
