"""Recording, replay and export on real media: the real pipeline records a fixture video; the
file is read back, damaged, replayed to real UDP/WebSocket sockets in a process that must not
load the tracker, and exported to Live Link Face CSV and BVH (parsed by the PyPI `bvh` package).
"""
import csv
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest
from websockets.sync.client import connect

from bridge.arkit import ARKIT_NAMES, INDEX
from bridge.config import from_tables
from bridge.export import bvh as bvh_export
from bridge.export import livelink
from bridge.frame import AvatarFrame, FaceState, Person
from bridge.pipeline import Pipeline
from bridge.progress import Progress
from bridge.recording import RecordingError, RecordingReader, RecordingWriter, attach_recorder
from bridge.retarget import quat
from bridge.sources import open_source
from conftest import FACE, ROOT, free_port

VIDEO = FACE / "single_face.mp4"  # 30 fps, 72 frames
BASE = {"vmc": {"enabled": False}, "websocket": {"enabled": False},
        "calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"}}

CLI = "import sys; from bridge import cli; sys.exit(cli.main(sys.argv[1:]))"


def cli_rec(*args, **kw):
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"}, **kw)


@pytest.fixture(scope="module")
def recorded(tracker, tmp_path_factory):
    """The pipeline's frames for the fixture video, and the recording written alongside them."""
    path = tmp_path_factory.mktemp("rec") / "single_face.abr"
    frames: list[AvatarFrame] = []
    p = Pipeline(from_tables(BASE), open_source(str(VIDEO), fast=True), tracker=tracker)
    p.listeners.append(frames.append)
    writer = attach_recorder(p, path, landmarks=True)
    p.run()
    writer.close()
    return path, frames


def assert_same(fa: AvatarFrame, fb: AvatarFrame):
    f32 = dict(rtol=1e-6, atol=1e-6)
    a, b = fa.people[0], fb.people[0]
    assert (fa.seq, a.blend_names, a.bone_names, fa.image_size, a.face.found) == \
           (fb.seq, b.blend_names, b.bone_names, fb.image_size, b.face.found)
    assert fa.capture_time == fb.capture_time and fa.source_time == fb.source_time
    for x, y in [(a.blend_values, b.blend_values), (a.face.blendshapes, b.face.blendshapes),
                 (a.face.head_rotation, b.face.head_rotation), (a.face.head_position, b.face.head_position),
                 (a.face.left_eye, b.face.left_eye), (a.face.right_eye, b.face.right_eye),
                 (a.face.eye_angles_deg, b.face.eye_angles_deg), (a.bone_rotations, b.bone_rotations),
                 (a.bone_positions, b.bone_positions), (a.root_position, b.root_position),
                 (a.root_rotation, b.root_rotation), (a.face.presence, b.face.presence)]:
        np.testing.assert_allclose(np.asarray(x, float), np.asarray(y, float), **f32)
    assert fa.timings_ms == pytest.approx(fb.timings_ms)
    if a.face.landmarks is not None:
        np.testing.assert_array_equal(a.face.landmarks, b.face.landmarks)


def test_record_and_read_back(recorded):
    path, frames = recorded
    assert len(frames) == 72 and sum(f.people[0].face.found for f in frames) > 60
    r = RecordingReader(path)
    got = r.frames()
    assert r.damage is None and r.meta["mirror"] is True and r.meta["fps"] == pytest.approx(30.0)
    assert r.blend_names == ARKIT_NAMES and r.bone_names == ("Neck", "Head", "LeftEye", "RightEye")
    assert r.fps == pytest.approx(30.0)
    assert len(got) == len(frames)
    for a, b in zip(frames, got):
        assert_same(a, b)
    assert any(f.people[0].face.landmarks is not None for f in got)
    assert path.stat().st_size < 72 * (6000 + 1300)  # float32 landmarks, ~160 float32, JSON classes (expression, mood) and timings


def test_names_change_mid_recording(tmp_path, recorded):
    _, frames = recorded
    path = tmp_path / "names.abr"
    with RecordingWriter(path) as w:
        for f in frames[:5]:
            w.write(f)
        for f in frames[5:10]:
            p = f.people[0]
            names = tuple(n.upper() for n in p.blend_names[:3])
            w.write(AvatarFrame(f.seq, f.capture_time, f.source_time,
                                [Person(0, p.face, p.subject, names, p.blend_values[:3], p.bone_names,
                                        p.bone_rotations, p.bone_positions)]))
    got = RecordingReader(path).frames()
    assert [len(f.people[0].blend_names) for f in got] == [52] * 5 + [3] * 5
    assert got[7].people[0].blend_names == ("EYEBLINKLEFT", "EYELOOKDOWNLEFT", "EYELOOKINLEFT")


def _v1_recording(path, frames, meta, landmarks=True):
    """A version-1 recording (one person per frame, the layout before people), written by hand."""
    from bridge import recording as rec
    p0 = frames[0].people[0]
    doc = {"format": "avatar-bridge recording", "version": 1, "created": 0.0, "blend_names": list(p0.blend_names),
           "bone_names": list(p0.bone_names), "face_shapes": list(ARKIT_NAMES), "landmarks": landmarks, "meta": meta}
    js = json.dumps(doc, separators=(",", ":")).encode()
    out = [rec._HEAD.pack(rec.MAGIC, 1, rec.FLAG_LANDMARKS if landmarks else 0, len(js)) + js + rec._U32.pack(zlib.crc32(js))]
    for f in frames:
        p, face = f.people[0], f.people[0].face
        nb, nv = len(p.bone_names), len(p.blend_names)
        lms = face.landmarks if landmarks else None
        has_lms = lms is not None
        extras = json.dumps({"classes": p.classes, "events": p.events, "timings_ms": f.timings_ms},
                            separators=(",", ":")).encode()
        parts = [face.blendshapes, face.head_rotation, face.head_position, face.left_eye, face.right_eye,
                 face.eye_angles_deg, p.root_position, p.root_rotation]
        if nb:
            parts += [np.asarray(p.bone_rotations).ravel(), np.asarray(p.bone_positions).ravel()]
        parts.append(p.blend_values)
        if has_lms:
            parts.append(np.asarray(lms).ravel())
        head = rec._FRAME.pack(f.seq, f.capture_time, f.source_time, float(face.presence),
                               (rec._FOUND if face.found else 0) | (rec._HAS_LMS if has_lms else 0),
                               f.image_size[0], f.image_size[1], nb, nv, len(extras))
        out.append(rec._record(rec.KIND_FRAME, head + np.concatenate(parts).astype("<f4").tobytes() + extras))
    path.write_bytes(b"".join(out))


def test_version_1_recording_reads_as_person_0(tmp_path, recorded):
    from bridge.retarget.avatar import mirror_face
    _, frames = recorded
    path = tmp_path / "v1.abr"
    _v1_recording(path, frames[:20], {"mirror": True, "fps": 30.0})
    r = RecordingReader(path)
    got = r.frames()
    assert r.version == 1 and r.damage is None and r.fps == pytest.approx(30.0)
    assert len(got) == 20 and all(len(f.people) == 1 and f.people[0].id == 0 for f in got)
    for a, b in zip(frames, got):
        assert_same(a, b)
        pa, pb = a.people[0], b.people[0]
        assert (pb.classes, pb.events) == (pa.classes, pa.events)
        # mirrored when recorded: the first-person face is the avatar face reflected back
        np.testing.assert_allclose(pb.subject.blendshapes, mirror_face(pb.face).blendshapes)
        np.testing.assert_allclose(pb.subject.head_rotation, mirror_face(pb.face).head_rotation)
    assert any(f.people[0].face.landmarks is not None for f in got)
    # the exports read it as well
    assert livelink.export_livelink(path, tmp_path / "v1.csv") == 20


def test_truncated_and_corrupted_files(tmp_path, recorded, caplog):
    path, frames = recorded
    data = path.read_bytes()
    n = len(frames)
    size = len(data) - 300  # cut inside the last record
    cut = tmp_path / "cut.abr"
    cut.write_bytes(data[:size])
    r = RecordingReader(cut)
    got = r.frames()
    assert len(got) == n - 1 and r.truncated
    assert "\n" not in r.damage and "truncated" in r.damage and f"{n - 1} readable frames" in r.damage
    for a, b in zip(frames, got):
        assert_same(a, b)

    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10  # one bit in one record in the middle
    bad = tmp_path / "flipped.abr"
    bad.write_bytes(bytes(flipped))
    r = RecordingReader(bad)
    got = r.frames()
    assert r.bad_records == 1 and len(got) == n - 1
    assert "\n" not in r.damage and "corrupted" in r.damage and "CRC" in r.damage
    good = {f.seq for f in got}
    for a in frames:
        if a.seq in good:
            assert_same(a, got[[f.seq for f in got].index(a.seq)])
    assert any(r.damage in rec.getMessage() for rec in caplog.records)  # logged once, as one line

    # through the CLI: the damage is one warning line and the readable frames are exported
    out = tmp_path / "flipped.csv"
    proc = cli_rec("export", str(bad), "--out", str(out), "-q", timeout=120)
    assert proc.returncode == 0, proc.stderr
    warn = [l for l in proc.stderr.splitlines() if "corrupted record" in l]
    assert len(warn) == 1, proc.stderr
    assert len(out.read_text().splitlines()) == n  # header + n-1 rows

    for name, blob, msg in [("text.abr", b"hello world, not a recording", "not an avatar-bridge recording"),
                            ("empty.abr", b"", "empty or cut short"),
                            ("head.abr", data[:20], "cut short inside its header")]:
        p = tmp_path / name
        p.write_bytes(blob)
        with pytest.raises(RecordingError, match=msg):
            RecordingReader(p)
    proc = cli_rec("export", str(tmp_path / "text.abr"), "--out", str(tmp_path / "x.csv"), timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not an avatar-bridge recording" in proc.stderr


def test_full_disk_counts_only_what_reached_the_file(recorded, caplog):
    """/dev/full fails every write with ENOSPC, as a full disk does: the writer says so once and
    counts nothing, however many frames it was handed."""
    _, frames = recorded
    w = RecordingWriter("/dev/full", flush_s=0.01)
    for f in frames:
        w.write(f)
        time.sleep(0.001)
    w.close()
    assert (w.frames, w.bytes) == (0, 0)
    stops = [r.getMessage() for r in caplog.records if "the recording stops here" in r.getMessage()]
    assert len(stops) == 1 and "No space left" in stops[0], stops


REPLAY = """
import json, sys
from bridge.config import from_tables
from bridge.replay import replay
cfg = from_tables({"vmc": {"host": "127.0.0.1", "port": %d}, "websocket": {"host": "127.0.0.1", "port": %d},
                   "vrchat": {"enabled": True, "host": "127.0.0.1", "port": %d}})
s = replay(sys.argv[1], cfg, loop=%s, max_frames=%d, speed=%s)
mods = sorted(m for m in sys.modules if m.split(".")[0] in ("mediapipe", "cv2") or m.startswith("bridge.tracking")
              or m == "bridge.pipeline")
print(json.dumps({"frames": s.frames, "loops": s.loops, "duration": s.duration_s, "lag": s.max_lag_ms, "mods": mods}))
"""


def _udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    return s


def _collect_udp(sock, out, stop):
    while not stop.is_set():
        try:
            out.append((time.monotonic(), sock.recv(65536)))
        except TimeoutError:
            pass


def _collect_ws(port, out, stop):
    deadline = time.time() + 60
    while time.time() < deadline and not stop.is_set():
        try:
            with connect(f"ws://127.0.0.1:{port}", open_timeout=1) as ws:
                while not stop.is_set():
                    try:
                        out.append(json.loads(ws.recv(timeout=0.5)))
                    except TimeoutError:
                        continue
            return
        except (OSError, TimeoutError):
            time.sleep(0.05)
        except Exception:  # closed by the server at the end of the replay
            return


def _replay(path, loop, max_frames, speed, wait_for_ws=True):
    vmc_port, vrc_port, ws_port = free_port(), free_port(), free_port(socket.SOCK_STREAM)
    vmc_sock, vrc_sock = _udp(vmc_port), _udp(vrc_port)
    vmc_pk, vrc_pk, ws_msgs = [], [], []
    stop = threading.Event()
    threads = [threading.Thread(target=_collect_udp, args=(vmc_sock, vmc_pk, stop), daemon=True),
               threading.Thread(target=_collect_udp, args=(vrc_sock, vrc_pk, stop), daemon=True),
               threading.Thread(target=_collect_ws, args=(ws_port, ws_msgs, stop), daemon=True)]
    for t in threads:
        t.start()
    proc = subprocess.run([sys.executable, "-c", REPLAY % (vmc_port, ws_port, vrc_port, loop, max_frames, speed),
                           str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    vmc_sock.close()
    vrc_sock.close()
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), vmc_pk, vrc_pk, ws_msgs


def test_replay_to_real_sockets_with_original_timing_and_no_models(recorded):
    path, frames = recorded
    stats, vmc_pk, vrc_pk, ws_msgs = _replay(path, False, 30, 1.0)
    assert stats["mods"] == [], f"replay imported the tracker: {stats['mods']}"
    assert stats["frames"] == 30
    # 30 frames of a 30 fps recording: the first and the last are 29/30 s apart
    applies = [t for t, p in vmc_pk if p.endswith(b"/VMC/Ext/Blend/Apply\x00\x00\x00\x00,\x00\x00\x00")]
    assert len(applies) == 30
    assert applies[-1] - applies[0] == pytest.approx(29 / 30, abs=0.1)
    assert stats["duration"] == pytest.approx(29 / 30, abs=0.15)
    steps = np.diff(applies)
    assert np.median(steps) == pytest.approx(1 / 30, abs=0.01)
    # the VMC bytes are exactly what the live encoder produces for the recorded frame (but the uptime)
    from bridge.protocols.vmc import encode_vmc
    first = [p for _, p in vmc_pk[:3]]
    want = encode_vmc(frames[0].people[0], 0.0)
    assert [len(p) for p in first] == [len(p) for p in want]
    assert first[1:] == want[1:]  # only the first bundle carries /VMC/Ext/T
    # VRChat got parameters and native eye tracking
    assert any(b"/avatar/parameters/v2/" in p for _, p in vrc_pk)
    # WebSocket: hello, then frames carrying the recorded values
    assert ws_msgs and ws_msgs[0]["type"] == "hello" and ws_msgs[0]["channels"]["blendshapes"] == list(ARKIT_NAMES)
    ws_frames = [m for m in ws_msgs if m["type"] == "frame"]
    assert len(ws_frames) >= 20
    by_src = {round(f.source_time, 4): f for f in frames}
    for m in ws_frames:
        f, mp = by_src[m["source_t"]].people[0], m["people"][0]
        np.testing.assert_allclose(mp["blendshapes"], f.blend_values, atol=1e-5)
        np.testing.assert_allclose(mp["face"]["head_rot"], f.face.head_rotation, atol=1e-5)


def test_replay_loops_and_speed(tmp_path, recorded):
    _, frames = recorded
    path = tmp_path / "short.abr"
    with RecordingWriter(path, meta={"fps": 30.0, "mirror": True}) as w:
        for f in frames[:10]:
            w.write(f)
    stats, vmc_pk, _, ws_msgs = _replay(path, True, 25, 2.0)
    assert stats["frames"] == 25 and stats["loops"] == 2
    assert stats["duration"] == pytest.approx(24 / 30 / 2, abs=0.1)  # 2x speed
    seqs = [m["seq"] for m in ws_msgs if m["type"] == "frame"]
    assert seqs == sorted(seqs)
    src = [m["source_t"] for m in ws_msgs if m["type"] == "frame"]
    assert src == sorted(src)  # time keeps going across loops


def test_livelink_csv(tmp_path, recorded):
    path, frames = recorded
    out = tmp_path / "take.csv"
    assert livelink.export_livelink(path, out) == len(frames)
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert header[:2] == ["Timecode", "BlendShapeCount"]
    assert len(header) == 2 + 52 + 9
    assert header[2:5] == ["EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft"]
    assert header[16:20] == ["JawForward", "JawRight", "JawLeft", "JawOpen"]  # Epic's order, not Apple's
    assert header[-9:] == ["HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                           "RightEyeYaw", "RightEyePitch", "RightEyeRoll"]
    assert {h[0].lower() + h[1:] for h in header[2:54]} == set(ARKIT_NAMES)
    body = rows[1:]
    assert len(body) == len(frames) and all(len(r) == 63 for r in body)
    assert all(r[1] == "61" for r in body)
    assert [r[0] for r in body[:3]] == ["00:00:00:00.000", "00:00:00:01.000", "00:00:00:02.000"]
    assert body[29][0] == "00:00:00:29.000" and body[30][0] == "00:00:01:00.000" and body[71][0] == "00:00:02:11.000"
    col = {h: i for i, h in enumerate(header)}
    for f, r in zip((f.people[0] for f in frames), body):
        assert float(r[col["JawOpen"]]) == pytest.approx(float(f.face.blendshapes[INDEX["jawOpen"]]), abs=1e-6)
        assert float(r[col["MouthLeft"]]) == pytest.approx(float(f.face.blendshapes[INDEX["mouthLeft"]]), abs=1e-6)
        pitch, yaw, roll = quat.to_euler_deg(f.face.head_rotation)
        assert float(r[col["HeadYaw"]]) == pytest.approx(math.radians(yaw), abs=1e-5)
        assert float(r[col["HeadPitch"]]) == pytest.approx(-math.radians(pitch), abs=1e-5)
        assert float(r[col["LeftEyeYaw"]]) == pytest.approx(math.radians(f.face.eye_angles_deg[1]), abs=1e-5)
        assert float(r[col["RightEyePitch"]]) == pytest.approx(-math.radians(f.face.eye_angles_deg[2]), abs=1e-5)
    assert livelink.timecode(1 / 23.976 * 25, 23.976) == "00:00:01:01.025"  # 24 fps timecode, sub-frame fraction


def _bvh_matrix(z, x, y):
    """What a BVH reader builds from `Zrotation Xrotation Yrotation` channels (independent of bridge)."""
    z, x, y = np.radians([z, x, y])
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    return rz @ rx @ ry


def _quat_matrix(q):
    x, y, z, w = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


S = np.diag([-1.0, 1.0, 1.0])  # Unity (left-handed) -> BVH (right-handed): reflect X


def test_bvh_face_recording(tmp_path, recorded):
    from bvh import Bvh
    path, frames = recorded
    out = tmp_path / "take.bvh"
    assert bvh_export.export_bvh(path, out) == len(frames)
    doc = Bvh(out.read_text())
    assert doc.get_joints_names() == ["Hips", "Spine", "Chest", "UpperChest", "Neck", "Head", "LeftEye", "RightEye"]
    assert doc.joint_channels("Hips") == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]
    for j in doc.get_joints_names()[1:]:
        assert doc.joint_channels(j) == ["Zrotation", "Xrotation", "Yrotation"]
    assert doc.nframes == len(frames) == len(doc.frames)
    assert all(len(fr) == 6 + 7 * 3 for fr in doc.frames)
    assert doc.frame_time == pytest.approx(1 / 30, abs=1e-6)
    # the left eye is on the avatar's left: -X in Unity, +X in BVH (character faces +Z)
    assert doc.joint_offset("LeftEye")[0] > 0 and doc.joint_offset("RightEye")[0] < 0
    assert doc.joint_offset("Neck")[1] > 0
    # rotation round trip: BVH channels -> matrix == reflected recorded rotation, for every bone and frame
    for i, f in enumerate(f.people[0] for f in frames):
        for b, name in enumerate(f.bone_names):
            m = _bvh_matrix(*doc.frame_joint_channels(i, name, ["Zrotation", "Xrotation", "Yrotation"]))
            np.testing.assert_allclose(m, S @ _quat_matrix(f.bone_rotations[b]) @ S, atol=2e-5)
        pos = doc.frame_joint_channels(i, "Hips", ["Xposition", "Yposition", "Zposition"])
        np.testing.assert_allclose(pos, S @ (np.array([0, 0.9, 0]) + f.root_position), atol=2e-6)
    heads = np.array(doc.frames_joint_channels("Neck", ["Zrotation", "Xrotation", "Yrotation"]))
    assert np.ptp(heads, axis=0).max() > 0.5  # the head moves


def test_bvh_body_and_known_rotation(tmp_path):
    from bvh import Bvh
    bones = ("Hips", "Head", "LeftUpperArm", "LeftLowerArm", "RightHand")
    rots = np.tile(quat.IDENTITY, (len(bones), 1))
    rots[1] = quat.from_euler_unity(0.0, math.radians(30), 0.0)  # Head turns 30 deg to its right
    rots[2] = quat.from_euler_unity(0.0, 0.0, math.radians(-60))  # left arm down 60 deg (Unity +Z roll lifts it)
    face = FaceState.neutral()
    path = tmp_path / "body.abr"
    with RecordingWriter(path, meta={"fps": 60.0}) as w:
        for i in range(3):
            w.write(AvatarFrame(i, 0.0, i / 60, [Person(0, face, face, (), np.zeros(0, np.float32), bones, rots,
                                                        np.zeros((len(bones), 3)),
                                                        root_position=np.array([0.1, 0.0, 0.2]))]))
    out = tmp_path / "body.bvh"
    bvh_export.export_bvh(path, out, scale=100.0)
    doc = Bvh(out.read_text())
    names = doc.get_joints_names()
    assert names[0] == "Hips"
    for j in ("Spine", "Chest", "UpperChest", "Neck", "Head", "LeftShoulder", "LeftUpperArm", "LeftLowerArm",
              "RightShoulder", "RightUpperArm", "RightLowerArm", "RightHand"):
        assert j in names
    assert "LeftEye" not in names and "LeftUpperLeg" not in names
    assert doc.nframes == 3 and doc.frame_time == pytest.approx(1 / 60, abs=1e-6)
    assert doc.joint_offset("LeftLowerArm")[0] == pytest.approx(25.0)  # cm, left is +X in BVH
    z, x, y = doc.frame_joint_channels(0, "Head", ["Zrotation", "Xrotation", "Yrotation"])
    assert (z, x) == (pytest.approx(0, abs=1e-4), pytest.approx(0, abs=1e-4))
    assert y == pytest.approx(-30.0, abs=1e-4)  # turning right is a negative (clockwise) turn about +Y in BVH
    z, x, y = doc.frame_joint_channels(0, "LeftUpperArm", ["Zrotation", "Xrotation", "Yrotation"])
    assert (z, x, y) == (pytest.approx(60.0, abs=1e-4), pytest.approx(0, abs=1e-4), pytest.approx(0, abs=1e-4))
    pos = doc.frame_joint_channels(0, "Hips", ["Xposition", "Yposition", "Zposition"])
    assert pos == [pytest.approx(-10.0), pytest.approx(90.0), pytest.approx(20.0)]


def test_process_videos(tmp_path, tracker, capsys):
    from bridge.batch import process_videos
    videos = [FACE / "single_face.mp4", FACE / "expressions_pexels.mp4"]
    res = process_videos(videos, tmp_path / "out", progress=True, tracker=tracker, max_frames=60,
                         tables={"calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"}})
    assert [r.video for r in res] == videos
    for r in res:
        assert r.frames == 60 and r.faces > 40
        assert set(r.outputs) == {"abr", "csv", "bvh"} and all(p.is_file() for p in r.outputs.values())
        rd = RecordingReader(r.outputs["abr"])
        assert len(rd.frames()) == 60 and rd.damage is None and rd.meta["video"] == str(r.video)
        assert len(r.outputs["csv"].read_text().splitlines()) == 61
        assert "Frames: 60" in r.outputs["bvh"].read_text()
    assert abs(RecordingReader(res[1].outputs["abr"]).fps - 23.976) < 0.01
    err = capsys.readouterr().err
    assert "[1/2] single_face.mp4" in err and "[2/2] expressions_pexels.mp4" in err and "60/60 frames" in err


def test_progress_tty_and_log_modes():
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    t = Tty()
    with Progress(10, "job", "frames", stream=t, refresh_s=0) as bar:
        for _ in range(10):
            bar.update()
    s = t.getvalue()
    assert s.count("\r") >= 10 and s.endswith("\n") and "10/10 frames" in s and "100.0%" in s
    log = io.StringIO()
    with Progress(None, "job", stream=log, log_every_s=3600) as bar:
        for _ in range(5):
            bar.update()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 2 and lines[-1].startswith("job: 5 it")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_record_cli_stopped_by_signal_leaves_a_readable_file(tmp_path, sig, code):
    out = tmp_path / "live.abr"
    proc = subprocess.Popen([sys.executable, "-c", CLI, "record", "--source", str(VIDEO), "--loop", "--out", str(out),
                             "--no-vmc", "--no-ws", "-q"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or out.stat().st_size < 20000):
        time.sleep(0.1)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    r = RecordingReader(out)
    frames = r.frames()
    assert r.damage is None and len(frames) >= 10
    assert [f.seq for f in frames] == list(range(len(frames)))
    assert r.meta["source"].startswith("video ") and r.meta["live"] is False
