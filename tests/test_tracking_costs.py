"""What the per-frame and start-up cuts of issue 17 must keep: the detector back-off finds what the
landmarker finds on every frame, the stand-ins for MediaPipe's unused imports still import for real
when used, and the vectorised solvers match the per-bone reference maths."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import FIXTURES

cv2 = pytest.importorskip("cv2")

from bridge.retarget import humanoid as H  # noqa: E402
from bridge.retarget import quat  # noqa: E402
from bridge.retarget.limb_filter import GateSettings, LimbGate  # noqa: E402
from bridge.tracking.landmarker import SearchBackoff  # noqa: E402

MMACTION = FIXTURES / "body" / "mmaction2_demo.mp4"
NTU = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"


def frames(clip, n):
    cap = cv2.VideoCapture(str(clip))
    out = []
    while len(out) < n:
        ok, bgr = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def test_backoff_searches_every_frame_until_patience_then_one_in_every():
    b = SearchBackoff(every=3, patience=5)
    ran = []
    for _ in range(14):
        ran.append(b.search())
        if ran[-1]:
            b.found(False)
    assert ran == [True] * 5 + [True, False, False] * 3
    b.found(True)  # a find: every frame again
    assert all(b.search() for _ in range(5))


def test_hand_backoff_keeps_every_hand_and_skips_searches_that_find_nothing():
    """On the mmaction2 clip (hands come and go) the hands found with the back-off are the hands found
    searching every frame; on the distant NTU person (no hand is ever found) two searches in three are saved."""
    from bridge.tracking.hands import HandTracker, HandTrackerSettings
    clip = frames(MMACTION, 120)
    counts = {}
    for every in (1, 3):
        with HandTracker(HandTrackerSettings(search_every=every)) as t:
            counts[every] = [len(t.process(f, 1000 + 33 * i)) for i, f in enumerate(clip)]
    assert sum(counts[1]) > 100
    assert counts[3] == counts[1]
    with HandTracker() as t:
        calls = []
        real = t._run
        t._run = lambda *a: calls.append(1) or real(*a)
        found = [len(t.process(f, 1000 + 33 * i)) for i, f in enumerate(frames(NTU, 60))]
    assert sum(found) == 0
    assert len(calls) == 5 + -(-(60 - 5) // 3)


def test_face_backoff_off_for_still_images_and_reset_by_forget(tracker):
    from bridge.tracking.face import FaceTracker
    assert tracker.backoff is not None and tracker.backoff.every == 3
    with FaceTracker(still_images=True) as still:
        assert still.backoff is None
    for i, f in enumerate(frames(NTU, 12)):  # no face in view: the back-off counts
        assert tracker.process(f, 100000 + 33 * i) is None
    tracker.forget()
    face = frames(FIXTURES / "face" / "expressions_pexels.mp4", 1)[0]
    assert tracker.process(face, 200000) is not None  # a new video is searched from its first frame


def test_mediapipe_import_leaves_matplotlib_until_used():
    code = ("import sys, bridge.tracking.landmarker; from mediapipe.tasks.python import vision; "
            "assert 'matplotlib.figure' not in sys.modules; "
            "import importlib.util; assert importlib.util.find_spec('matplotlib.pyplot').origin.endswith('pyplot.py'); "
            "assert type(sys.modules.get('sounddevice', sys)).__name__ in ('module', '_Deferred'); "
            "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt; "
            "fig = plt.figure(); plt.plot([0, 1]); "
            "from mediapipe.tasks.python.vision import drawing_utils; "
            "assert drawing_utils.plt.figure is plt.figure and matplotlib.pyplot.figure is plt.figure; "
            "assert type(sys.modules['matplotlib.pyplot']).__name__ == 'module'; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def reference_mat_to_quat(m: np.ndarray) -> np.ndarray:
    """Shepperd's method per matrix, written out as the textbook branches."""
    tr = np.trace(m)
    if tr > max(m[0, 0], m[1, 1], m[2, 2]):
        w = np.sqrt(1 + tr) / 2
        q = [(m[2, 1] - m[1, 2]) / (4 * w), (m[0, 2] - m[2, 0]) / (4 * w), (m[1, 0] - m[0, 1]) / (4 * w), w]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        v = np.sqrt(1 + m[i, i] - m[j, j] - m[k, k]) / 2
        q = [0.0] * 4
        q[i], q[j], q[k] = v, (m[j, i] + m[i, j]) / (4 * v), (m[k, i] + m[i, k]) / (4 * v)
        q[3] = (m[k, j] - m[j, k]) / (4 * v)
    return np.array(q)


def test_mat_to_quat_matches_shepperd_per_matrix():
    rng = np.random.default_rng(17)
    q = rng.normal(size=(500, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    flips = ([1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1.0])  # the half turns: two candidates tie
    m = np.stack([quat.to_matrix(x) for x in q] + [np.diag(d) for d in flips])
    got = H.mat_to_quat(m)
    want = np.stack([reference_mat_to_quat(x) for x in m])
    assert np.abs(got - want).max() < 1e-12
    assert H.mat_to_quat(m[0]).shape == (4,)


def test_limb_gate_holds_eases_and_returns_per_group():
    gate = LimbGate({"a": np.array([0, 1]), "b": np.array([3])}, 4,
                    GateSettings(hold_s=0.1, ease_out_s=0.2, ease_in_s=0.1))
    rest = np.tile([0.0, 0.0, 0.7071, 0.7071], (4, 1))
    live = np.tile(quat.IDENTITY, (4, 1))
    live[:, 0] = [0.1, 0.2, 0.3, 0.4]
    out, w = gate(live, {"a": True}, 0.0, rest=rest)
    assert np.array_equal(out[[0, 1, 2]], live[[0, 1, 2]]) and np.array_equal(out[3], rest[3])  # b never seen
    assert w.tolist() == [0.0, 0.0, 0.0, 0.0]  # easing in from 0
    out, w = gate(live, {"a": True, "b": True}, 0.05, rest=rest)
    assert w == pytest.approx([0.5, 0.5, 0.0, 0.5])
    moved = live.copy()
    moved[:, 0] = 9.0
    out, w = gate(moved, {"b": True}, 0.12, rest=rest)  # a unseen: held, within hold_s
    assert np.array_equal(out[[0, 1]], live[[0, 1]]) and out[2, 0] == 9.0 and w[0] == pytest.approx(0.5)
    out, w = gate(moved, {"b": True}, 0.22, rest=rest)  # past hold_s: easing out at 1 / 0.2 s
    assert w[0] == pytest.approx(0.0) and w[3] == 1.0
    assert gate.weight == {"a": w[0], "b": 1.0} and gate.seen == {"a": False, "b": True}
    with pytest.raises(ValueError, match="one limb group"):
        LimbGate({"a": np.array([0]), "b": np.array([0])}, 2)
