"""Faults that used to pass in silence, through the installed `avatar-bridge` script: a disk that
fills while recording, a video cut short, cut or deleted while it is read. Real limits (a
file-size rlimit gives the kernel's EFBIG), real damaged copies of the fixtures."""
import os
import re
import resource
import shutil
import signal
import subprocess

import cv2

from bridge.recording import RecordingReader
from conftest import FACE, ROOT

DEMO = ROOT / "bridge" / "assets" / "demo_face.mp4"
SHORT = FACE / "single_face.mp4"
QUIET = ("--fast", "--no-vmc", "--no-ws", "-q")
FFMPEG_NOISE = ("partial file", "moov atom", "NAL unit", "[mov,", "[h264")


def avatar_bridge(*args, limit_bytes: int | None = None, timeout: float = 180):
    def child():
        if limit_bytes is not None:  # the disk is "full" once the recording reaches this size
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return subprocess.run([shutil.which("avatar-bridge"), *args], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=child, env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("avatar-bridge: error:")]


def test_record_on_a_full_disk_reports_what_reached_the_file(tmp_path):
    out = tmp_path / "full.abr"
    proc = avatar_bridge("record", "--source", str(SHORT), "--out", str(out), "--landmarks", *QUIET,
                         limit_bytes=100_000)
    assert proc.returncode == 0, proc.stderr  # the recording stops, the stream goes on
    assert proc.stderr.count("the recording stops here") == 1, proc.stderr
    done = int(re.search(r"done: (\d+) frames", proc.stderr)[1])
    m = re.search(r"recorded (\d+) frames \((\d+) kB\)", proc.stderr)
    reader = RecordingReader(out)
    readable = len(reader.frames())
    assert 0 < readable < done and reader.truncated
    assert int(m[1]) == readable, proc.stderr
    assert int(m[2]) == round(out.stat().st_size / 1024)


def test_video_cut_short_fails_in_one_line_and_keeps_its_recording(tmp_path):
    cut = tmp_path / "half.mp4"
    data = DEMO.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    cap = cv2.VideoCapture(str(cut))
    expected, readable = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0
    while cap.grab():
        readable += 1
    cap.release()
    out = tmp_path / "half.abr"
    proc = avatar_bridge("record", "--source", str(cut), "--out", str(out), *QUIET)
    assert proc.returncode == 2, proc.stderr
    assert not any(s in proc.stderr for s in FFMPEG_NOISE), proc.stderr
    err = errors(proc.stderr)
    assert len(err) == 1 and f"ended early: {readable} of its {expected} frames" in err[0], proc.stderr
    reader = RecordingReader(out)  # closed on the way out: every frame before the fault, undamaged
    assert len(reader.frames()) == readable and reader.damage is None


def test_video_without_its_index_says_so_without_ffmpeg_noise(tmp_path):
    cut = tmp_path / "no_index.mp4"
    data = SHORT.read_bytes()  # its index (moov) is at the end: the cut copy has none
    cut.write_bytes(data[:len(data) // 2])
    proc = avatar_bridge("run", "--source", str(cut), *QUIET)
    assert proc.returncode == 2, proc.stderr
    assert not any(s in proc.stderr for s in FFMPEG_NOISE), proc.stderr
    assert len(errors(proc.stderr)) == 1 and "cannot read video" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr


def test_video_deleted_while_looping_fails_in_one_line(tmp_path):
    video = tmp_path / "loop.mp4"
    shutil.copy(SHORT, video)
    proc = subprocess.Popen([shutil.which("avatar-bridge"), "run", "--source", str(video), "--loop", "--no-vmc",
                             "--no-ws", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})
    for first in proc.stderr:  # "source: ...", logged once the video is open and the pipeline built
        if "source: video" in first:
            break
    assert "source: video" in first, first
    video.unlink()  # paced at 30 fps, the first pass still has seconds to go
    proc.wait(timeout=120)
    rest = proc.stderr.read()  # through the same buffered reader: nothing it already holds is lost
    assert proc.returncode == 2, first + rest
    assert not any(s in rest for s in FFMPEG_NOISE), rest
    err = errors(rest)
    assert len(err) == 1 and "became unreadable" in err[0] and "--loop" in err[0], rest
