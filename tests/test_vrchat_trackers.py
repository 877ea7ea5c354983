"""VRChat OSC trackers end to end: real footage through the real pipeline, the datagrams parsed by
liblo's oscdump (an independent OSC implementation) and checked against the geometry of a person:
feet a leg's length below the hip, left on the left, the head reference the head pose, finite and
smooth values, nothing but hip/chest when the legs are out of view; plus the config, the flag and
the recording that a replay sends the same bytes from."""
import os
import subprocess
import sys

import numpy as np
import pytest

from bridge.config import from_tables
from bridge.errors import ConfigError
from bridge.protocols import vrchat
from bridge.recording import RecordingReader, RecordingWriter
from bridge.retarget import quat
from conftest import FIXTURES, Oscdump, free_port
from helpers import run_frames

NTU = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"  # one person standing, whole body
HEIGHT = 1.7
QUIET = {"classify": {"expression": False, "action": False}}


def _trackers(lines: list[str]) -> list[dict[str, np.ndarray]]:
    """oscdump's lines -> one {address: floats} per frame (each frame starts with the head reference)."""
    frames: list[dict[str, np.ndarray]] = []
    for line in lines:
        parts = line.split()
        parts = parts[1:] if parts and not parts[0].startswith("/") else parts  # oscdump's time tag
        if not parts or not parts[0].startswith("/tracking/trackers/"):
            continue
        assert parts[1] == "fff", line
        if parts[0] == "/tracking/trackers/head/position":
            frames.append({})
        frames[-1][parts[0]] = np.array([float(v) for v in parts[2:]])
    return frames


def _capture(path, trackers, max_frames=None):
    port = free_port()
    dump = Oscdump(port)
    frames = run_frames(path, None, {"pose": {"enabled": True},
                                     "vrchat": {"enabled": True, "port": port, "trackers": trackers}, **QUIET},
                        max_frames=max_frames)
    return frames, _trackers(dump.stop())


@pytest.fixture(scope="module")
def standing():
    return _capture(NTU, ["all"])


def test_oscdump_reads_what_the_frames_hold(standing):
    frames, sent = standing
    poses = [f.people[0].trackers for f in frames if f.people[0].trackers is not None]
    assert len(poses) >= 0.9 * len(frames) and len(sent) == len(poses)  # every tracked frame, every datagram
    for tr, msgs in zip(poses, sent):
        np.testing.assert_allclose(msgs["/tracking/trackers/head/position"], tr.head_position, atol=1e-5)
        np.testing.assert_allclose(msgs["/tracking/trackers/head/rotation"], quat.to_euler_deg(tr.head_rotation),
                                   atol=1e-3)
        slots = {k.split("/")[3] for k in msgs} - {"head"}
        assert slots == {str(vrchat.TRACKER_SLOTS[n]) for n in tr.names}
        for n, p, q in zip(tr.names, tr.positions, tr.rotations):
            base = f"/tracking/trackers/{vrchat.TRACKER_SLOTS[n]}/"
            np.testing.assert_allclose(msgs[base + "position"], p, atol=1e-5)
            np.testing.assert_allclose(msgs[base + "rotation"], quat.to_euler_deg(q), atol=1e-3)
            assert np.all(np.isfinite(msgs[base + "position"])) and np.all(np.isfinite(msgs[base + "rotation"]))


def test_standing_person_geometry_on_the_wire(standing):
    _, sent = standing
    late = [m for m in sent[30:] if all(f"/tracking/trackers/{s}/position" in m for s in (1, 2, 3))]
    assert len(late) >= 50
    pos = lambda slot: np.array([m[f"/tracking/trackers/{slot}/position"] for m in late])  # noqa: E731
    hip, left, right = pos(1), pos(2), pos(3)
    # hip joint to ankle is 0.49 of the standing height (Drillis & Contini); the feet stand on y = 0
    drop = np.median(hip[:, 1] - (left[:, 1] + right[:, 1]) / 2)
    assert 0.40 * HEIGHT < drop < 0.58 * HEIGHT, drop
    assert np.all(left[:, 1] > -0.05) and np.all(right[:, 1] > -0.05)
    # the left foot is on the subject's left: towards -X, and against the hips' own right axis
    hip_rot = [quat.from_euler_unity(*np.radians(m["/tracking/trackers/1/rotation"])) for m in late]
    hip_right = np.array([quat.to_matrix(q) @ [1.0, 0, 0] for q in hip_rot])
    assert np.all(np.sum((right - left) * hip_right, axis=1) > 0.1)
    assert np.all(left[:, 0] < hip[:, 0])
    head = np.array([m["/tracking/trackers/head/position"] for m in late])
    assert np.all(head[:, 1] > pos(6)[:, 1]) and np.all(pos(6)[:, 1] > hip[:, 1])  # head above chest above hip


def test_smooth_over_the_clip(standing):
    frames, sent = standing
    t = np.array([f.source_time for f in frames if f.people[0].trackers is not None])
    worst = 0.0
    for slot in range(1, 9):
        key = f"/tracking/trackers/{slot}/position"
        idx = [i for i, m in enumerate(sent) if key in m]
        runs = np.split(np.array(idx), np.flatnonzero(np.diff(idx) > 1) + 1)  # sent without a gap
        for run in runs:
            if len(run) < 3:
                continue
            p = np.array([sent[i][key] for i in run])
            v = np.diff(p, axis=0) / np.diff(t[run])[:, None]
            a = np.linalg.norm(np.diff(v, axis=0), axis=1) / np.diff(t[run])[1:]
            worst = max(worst, float(a.max()))
    # a person standing and drinking: the trackers' worst acceleration stays that of a human arm (measured ~5 m/s^2)
    assert 0.0 < worst < 12.0, worst


def test_upper_body_sends_hip_and_chest_only(tmp_path):
    """The standing person cropped to the hips up: the feet are asked for, never sent; hip and chest are."""
    video = tmp_path / "upper.mp4"
    _whole_then_upper_body(video, whole_frames=0)
    frames, sent = _capture(video, ["hip", "chest", "feet"])
    assert len(sent) >= 0.8 * len(frames)
    for m in sent:
        assert {k.split("/")[3] for k in m} == {"head", "1", "6"}


def test_head_reference_is_the_face_trackers_head_pose():
    """Real photos of people from the waist up (HaGRID): where the face is found, the head reference
    carries the face tracker's head rotation (first person)."""
    frames, sent = _capture(FIXTURES / "gesture" / "palm", ["hip", "chest"], max_frames=40)
    with_trackers = [f.people[0] for f in frames if f.people[0].trackers is not None]
    assert len(sent) == len(with_trackers)
    faced = [(p, m) for p, m in zip(with_trackers, sent) if p.subject.found]
    assert len(faced) >= 15
    for p, m in faced:
        np.testing.assert_allclose(m["/tracking/trackers/head/rotation"], quat.to_euler_deg(p.subject.head_rotation),
                                   atol=1e-3)


def test_head_reference_without_a_face_is_the_bodys_head(standing):
    """The standing clip's face is too small for the face tracker: the head reference is then the
    body solve's head (world rotation of Head from the sent bones, un-mirrored)."""
    from bridge.retarget import humanoid
    from bridge.retarget.body import BODY_BONES, BI, local_to_world
    from bridge.retarget.conventions import reflect_x_quat
    frames, sent = standing
    people = [f.people[0] for f in frames if f.people[0].trackers is not None]
    mirror = humanoid.mirror_permutation(BODY_BONES)
    checked = 0
    for p, m in zip(people, sent):
        if p.subject.found:
            continue
        assert p.bone_names[:len(BODY_BONES)] == BODY_BONES
        local = reflect_x_quat(np.asarray(p.bone_rotations[:len(BODY_BONES)])[mirror])  # the run mirrors (default)
        head = local_to_world(local)[BI["Head"]]
        q = quat.from_euler_unity(*np.radians(m["/tracking/trackers/head/rotation"]))
        assert np.degrees(quat.angle_between(q, head)) < 0.1
        checked += 1
    assert checked >= 50


def test_cli_run_sends_hip_and_feet():
    port = free_port()
    dump = Oscdump(port)
    proc = subprocess.run([sys.executable, "-m", "bridge.cli", "run", "--source", str(NTU), "--pose",
                           "--vrchat", f"127.0.0.1:{port}", "--vrchat-trackers", "hip,feet", "--no-vmc", "--no-ws",
                           "--fast", "--max-frames", "30", "-q"],
                          capture_output=True, text=True, timeout=180, env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})
    sent = _trackers(dump.stop())
    assert proc.returncode == 0, proc.stderr
    assert len(sent) >= 15
    assert {k.split("/")[3] for m in sent for k in m} == {"head", "1", "2", "3"}


def test_recording_keeps_the_trackers_for_replay(standing, tmp_path):
    frames, _ = standing
    path = tmp_path / "t.abr"
    with RecordingWriter(path) as w:
        for f in frames:
            w.write(f)
    back = RecordingReader(path).frames()
    assert len(back) == len(frames)
    for a, b in zip(frames, back):
        ta, tb = a.people[0].trackers, b.people[0].trackers
        assert (ta is None) == (tb is None)
        if ta is not None:
            assert vrchat.encode_trackers(ta) == vrchat.encode_trackers(tb)


def test_config_and_flag():
    cfg = from_tables({"pose": {"enabled": True}, "vrchat": {"enabled": True, "trackers": ["feet", "hip", "knees"]}})
    assert cfg.vrchat.trackers == ("hip", "left_foot", "right_foot", "left_knee", "right_knee")
    with pytest.raises(ConfigError, match=r"unknown tracker 'tail'; choose from hip, .* or the groups feet"):
        from_tables({"vrchat": {"trackers": ["hip", "tail"]}})
    with pytest.raises(ConfigError, match="add --pose"):
        from_tables({"vrchat": {"enabled": True, "trackers": ["hip"]}})
    proc = subprocess.run([sys.executable, "-m", "bridge.cli", "run", "--source", str(NTU), "--pose", "--vrchat",
                           "--vrchat-trackers", "hip,tail", "--max-frames", "1", "-q"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "--vrchat-trackers hip,tail: unknown tracker 'tail'" in proc.stderr and "Traceback" not in proc.stderr


def _whole_then_upper_body(path, whole_frames=60):
    """A real video file: the standing person whole for `whole_frames` frames (2 s), then cropped to
    the hips up (as a webcam at a desk sees one: the legs leave the view), 1280x720 at 30 fps."""
    import cv2
    cap = cv2.VideoCapture(str(NTU))
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (1280, 720))
    i = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        out.write(cv2.resize(bgr if i < whole_frames else bgr[250:560, 790:1340], (1280, 720)))
        i += 1
    cap.release()
    out.release()


def test_legs_leaving_the_view_are_held_then_not_sent(tmp_path):
    video = tmp_path / "whole_then_upper.mp4"
    _whole_then_upper_body(video)
    frames, sent = _capture(video, ["hip", "feet"])
    feet = [f.source_time for f in frames if f.people[0].trackers is not None
            and "left_foot" in f.people[0].trackers.names]
    assert feet and max(feet) >= 1.8  # sent while the legs are in view
    assert max(feet) <= 2.0 + 0.3 + 0.05  # then held for [pose] hold_s at most, and no longer sent
    after = [f.people[0].trackers for f in frames if f.source_time > 2.5]
    assert len(after) > 20 and sum(t is not None and "hip" in t.names for t in after) >= 0.8 * len(after)
    late = [m for m in sent if "/tracking/trackers/2/position" not in m and "/tracking/trackers/1/position" in m]
    assert len(late) >= 20  # the hip goes on alone, on the wire too
