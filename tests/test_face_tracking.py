"""The real FaceLandmarker on real media: detection, loss/recovery, and shapes that follow the face."""
import shutil

import cv2
import numpy as np
import pytest

from bridge.arkit import INDEX, N_SHAPES
from bridge.retarget import quat
from bridge.retarget.face import head_from_matrix
from conftest import FACE
from helpers import run_frames


def run_people(*args, **kw):
    """Person 0 of every frame `run_frames` gives."""
    return [f.people[0] for f in run_frames(*args, **kw)]


def _rgb(name):
    return cv2.cvtColor(cv2.imread(str(FACE / name)), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("name", ["astronaut.png", "grace_hopper.jpg", "single_face.jpg"])
def test_finds_face_in_portraits(name):
    from bridge.tracking.face import FaceTracker
    with FaceTracker(still_images=True) as t:
        obs = t.process(_rgb(name), 0)
    assert obs is not None
    assert obs.landmarks.shape == (478, 3) and obs.blendshapes.shape == (N_SHAPES,)
    assert obs.blendshapes[INDEX["tongueOut"]] == 0.0
    assert 0.0 <= obs.blendshapes.min() and obs.blendshapes.max() <= 1.0
    q, _ = head_from_matrix(obs.matrix)
    assert abs(np.linalg.norm(q) - 1) < 1e-6


def test_flipped_image_flips_head_yaw():
    """Mirroring the picture must mirror the yaw: the subject-space convention is consistent."""
    from bridge.tracking.face import FaceTracker
    img = _rgb("single_face.jpg")
    with FaceTracker(still_images=True) as t:
        a = t.process(img, 0)
        b = t.process(np.ascontiguousarray(img[:, ::-1]), 0)
    _, yaw_a, roll_a = quat.to_euler_deg(head_from_matrix(a.matrix)[0])
    _, yaw_b, roll_b = quat.to_euler_deg(head_from_matrix(b.matrix)[0])
    assert abs(yaw_a) > 4, "fixture should show a turned head"
    assert yaw_a * yaw_b < 0 and abs(yaw_a + yaw_b) < 3
    assert abs(roll_a + roll_b) < 3


@pytest.mark.parametrize("name", ["astronaut.png", "grace_hopper.jpg"])
def test_head_tilt_sign(name):
    """Rotating the picture 15 degrees counter-clockwise tilts the head towards the person's right
    shoulder: in subject space (avatar = you) that is a negative roll about +Z in Unity's convention."""
    from bridge.tracking.face import FaceTracker
    img = _rgb(name)
    m = cv2.getRotationMatrix2D((img.shape[1] / 2, img.shape[0] / 2), 15, 1.0)
    tilted = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]))
    with FaceTracker(still_images=True) as t:
        roll_a = quat.to_euler_deg(head_from_matrix(t.process(img, 0).matrix)[0])[2]
        roll_b = quat.to_euler_deg(head_from_matrix(t.process(tilted, 0).matrix)[0])[2]
    assert roll_b - roll_a == pytest.approx(-15, abs=4)


def test_no_face_in_cartoon(tracker):
    frames = run_people(FACE / "no_face.mp4", tracker)
    assert len(frames) >= 90
    assert not any(f.face.found for f in frames)
    assert all(f.face.presence == 0 for f in frames)
    assert all(np.all(f.blend_values == 0) for f in frames)


def _runs(found):
    """[(value, length), ...] of consecutive runs."""
    out = []
    for v in found:
        if out and out[-1][0] == v:
            out[-1][1] += 1
        else:
            out.append([v, 1])
    return out


def test_face_then_cartoon_eases_to_neutral(tracker):
    whole = run_frames(FACE / "face_then_cartoon.mov", tracker)
    frames = [f.people[0] for f in whole]
    found = [f.face.found for f in frames]
    runs = _runs(found)
    assert runs[0][0] is True and runs[0][1] > 20, runs  # found from the very first frame
    assert frames[0].face.presence == 1.0
    i = 0
    assert runs[i + 1][0] is False and runs[i + 1][1] > 30, runs
    lost_at = sum(r[1] for r in runs[:i + 1])
    lost = frames[lost_at:lost_at + runs[i + 1][1]]
    fps = 1 / np.median(np.diff([f.source_time for f in whole]))
    hold = int(0.5 * fps)
    # held right after the loss, then eased to neutral, with no jump between frames
    assert lost[1].face.presence == pytest.approx(1.0)
    assert lost[-1].face.presence == 0 and np.all(lost[-1].blend_values == 0)
    pres = np.array([f.face.presence for f in lost])
    assert np.all(np.diff(pres) <= 1e-9) and np.max(np.abs(np.diff(pres))) < 0.1
    assert pres[hold - 1] == pytest.approx(1.0)


def test_cartoon_then_face_blends_back_in(tracker):
    frames = run_people(FACE / "cartoon_then_face.mov", tracker)
    runs = _runs([f.face.found for f in frames])
    assert runs[0][0] is False and runs[0][1] > 80, runs
    longest = max(range(len(runs)), key=lambda i: runs[i][1] if runs[i][0] else 0)
    assert runs[longest][1] > 60, runs
    first = sum(r[1] for r in runs[:longest])
    pres = [f.face.presence for f in frames[first:]]
    assert pres[0] < 0.5 and max(pres) == 1.0
    jumps = [quat.angle_between(a.face.head_rotation, b.face.head_rotation) for a, b in zip(frames[first:], frames[first + 1:])]
    assert np.degrees(max(jumps)) < 15


def test_blendshapes_follow_the_face(tracker):
    """Shapes move where the face moves: measured lip gap, mouth width and eyelid gaps (landmark
    geometry, normalised by the eye-corner distance) against the output blendshapes."""
    frames = run_people(FACE / "expressions_pexels.mp4", tracker, {"source": {"mirror": False}})
    rows = [(f.face.landmarks, f.face.blendshapes) for f in frames if f.face.found and f.face.landmarks is not None]
    assert len(rows) > 400
    lm = np.stack([r[0] for r in rows])
    bs = np.stack([r[1] for r in rows])

    def dist(a, b):
        return np.linalg.norm(lm[:, a, :2] - lm[:, b, :2], axis=1) / np.linalg.norm(lm[:, 33, :2] - lm[:, 263, :2], axis=1)

    def shape(*names):
        return np.mean([bs[:, INDEX[n]] for n in names], axis=0)

    opening = bs[:, INDEX["jawOpen"]] + shape("mouthUpperUpLeft", "mouthUpperUpRight", "mouthLowerDownLeft", "mouthLowerDownRight")
    assert np.corrcoef(dist(13, 14), opening)[0, 1] > 0.75
    assert np.corrcoef(dist(61, 291), shape("mouthSmileLeft", "mouthSmileRight"))[0, 1] > 0.75
    assert np.corrcoef(dist(386, 374), bs[:, INDEX["eyeBlinkLeft"]])[0, 1] < -0.85  # the person's left eye
    assert np.corrcoef(dist(159, 145), bs[:, INDEX["eyeBlinkRight"]])[0, 1] < -0.85
    assert bs[:, INDEX["mouthSmileLeft"]].max() > 0.8 and bs[:, INDEX["eyeBlinkLeft"]].max() > 0.6


@pytest.mark.parametrize("name", ["single_face.mp4", "expressions_pexels.mp4", "face_then_cartoon.mov"])
def test_first_video_frame_is_found_like_the_same_still(name, tracker):
    """Frame 0 reports the face MediaPipe finds in it (no debounce before the first face), at full
    presence and with the same shapes as that frame alone as a picture."""
    from bridge.tracking.face import FaceTracker
    cap = cv2.VideoCapture(str(FACE / name))
    ok, bgr = cap.read()
    cap.release()
    assert ok
    with FaceTracker(still_images=True) as still:
        alone = still.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 0)
    assert alone is not None
    first = run_people(FACE / name, tracker, {"source": {"mirror": False}, "filter": {"enabled": False}},
                       max_frames=1)[0]
    assert first.face.found and first.face.presence == 1.0
    assert np.abs(first.face.blendshapes - alone.blendshapes).max() < 0.05


def test_every_picture_of_a_folder_is_found(tmp_path):
    for name in ("astronaut.png", "grace_hopper.jpg", "single_face.jpg"):
        shutil.copy(FACE / name, tmp_path / name)
    frames = run_people(tmp_path, None)
    assert len(frames) == 3 and all(f.face.found and f.face.presence == 1.0 for f in frames)


def test_reacquisition_after_a_loss_is_still_debounced():
    """The debounce stops flicker after a loss: a lone detection then is not trusted, two in a row are."""
    from bridge.config import FaceSettings, FilterSettings, TrackingLossSettings
    from bridge.retarget.face import FaceSolver
    from bridge.tracking.face import FaceTracker
    with FaceTracker(still_images=True) as t:
        obs = t.process(_rgb("astronaut.png"), 0)
    loss = TrackingLossSettings()
    solver = FaceSolver(FaceSettings(), FilterSettings(), loss)
    dt = 1 / 30
    assert solver.solve(obs, 0.0).found  # the first face of the run counts at once
    t = dt
    while t < loss.hold_s + loss.ease_s + 0.5:  # lost long enough to ease to neutral
        assert not solver.solve(None, t).found
        t += dt
    seen = [solver.solve(obs, t + k * dt).found for k in range(loss.reacquire_frames + 1)]
    assert seen == [False] * (loss.reacquire_frames - 1) + [True, True]


def test_bulk_read_equals_mediapipes_public_api(tracker):
    """The C-struct fast path (bridge/tracking/face.py) gives exactly what MediaPipe's objects give."""
    from bridge.tracking.face import FaceTracker
    cap = cv2.VideoCapture(str(FACE / "expressions_pexels.mp4"))
    with FaceTracker() as fast, FaceTracker() as public:
        assert fast._bulk is not None  # the fast path is live on the pinned MediaPipe
        public._bulk = None
        for i in range(30):
            ok, bgr = cap.read()
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            a, b = fast.process(rgb, i * 33), public.process(rgb, i * 33)
            assert (a is None) == (b is None)
            if a is not None:
                for x, y in ((a.landmarks, b.landmarks), (a.blendshapes, b.blendshapes), (a.matrix, b.matrix)):
                    assert x.dtype == y.dtype and np.array_equal(x, y)
    cap.release()
