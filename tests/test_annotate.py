"""`avatar-bridge annotate` on a real fixture video: OpenCV reads the written video back with the
source's frame count and size; the overlay is where the person is and nowhere else."""
import subprocess
import sys

import cv2
import numpy as np
import pytest

from bridge.annotate import BOX_COLOR, annotate_video, draw, label_lines, parse_layers, person_box
from bridge.batch import Part, face_tracker, offline_config, track_part
from bridge.config import from_tables
from bridge.errors import BridgeError
from conftest import FACE, ROOT

VIDEO = FACE / "single_face.mp4"  # 640x360, a frontal face
N = 30
TABLES = {"calibration": {"profile": "/nonexistent/avatar-bridge-test-profile.json"}}


def _read(path, n):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < n and (ok_frame := cap.read())[0]:
        frames.append(ok_frame[1])
    count, size = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), (int(cap.get(3)), int(cap.get(4)))
    cap.release()
    return frames, count, size


@pytest.fixture(scope="module")
def boxes():
    """Each frame's person box, from the same batch path annotate uses."""
    cfg = offline_config(from_tables(TABLES))
    out = []
    tracker = face_tracker(cfg)
    try:
        track_part(Part(VIDEO, end=N), cfg, tracker, lambda f: None,
                   [lambda f, rgb, views: out.append(person_box(views[0][1], rgb.shape[1], rgb.shape[0]))])
    finally:
        tracker.close()
    return out


def test_annotated_video_has_the_frames_and_the_box(tmp_path, boxes):
    out = tmp_path / "annotated.mp4"
    n = annotate_video(VIDEO, out, from_tables(TABLES), layers=("box",), progress=False, max_frames=N)
    got, count, size = _read(out, N)
    src, _, src_size = _read(VIDEO, N)
    assert n == count == len(got) == N and size == src_size == (640, 360)
    assert all(b is not None for b in boxes)
    on_box, far = [], []
    for frame, ref, (x0, y0, x1, y1) in zip(got, src, boxes):
        diff = np.abs(frame.astype(int) - ref.astype(int)).sum(axis=2)
        on_box.append(np.median(np.concatenate([diff[y0:y1, x0], diff[y0:y1, x1], diff[y0, x0:x1], diff[y1, x0:x1]])))
        mask = np.ones(diff.shape, bool)
        mask[max(0, y0 - 16):y1 + 16, max(0, x0 - 16):x1 + 16] = False  # the box, its line width and codec ringing
        far.append(diff[mask].mean())
    assert min(on_box) > 60, on_box  # the box's colour on the source, summed over B, G, R
    assert max(far) < 12, far  # away from the box: only mp4v's re-encoding noise


def test_draw_layers_and_labels(boxes):
    cap = cv2.VideoCapture(str(VIDEO))
    ok, bgr = cap.read()
    cap.release()
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    cfg = offline_config(from_tables(TABLES))
    seen = []
    tracker = face_tracker(cfg)
    try:
        track_part(Part(VIDEO, end=1), cfg, tracker, lambda f: None, [lambda f, im, views: seen.append((f, views))])
    finally:
        tracker.close()
    frame, views = seen[0]
    obs = views[0][1]
    plain = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    assert np.array_equal(draw(rgb, frame, views, ()), plain)  # no layer: the image as it was
    face = draw(rgb, frame, views, ("face",))
    x0, y0, x1, y1 = person_box(obs, 640, 360)
    changed = np.any(face != plain, axis=2)
    assert changed[y0:y1, x0:x1].sum() > 300 and changed.sum() == changed[y0:y1 + 1, x0:x1 + 1].sum()
    lines = label_lines(frame.people[0])
    assert lines[0] == "person 0" and len(lines[1].split("  ")) == 3  # the expression's top three
    boxed = draw(rgb, frame, views, ("box",))
    assert (boxed[y0, x0 + 5:x1 - 5] == BOX_COLOR).all()
    bar = draw(rgb, frame, views, ("progress",), position=0.5)
    assert (bar[-1, :310] == BOX_COLOR).all() and np.array_equal(bar[-1, 330:], plain[-1, 330:])


def test_bad_layers_is_one_line():
    with pytest.raises(BridgeError, match="unknown layer 'boxes'; choose from box,labels"):
        parse_layers("boxes,face")
    assert parse_layers("face, skeleton") == ("face", "skeleton")
    proc = subprocess.run([sys.executable, "-m", "bridge.cli", "annotate", str(VIDEO), "--out", "/tmp/x.mp4",
                           "--layers", "nope"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0 and "unknown layer 'nope'" in proc.stderr
