"""The commands as a new user types them (the installed console script, in a subprocess): flags,
help texts and what each command prints. Most use the clip that ships with the package."""
import os
import pty
import re
import shutil
import subprocess
import threading

import numpy as np
import pytest

from bridge.cli.run import demo_clip
from bridge.recording import RecordingReader
from conftest import FACE, FIXTURES, cli

DEMO = str(demo_clip())
OFF = ("--no-vmc", "--no-ws")
BODY = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"  # one person standing, whole body


def _on_a_terminal(*args: str) -> str:
    """What the command writes to stderr when that is a terminal (the only place the status line shows)."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the command ended and its end of the terminal closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc = subprocess.run([shutil.which("avatar-bridge"), *args], stdout=subprocess.DEVNULL, stderr=slave,
                              timeout=120)
    finally:
        os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, text
    return text


def _only_error(proc) -> str:
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("avatar-bridge: error: "), proc.stderr
    return lines[0].removeprefix("avatar-bridge: error: ")


@pytest.mark.parametrize("n", ["-3", "0", "two"])
@pytest.mark.parametrize("command", [["run"], ["demo"], ["calibrate"], ["record", "--out", "x.abr"],
                                     ["replay", "x.abr"], ["process", "x.mp4", "--out", "out"]])
def test_max_frames_must_be_at_least_one(command, n, tmp_path):
    proc = cli(*command, "--max-frames", n)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"argument --max-frames: {n!r} is not a whole number of at least 1" in proc.stderr


@pytest.mark.parametrize("command", ["run", "demo", "record", "calibrate", "process"])
def test_help_offers_only_the_pose_models_that_ship(command):
    out = cli(command, "--help").stdout
    assert "{lite,full}" in out and "heavy" not in out
    for flag in ("--hands", "--no-face", "--body-mode", "--preset", "--calibration"):
        assert flag in out, (command, flag)


def test_calibrate_help_says_the_profile_is_written():
    out = " ".join(cli("calibrate", "--help").stdout.split())
    assert "--calibration FILE profile file to write" in out
    assert "profile file to write" not in " ".join(cli("run", "--help").stdout.split())


def test_flag_errors_name_the_flag_as_typed():
    assert _only_error(cli("run", "--source", DEMO, "--ws", "0.0.0.0:8765", "--max-frames", "1")).startswith(
        "--ws 0.0.0.0:8765: this exposes the control socket to the network; add --ws-allow-remote")
    msg = _only_error(cli("run", "--source", DEMO, "--ws", "0.0.0.0:8765", "--ws-allow-remote", "--max-frames", "1"))
    assert msg.startswith("--ws 0.0.0.0:8765: reachable from the network") and "--ws-token SECRET" in msg
    assert _only_error(cli("run", "--ws", "0.0.0.0")).endswith("e.g. 127.0.0.1:8765")  # the WebSocket's own port


def test_the_first_frame_of_a_video_has_its_face():
    proc = cli("run", "--source", DEMO, "--max-frames", "1", *OFF)
    assert proc.returncode == 0 and "done: 1 frames, face found in 1" in proc.stderr, proc.stderr


def test_demo_decodes_the_frame_its_status_line_describes():
    proc = cli("demo", "--max-frames", "30", *OFF)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    dump = next(i for i, line in enumerate(lines) if line.startswith("that frame as VMC"))
    status = lines[dump - 1]
    assert status.startswith("t=  0.00s face "), lines[:dump + 1]  # the clip's first frame has the face
    assert not any(line.startswith("t=") for line in lines[:dump - 1])
    yaw = float(re.search(r"head yaw ([-+][\d.]+)", status)[1])
    bones = {line.split()[1]: [float(v) for v in line.split()[2:]] for line in lines[dump:] if "/Bone/Pos" in line}
    neck, head = np.array(bones["Neck"][3:]), np.array(bones["Head"][3:])  # local rotations, x y z w
    # neck then head about +Y: their yaws add up to the status line's (Unity: +yaw turns to +X)
    decoded = np.degrees(2 * (np.arcsin(neck[1]) + np.arcsin(head[1])))
    assert abs(decoded - yaw) < 2.0, (decoded, yaw)


def test_the_status_line_counts_people_seen_by_body_alone():
    """A photo of people whose faces the face tracker does not find (turned away, small) but whose
    bodies the pose does: with --people 2 the status line counts both."""
    err = _on_a_terminal("run", "--source", str(FIXTURES / "pose" / "COCO_val2014_000000000536.jpg"), "--loop",
                         "--people", "2", "--pose", "--max-frames", "10", *OFF)
    statuses = [s for s in re.split(r"[\r\n]", err) if " fps | latency " in s]
    assert statuses and all("| 2 of 2 people" in s for s in statuses), err


def test_replay_of_a_missing_file_says_only_that():
    assert _only_error(cli("replay", "/nonexistent/session.abr")) == \
        "recording /nonexistent/session.abr does not exist: check the path"


def test_replay_announces_itself_once_the_recording_is_read(tmp_path):
    rec = tmp_path / "s.abr"
    assert cli("record", "--source", DEMO, "--max-frames", "3", "--out", str(rec), "-q", *OFF).returncode == 0
    proc = cli("replay", str(rec), "--speed", "10", "-q", *OFF)
    assert proc.returncode == 0, proc.stderr
    assert f"replaying {rec} at 10x | no transport enabled" in proc.stderr
    assert "done: 3 frames sent" in proc.stderr


@pytest.mark.parametrize("source, flags", [(DEMO, ("--hands",)), (BODY, ("--pose", "lite", "--no-face"))])
def test_record_quiet_prints_only_its_own_lines(source, flags, tmp_path):
    """-q: no status line, and no MediaPipe notice from loading the models or from their first
    detections (the pose graph's "NORM_RECT without IMAGE_DIMENSIONS" came when it first found a person)."""
    proc = cli("record", "-q", "--source", str(source), *flags, "--max-frames", "10", "--out", str(tmp_path / "r"), *OFF)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr and all(line.startswith("I avatar_bridge") for line in proc.stderr.splitlines()), proc.stderr


def _arm_motion(path) -> float:
    """The largest range, in degrees, of any forearm rotation channel; 0 when the BVH has no arms."""
    from bvh import Bvh
    doc = Bvh(path.read_text())
    names = {j.name for j in doc.get_joints()}
    return max((np.ptp(np.array(doc.frames_joint_channels(j, ["Zrotation", "Xrotation", "Yrotation"])), axis=0).max()
                for j in ("LeftLowerArm", "RightLowerArm") if j in names), default=0.0)


def test_process_tracks_the_body_with_pose_flags(tmp_path):
    """Without --pose a body video gives a BVH whose arms never move; with it, they follow the person."""
    moved = {}
    for flags in ((), ("--pose", "lite", "--no-face", "--body-mode", "full")):
        out = tmp_path / ("pose" if flags else "face")
        proc = cli("process", str(BODY), "--out", str(out), "--formats", "bvh", "--max-frames", "40", "-q", *flags)
        assert proc.returncode == 0, proc.stderr
        moved[bool(flags)] = _arm_motion(out / f"{BODY.stem}.bvh")
    assert moved[False] == 0.0 and moved[True] > 5.0, moved


def test_process_finds_the_face_on_the_first_frame_of_every_video(tmp_path):
    """One face tracker serves every video: it must not look for the next video's face where the last one was."""
    videos = [FACE / "expressions_pexels.mp4", FACE / "single_face.mp4"]
    proc = cli("process", *map(str, videos), "--out", str(tmp_path), "--formats", "abr", "--max-frames", "2", "-q")
    assert proc.returncode == 0, proc.stderr
    for v in videos:
        first = RecordingReader(tmp_path / f"{v.stem}.abr").frames()[0].people[0]
        assert first.face.found and first.face.presence == 1.0, v.name
