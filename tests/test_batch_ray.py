"""`process --ray`: the real pipeline on a local Ray (2 CPUs, no dashboard), against the
single-process path on the same fixture videos; chunked videos; a failing video among good ones."""
import logging
import subprocess
import sys

import numpy as np
import pytest

from bridge.batch import process_videos
from bridge.batch_ray import plan, process_videos_ray
from bridge.recording import RecordingReader
from conftest import FACE, ROOT

VIDEOS = [FACE / "single_face.mp4", FACE / "expressions_pexels.mp4"]
TABLES = {"calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"}}
MAX = 150


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is the [ray] extra (pip install -e '.[test]' installs it)")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return process_videos(VIDEOS, tmp_path_factory.mktemp("single"), max_frames=MAX, tables=TABLES, progress=False)


def _frames(res):
    return RecordingReader(res.outputs["abr"]).frames()


def _values(frames, attr):
    return np.array([getattr(f.people[0], attr) if attr == "blend_values" else f.people[0].face.head_rotation
                     for f in frames])


def test_ray_gives_the_same_outputs_as_one_process(local_ray, single, tmp_path):
    """Unchunked, byte for byte: the CSV and BVH exports, and every recorded frame's values,
    classes and trigger events (the wall-clock capture time and stage timings differ by nature)."""
    ray_res = process_videos_ray(VIDEOS, tmp_path, max_frames=MAX, tables=TABLES, chunk_s=None, progress=False)
    for a, b in zip(single, ray_res):
        assert b.error is None and (a.frames, a.faces) == (b.frames, b.faces)
        for fmt in ("csv", "bvh"):
            assert a.outputs[fmt].read_bytes() == b.outputs[fmt].read_bytes(), (a.video.name, fmt)
        fa, fb = _frames(a), _frames(b)
        assert len(fa) == len(fb) == a.frames
        for x, y in zip(fa, fb):
            p, q = x.people[0], y.people[0]
            assert (x.seq, x.source_time, p.face.found, p.classes, p.events) == (y.seq, y.source_time, q.face.found,
                                                                                q.classes, q.events)
            np.testing.assert_array_equal(p.blend_values, q.blend_values)
            np.testing.assert_array_equal(p.bone_rotations, q.bone_rotations)


def test_process_ray_auto_command(single, tmp_path):
    """`avatar-bridge process VIDEO... --ray auto` as a user types it: its own local Ray, one
    progress bar for the run, the same exports as the single-process path."""
    proc = subprocess.run([sys.executable, "-m", "bridge.cli", "process", *map(str, VIDEOS), "--out", str(tmp_path),
                           "--formats", "csv,bvh", "--max-frames", str(MAX), "--ray", "auto",
                           "--calibration", TABLES["calibration"]["profile"]],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    n = sum(a.frames for a in single)  # 72 + 150
    assert "2 video(s) on Ray" in proc.stderr and f"{n}/{n} frames" in proc.stderr
    for a in single:
        for fmt in ("csv", "bvh"):
            assert (tmp_path / f"{a.video.stem}.{fmt}").read_bytes() == a.outputs[fmt].read_bytes()


def test_chunked_video_matches_within_tolerance(local_ray, single, tmp_path):
    """2 s parts (48 frames at 23.98 fps), each tracked from 2 s earlier. A part's first frames are
    tracked after its overlap, not after the whole video: MediaPipe's face tracking, the One Euro
    filters and the expression smoothing restart at the overlap, so values differ slightly for a
    while after each cut (measured: blendshapes at most 0.014, expression probabilities 0.07, the
    same trigger events). A part warmed up from frame 0 is exact."""
    res = process_videos_ray(VIDEOS[1:], tmp_path, max_frames=MAX, tables=TABLES, chunk_s=2.0, progress=False)[0]
    ref = single[1]
    assert res.error is None and res.frames == ref.frames == MAX
    fa, fb = _frames(ref), _frames(res)
    assert [f.seq for f in fb] == list(range(MAX))
    assert [f.source_time for f in fa] == [f.source_time for f in fb]
    blend = np.abs(_values(fa, "blend_values") - _values(fb, "blend_values")).max(axis=1)
    assert blend[:96].max() == 0.0  # parts 1 and 2 both start tracking at frame 0
    assert blend.max() < 0.05, blend.max()
    expr = max(abs(x.people[0].classes["expression"][k] - y.people[0].classes["expression"][k])
               for x, y in zip(fa, fb) for k in x.people[0].classes.get("expression", {}))
    assert expr < 0.15, expr
    events = [[(f.seq, e["type"], e["name"], e["state"]) for f in fs for e in f.people[0].events] for fs in (fa, fb)]
    assert events[0] == events[1]


def test_a_failing_video_is_retried_once_and_reported(local_ray, tmp_path, caplog):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(bytes(range(256)) * 40)
    with caplog.at_level(logging.WARNING, logger="avatar_bridge.batch"):
        res = process_videos_ray([bad, VIDEOS[0]], tmp_path / "out", formats=("abr",), max_frames=20, tables=TABLES,
                                 chunk_s=None, progress=False)
    assert "cannot read video" in res[0].error and not res[0].outputs
    assert res[1].error is None and res[1].frames == 20 and res[1].outputs["abr"].is_file()
    text = caplog.text
    assert "retrying once" in text and "failed twice" in text


def test_plan_splits_long_videos_with_overlap():
    parts = plan(VIDEOS[1], 472, 23.976, 5.0, None)
    assert [(p.start, p.end, p.warm) for p in parts] == [(0, 120, 0), (120, 240, 72), (240, 360, 192),
                                                         (360, None, 312)]
    assert plan(VIDEOS[1], 472, 23.976, None, None)[0].end is None
    assert [(p.start, p.end) for p in plan(VIDEOS[1], 472, 23.976, 5.0, 130)] == [(0, 120), (120, 130)]


def test_ray_flag_errors_are_one_line(tmp_path):
    """Without Ray installed, and --chunk-seconds without --ray: one line each, exit status 2."""
    code = "import sys; sys.modules['ray'] = None; from bridge import cli; sys.exit(cli.main(sys.argv[1:]))"
    run = [sys.executable, "-c", code, "process", str(VIDEOS[0]), "--out", str(tmp_path), "-q"]
    proc = subprocess.run(run + ["--ray"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip() == \
        'avatar-bridge: error: --ray needs Ray: pip install "avatar-bridge[ray]" (or pip install ray)'
    proc = subprocess.run(run + ["--chunk-seconds", "30"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip() == ("avatar-bridge: error: --chunk-seconds 30: needs --ray "
                                                            "(the single-process path runs each video whole)")
