"""Expression and action recognition: real ONNX models (onnxruntime), real fixture data.

No torch: everything here runs on numpy, onnxruntime and OpenCV (plus the face landmarker)."""
import json
import shutil

import cv2
import numpy as np
import pytest

from bridge.arkit import INDEX
from bridge.classify import action as act
from bridge.classify.expression import CLASSES, DEFAULT_MODEL, ExpressionClassifier, ProbabilitySmoother
from bridge.classify.face_crop import TEMPLATE, TEMPLATE_IDX, crop_transform, face_crop
from bridge.classify.onnx_runner import OnnxModel
from bridge.classify.triggers import TriggerLogic, TriggerRule
from bridge.errors import BridgeError, ModelError
from bridge.models import load_model, models_dir
from conftest import FACE, FIXTURES

EXPRESSION_MODELS = ["expression_fusion", "expression_fusion_fast", "expression_fer_mini_xception", "expression_fercnn"]
ACTION_MODEL = "action_msr_tcn"
MSR = FIXTURES / "action" / "msr_action3d"


@pytest.fixture(scope="module")
def publictest():
    d = np.load(FIXTURES / "expression" / "fer2013_publictest.npz")
    return d["images"][:500], d["labels"][:500].astype(int)


@pytest.fixture(scope="module")
def publictest_blendshapes(publictest):
    """MediaPipe's blendshapes of those faces, read the way `eval expression` reads them."""
    from bridge.classify.expression import fer_blendshapes
    from bridge.tracking.face import FaceTracker
    with FaceTracker(still_images=True) as t:
        shapes, found = fer_blendshapes(publictest[0], t)
    assert found.mean() > 0.85
    return shapes


@pytest.fixture(scope="module")
def msr_test():
    """The held-out subjects (2, 4, 6, 8, 10) of the standard cross-subject split."""
    listed = (MSR / "files_used_in_cvpr12_paper.txt").read_text().split()
    out = []
    for name in listed:
        if int(name[5:7]) % 2 == 0:
            try:
                out.append((int(name[1:3]) - 1, act.load_msr_skeleton(MSR / f"{name}_skeleton3D.txt")))
            except ValueError:
                pass
    return out


# ------------------------------------------------------------------------------------- model cards

@pytest.mark.parametrize("name", EXPRESSION_MODELS + [ACTION_MODEL])
def test_card_is_complete_and_sha256_matches(name):
    m = load_model(name)  # verifies the sha256
    c = m.card
    assert c["size_bytes"] == m.path.stat().st_size
    inp = c["inputs"][0]
    assert {"name", "shape", "dtype", "preprocessing"} <= set(inp)
    assert c["outputs"][0]["name"] == "probs"
    assert c["licence"] and c["source"] and c["build_script"]
    assert (models_dir() / c["build_script"]).is_file()
    assert c["measured"]
    if name.startswith("expression"):
        assert c["classes"] == list(CLASSES)
        meas = c["measured"]
        assert set(meas["per_class"]) == set(CLASSES) and len(meas["confusion_matrix"]["matrix"]) == 7
        assert sum(map(sum, meas["confusion_matrix"]["matrix"])) == 3589
        assert m.path.stat().st_size < 5_000_000
    else:
        assert inp["joint_order"] == list(act.JOINTS)
        assert c["classes"][:20] == list(act.MSR_ACTIONS) and c["classes"][20] == "idle"


def test_default_expression_model_is_the_most_accurate():
    acc = {n: load_model(n).card["measured"]["publictest_accuracy"] for n in EXPRESSION_MODELS}
    assert DEFAULT_MODEL == max(acc, key=acc.get)


# ------------------------------------------------------------------------------------- expression

@pytest.mark.parametrize("name", EXPRESSION_MODELS)
def test_expression_accuracy_on_publictest_subset(name, publictest, publictest_blendshapes):
    clf = ExpressionClassifier(name)
    images, labels = publictest
    p = clf.predict(images, publictest_blendshapes if clf.uses_blendshapes else None)
    assert p.shape == (500, 7)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-4)
    acc = float((p.argmax(1) == labels).mean())
    measured = clf.model.card["measured"]["publictest_first500_accuracy"]
    assert acc >= measured - 0.03, f"{name}: {acc:.3f} on the first 500 PublicTest faces, card says {measured}"


def _rgb(name):
    return cv2.cvtColor(cv2.imread(str(FACE / name)), cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("name", ["grace_hopper.jpg", "astronaut.png"])
def test_face_crop_from_landmarks_on_real_faces(name):
    from bridge.tracking.face import FaceTracker
    img = _rgb(name)
    with FaceTracker(still_images=True) as t:
        obs = t.process(img, 0)
    assert obs is not None
    crop = face_crop(img, obs.landmarks, 48)
    assert crop.shape == (48, 48) and crop.dtype == np.uint8 and crop.std() > 10
    # the template landmarks land where FER2013 puts them (least squares: within a few pixels)
    m = crop_transform(obs.landmarks, (img.shape[1], img.shape[0]), 48)
    pts = obs.landmarks[list(TEMPLATE_IDX), :2] * (img.shape[1], img.shape[0])
    mapped = pts @ m[:, :2].T + m[:, 2]
    assert np.median(np.linalg.norm(mapped - TEMPLATE * 48, axis=1)) < 2.5
    # eyes level and left of centre/right of centre in the crop, mouth below the nose
    assert abs(mapped[0, 1] - mapped[3, 1]) < 3 and mapped[0, 0] < 24 < mapped[3, 0]
    p = ExpressionClassifier().classify(img, obs.landmarks)
    assert set(p) == set(CLASSES) and abs(sum(p.values()) - 1) < 1e-4


def test_roll_is_removed_from_the_crop():
    from bridge.tracking.face import FaceTracker
    img = _rgb("grace_hopper.jpg")
    h, w = img.shape[:2]
    rot = cv2.warpAffine(img, cv2.getRotationMatrix2D((w / 2, h / 2), 20, 1.0), (w, h), borderMode=cv2.BORDER_REPLICATE)
    with FaceTracker(still_images=True) as t:
        a = face_crop(img, t.process(img, 0).landmarks).astype(float)
        b = face_crop(rot, t.process(rot, 1).landmarks).astype(float)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9


@pytest.fixture(scope="module")
def pexels_frames():
    """Every 4th frame of expressions_pexels.mp4: (rgb, landmarks, blendshapes)."""
    from bridge.tracking.face import FaceTracker
    cap = cv2.VideoCapture(str(FACE / "expressions_pexels.mp4"))
    out = []
    with FaceTracker() as t:
        i = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            if i % 4 == 0:
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                obs = t.process(rgb, int(i * 1000 / 24))
                if obs is not None:
                    out.append((rgb, obs.landmarks, obs.blendshapes))
            i += 1
    cap.release()
    return out


def test_smiles_read_as_happy_on_real_video(pexels_frames):
    clf = ExpressionClassifier()
    smile = np.array([0.5 * (b[INDEX["mouthSmileLeft"]] + b[INDEX["mouthSmileRight"]]) for _, _, b in pexels_frames])
    probs = np.array([[clf.classify(rgb, lm, b)[c] for c in CLASSES] for rgb, lm, b in pexels_frames])
    happy = CLASSES.index("happy")
    smiling, straight = smile > 0.5, smile < 0.1
    assert smiling.sum() >= 10 and straight.sum() >= 10
    # measured with both models: happy is the top class in 69% of these frames (others: crying
    # grimaces that also raise the mouth corners), mean P(happy) 0.61-0.65 vs 0.005-0.054 without a smile
    assert (probs[smiling].argmax(1) == happy).mean() >= 0.6
    assert probs[smiling, happy].mean() > probs[straight, happy].mean() + 0.4


def test_expressions_read_relative_to_a_calibrated_neutral_face():
    """single_face.mp4 starts neutral (frames 0-14, by eye) and smiles from frame 24. Calibrated on
    frames 0-7, the blendshapes move by (FER2013's neutral - his), his held-out neutral frames read
    at least as neutral as before and his smile still reads happy (models/measure_fer_neutral.py)."""
    from bridge.tracking.face import FaceTracker
    cap = cv2.VideoCapture(str(FACE / "single_face.mp4"))
    frames = []
    with FaceTracker() as t:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            frames.append((rgb, t.process(rgb, len(frames) * 33)))
    clf = ExpressionClassifier()
    ref = clf.neutral_reference
    assert ref is not None and ref.shape == (52,) and 0 <= ref.min() and ref.max() < 0.5
    neutral = np.median([obs.blendshapes for _, obs in frames[:8]], axis=0)
    b = frames[10][1].blendshapes
    np.testing.assert_allclose(clf.relative(b, ref), b, atol=1e-6)  # a user at FER's neutral: unchanged
    np.testing.assert_allclose(clf.relative(b, neutral), np.clip(b - neutral + ref, 0, 1), atol=1e-6)
    assert clf.relative(b, None) is b

    def read(idx, user_neutral):
        return [clf.classify(rgb, obs.landmarks, obs.blendshapes, user_neutral) for rgb, obs in (frames[i] for i in idx)]
    held_out = range(8, 15)
    before, after = read(held_out, None), read(held_out, neutral)
    assert np.mean([p["neutral"] for p in after]) >= np.mean([p["neutral"] for p in before])
    assert all(max(p, key=p.get) == "neutral" for p in after)
    smiling = read(range(24, 72), neutral)
    assert np.mean([max(p, key=p.get) == "happy" for p in smiling]) >= 0.9  # measured 46 of 48


# ------------------------------------------------------------------------------------- action model

def test_action_model_cross_subject_accuracy(msr_test):
    m = OnnxModel(ACTION_MODEL)
    correct = 0
    for label, seq in msr_test:
        p = m.run(act.sequence_windows(seq, act.WINDOW, 4))
        np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-4)
        correct += int(p.mean(0).argmax() == label)
    acc = correct / len(msr_test)
    measured = m.card["measured"]["cross_subject_accuracy_20_classes"]
    assert len(msr_test) == m.card["measured"]["test_sequences"]
    assert acc >= measured - 0.04, f"{acc:.3f} vs card {measured}"


def test_msr_joint_order_matches_the_data():
    seq = act.load_msr_skeleton(MSR / "a01_s01_e01_skeleton3D.txt")
    f = seq[0]
    J = act.J
    assert f[J["head"], 1] == f[:, 1].max()  # head highest
    assert f[[J["left_foot"], J["right_foot"], J["left_ankle"], J["right_ankle"]], 1].max() < f[J["left_knee"], 1]
    assert f[J["right_shoulder"], 0] > f[J["left_shoulder"], 0]  # Kinect x: towards the sensor's left = subject's right
    # high arm wave is done with the right arm: the right hand moves far more than the left
    rng = seq.max(0) - seq.min(0)
    assert np.linalg.norm(rng[J["right_hand"]]) > 3 * np.linalg.norm(rng[J["left_hand"]])
    n = act.normalise_window(seq[:32])
    assert n[:, J["left_shoulder"], 0].mean() > 0  # +x is the subject's left after normalisation
    assert n[:, J["head"], 1].mean() > 0.8  # head above the hips by about a torso length or more


def test_mediapipe_adapter_matches_kinect_convention():
    """A synthetic MediaPipe world pose (x image-right, y down) of a person facing the camera."""
    w = np.zeros((33, 3), np.float32)
    # subject's left side is on the image right for an unmirrored camera: +x
    for i, (x, y) in {11: (0.18, -0.45), 12: (-0.18, -0.45), 23: (0.1, 0), 24: (-0.1, 0), 7: (0.07, -0.65),
                      8: (-0.07, -0.65), 25: (0.1, 0.45), 26: (-0.1, 0.45), 27: (0.1, 0.85), 28: (-0.1, 0.85)}.items():
        w[i] = (x, y, 0)
    j = act.joints_from_mediapipe(w)
    J = act.J
    assert j[J["right_shoulder"], 0] > j[J["left_shoulder"], 0]  # like Kinect
    assert j[J["head"], 1] > j[J["neck"], 1] > j[J["hip_center"], 1]  # y up
    jm = act.joints_from_mediapipe(w, mirrored=True)
    np.testing.assert_allclose(jm[J["left_shoulder"]], j[J["right_shoulder"]] * (-1, 1, 1), atol=1e-6)


def _feed(rec, seq, t0=0.0, rate=15.0, head=None, vertical=None):
    outs = []
    for i, f in enumerate(seq):
        outs.append(rec.update(t0 + i / rate, joints=f, head_rotation=None if head is None else head[i],
                               vertical=None if vertical is None else vertical[i]))
    return outs


def test_recognizer_and_triggers_on_a_real_clap():
    rec = act.ActionRecognizer()
    label = act.MSR_ACTIONS.index("hand_clap")
    seq = act.load_msr_skeleton(MSR / "a10_s02_e01_skeleton3D.txt")  # a held-out subject
    trig = TriggerLogic("action", default=TriggerRule(enter=0.6, exit=0.3, min_hold_s=0.2, cooldown_s=2.0,
                                                       one_shot=True))
    events = []
    for i, f in enumerate(seq):
        t = i / 15
        p = rec.update(t, joints=f)
        events += trig.update(t, {k: v for k, v in p.items() if k not in act.HELD_ACTIONS})
    assert max(rec.model_probs, key=rec.model_probs.get) == act.MSR_ACTIONS[label]
    names = [e["name"] for e in events]
    assert names and set(names) == {"clap"}, events
    assert all("state" not in e for e in events)


def test_recognizer_cost_per_frame():
    import time
    rec = act.ActionRecognizer()
    seq = act.load_msr_skeleton(MSR / "a01_s02_e01_skeleton3D.txt")
    _feed(rec, seq[:20])
    t = time.perf_counter()
    _feed(rec, seq[20:40], t0=20 / 15)
    assert (time.perf_counter() - t) / 20 < 0.01  # well under 10 ms a frame (about 1 ms measured)


# ------------------------------------------------------------------------------------- rule-based actions

def _standing():
    return act.load_msr_skeleton(MSR / "a13_s01_e01_skeleton3D.txt")[0]  # a real standing pose (bend, frame 0)


def _quat_pitch_yaw(pitch_deg, yaw_deg):
    """Unity-frame quaternion for yaw about y then pitch about x."""
    p, y = np.radians(pitch_deg) / 2, np.radians(yaw_deg) / 2
    qy = np.array([0, np.sin(y), 0, np.cos(y)])
    qx = np.array([np.sin(p), 0, 0, np.cos(p)])
    x1, y1, z1, w1 = qy
    x2, y2, z2, w2 = qx
    return np.array([w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2, w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                     w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2, w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2])


@pytest.mark.parametrize("axis", ["nod", "head_shake"])
def test_nod_and_head_shake_rules_on_synthetic_head_motion(axis):
    """Synthetic: 2 Hz, +-10 degrees on one axis for 1.5 s, with 1 degree noise on both."""
    rng = np.random.default_rng(0)
    t = np.arange(0, 3, 1 / 30)
    osc = np.where(t > 1.0, 10 * np.sin(2 * np.pi * 2 * (t - 1.0)), 0) * (t < 2.5)
    n1, n2 = rng.normal(0, 1, (2, len(t)))
    pitch, yaw = (osc + n1, n2) if axis == "nod" else (n1, osc + n2)
    head = [_quat_pitch_yaw(p, y) for p, y in zip(pitch, yaw)]
    pa = np.array([act.head_angles(q) for q in head])
    np.testing.assert_allclose(pa[:, 0], pitch, atol=0.5)
    np.testing.assert_allclose(pa[:, 1], yaw, atol=0.5)
    rec = act.ActionRecognizer()
    outs = [rec.update(ti, head_rotation=q) for ti, q in zip(t, head)]
    other = "head_shake" if axis == "nod" else "nod"
    assert max(o[axis] for o in outs[:25]) < 0.5  # still head at first
    assert max(o[axis] for o in outs) > 0.5
    assert max(o[other] for o in outs) < 0.5
    trig = TriggerLogic("action", default=TriggerRule(enter=0.5, exit=0.3, min_hold_s=0.1, cooldown_s=1.0, one_shot=True))
    ev = [e for ti, o in zip(t, outs) for e in trig.update(ti, {axis: o[axis], other: o[other]})]
    assert [e["name"] for e in ev] == [axis]


def test_raise_hand_and_squat_rules_on_synthetic_skeletons():
    """Synthetic sequences built from a real standing pose: hold still 2 s, then act."""
    base = _standing()
    J = act.J
    rec = act.ActionRecognizer()
    still = [base + np.random.default_rng(i).normal(0, 0.003, base.shape) for i in range(30)]
    outs = _feed(rec, still)
    assert outs[-1]["raise_hand"] < 0.5 and outs[-1]["squat"] < 0.5
    raised = base.copy()
    head_y = base[J["head"], 1]
    for k, dy in (("right_elbow", 0.0), ("right_wrist", 0.25), ("right_hand", 0.32)):
        raised[J[k]] = base[J["right_shoulder"]] + (0, head_y - base[J["right_shoulder"], 1] + dy, 0)
    outs = _feed(rec, [raised] * 10, t0=2.0)
    assert outs[-1]["raise_hand"] > 0.5 and outs[-1]["squat"] < 0.5
    # squat: everything above the knees drops by 45% of the hip-to-ankle height
    rec2 = act.ActionRecognizer()
    _feed(rec2, still)
    leg = base[J["hip_center"], 1] - base[J["left_ankle"], 1]
    squat = base.copy()
    upper = [J[n] for n in act.JOINTS if not any(s in n for s in ("knee", "ankle", "foot"))]
    squat[upper, 1] -= 0.45 * leg
    squat[[J["left_knee"], J["right_knee"]], 2] -= 0.3  # knees forward (towards the sensor)
    outs = _feed(rec2, [squat] * 10, t0=2.0)
    assert outs[-1]["squat"] > 0.5 and outs[-1]["raise_hand"] < 0.5


def test_jump_fires_from_real_pose_landmarks_of_a_lifted_body():
    """A real photo of a standing person (COCO), shifted up in the image for a few frames as a jump
    would: MediaPipe Pose on every frame -> vertical_from_pose -> one jump; the unshifted frames
    read no jump."""
    from bridge.tracking.pose import PoseTracker
    img = cv2.cvtColor(cv2.imread(str(FIXTURES / "pose" / "COCO_val2014_000000000589.jpg")), cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    rec = act.ActionRecognizer()
    lifts = [0.0] * 20 + [0.15, 0.3, 0.4, 0.4, 0.3, 0.15] + [0.0] * 10  # torso lengths
    scores = []
    with PoseTracker(still_images=True) as pt:
        first = pt.process(img, 0)
        lm = first.landmarks[:, :2] * (w, h)
        torso_px = float(np.linalg.norm(lm[[11, 12]].mean(0) - lm[[23, 24]].mean(0)))
        for i, lift in enumerate(lifts):
            m = np.float32([[1, 0, 0], [0, 1, -lift * torso_px]])
            frame = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
            obs = pt.process(frame, i)
            v = act.vertical_from_pose(obs.landmarks, (w, h))
            scores.append(rec.update(i / 15, joints=act.joints_from_mediapipe(obs.world), vertical=v)["jump"])
    scores = np.array(scores)
    assert scores[:20].max() < 0.5 and scores[20:26].max() > 0.5, scores.round(2)


def test_jump_rule_needs_feet_off_the_ground():
    """Synthetic vertical tracks (torso lengths): a jump lifts hips and ankles; standing up from a
    squat lifts only the hips."""
    t = np.arange(0, 3, 1 / 30)
    bump = np.clip(np.sin(np.pi * (t - 1.5) / 0.4), 0, None) * ((t > 1.5) & (t < 1.9)) * 0.5
    jump = np.stack([bump, bump], 1)
    stand_up = np.stack([np.where(t > 1.5, 0.0, -0.6), np.zeros_like(t)], 1)
    r1, r2 = act.ActionRecognizer(), act.ActionRecognizer()
    j1 = [r1.update(ti, vertical=v)["jump"] for ti, v in zip(t, jump)]
    j2 = [r2.update(ti, vertical=v)["jump"] for ti, v in zip(t, stand_up)]
    assert max(j1[:45]) < 0.5 < max(j1)
    assert max(j2) < 0.5


# ------------------------------------------------------------------------------------- triggers

def test_trigger_hysteresis_hold_and_cooldown():
    trig = TriggerLogic("expression", default=TriggerRule(enter=0.6, exit=0.4, min_hold_s=0.1, release_s=0.0,
                                                          cooldown_s=1.0))
    ev = []
    seq = [0.0, 0.7, 0.0]  # a one-frame spike: no event (minimum hold)
    seq += [0.7] * 5  # 5 frames at 30 fps = 0.133 s >= hold: start
    seq += [0.5, 0.45, 0.55, 0.5]  # between exit and enter: stays on (hysteresis)
    seq += [0.3]  # end
    seq += [0.7] * 10  # within the 1 s cooldown: nothing
    seq += [0.0] * 20 + [0.7] * 6  # after the cooldown: start again
    for i, p in enumerate(seq):
        ev += [(i, e) for e in trig.update(i / 30, {"happy": p, "sad": 0.0})]
    states = [(e["name"], e["state"]) for _, e in ev]
    assert states == [("happy", "start"), ("happy", "end"), ("happy", "start")]
    assert ev[0][0] == 6 and ev[1][0] == 12
    assert ev[0][1]["value"] == 0.7 and ev[0][1]["type"] == "expression"
    assert trig.active() == ["happy"]
    assert trig.reset(5.0) == [{"type": "expression", "name": "happy", "state": "end", "value": 0.0}]


def test_one_shot_fires_exactly_once_per_gesture():
    trig = TriggerLogic("action", default=TriggerRule(enter=0.6, exit=0.3, min_hold_s=0.0, cooldown_s=0.5,
                                                      one_shot=True))
    probs = [0.0, 0.9, 0.9, 0.5, 0.9, 0.9, 0.9, 0.2] + [0.0] * 20 + [0.9, 0.9]
    ev = [e for i, p in enumerate(probs) for e in trig.update(i / 30, {"wave": p})]
    assert ev == [{"type": "action", "name": "wave", "value": 0.9}] * 2


def test_release_debounce_and_exclusive():
    trig = TriggerLogic("expression", default=TriggerRule(enter=0.5, exit=0.4, min_hold_s=0.0, release_s=0.1,
                                                          cooldown_s=0.0), exclusive=True)
    ev = []
    frames = [{"happy": 0.6, "surprise": 0.55}, {"happy": 0.3, "surprise": 0.55}, {"happy": 0.6, "surprise": 0.3}]
    frames += [{"happy": 0.2, "surprise": 0.1}] * 5
    for i, f in enumerate(frames):
        ev += trig.update(i / 30, f)
    assert [(e["name"], e["state"]) for e in ev] == [("happy", "start"), ("happy", "end")]
    with pytest.raises(ValueError):
        TriggerRule(enter=0.3, exit=0.5)


def test_smoother_lag_is_under_150_ms():
    s = ProbabilitySmoother(tau_s=0.1)
    t, out = 0.0, None
    for _ in range(10):
        s.update(t, {"happy": 0.0})
        t += 1 / 30
    t0 = t
    while True:
        out = s.update(t, {"happy": 1.0})
        if out["happy"] >= 0.5:
            break
        t += 1 / 30
    assert t - t0 <= 0.15


# ------------------------------------------------------------------------------------- custom actions

def test_record_and_train_custom_actions(tmp_path):
    """Two 'user' actions recorded from real MSR clips (claps and forward kicks of 6 subjects)."""
    from bridge.classify.custom_actions import record_examples, train_custom
    for name, a in (("clap", 10), ("kick", 14)):
        clips = [act.load_msr_skeleton(MSR / f"a{a:02d}_s{s:02d}_e01_skeleton3D.txt") for s in range(1, 7)]
        paths = record_examples(clips, name, tmp_path)
        assert len(paths) == 6 and all(p.is_file() for p in paths)
    report = train_custom(tmp_path, epochs=25, progress=False)
    assert report["classes"] == ["clap", "kick", "idle"]
    assert report["heldout_clips"] == 4 and report["heldout_accuracy"] >= 0.75
    rec = act.ActionRecognizer("action_custom", directory=tmp_path)
    assert set(rec.actions) >= {"clap", "kick", "idle"}
    seq = act.load_msr_skeleton(MSR / "a10_s08_e02_skeleton3D.txt")
    outs = _feed(rec, seq)
    assert max(o["clap"] for o in outs) > max(o["kick"] for o in outs)
    with pytest.raises(BridgeError, match="record-action"):
        train_custom(tmp_path / "empty", progress=False)
    with pytest.raises(BridgeError):
        record_examples([np.zeros((3, 20, 3))], "bad name!", tmp_path)


# ------------------------------------------------------------------------------------- bad models

@pytest.fixture
def model_copy(tmp_path):
    for f in ("expression_fercnn.onnx", "expression_fercnn.card.json"):
        shutil.copy(models_dir() / f, tmp_path / f)
    return tmp_path


def test_corrupt_model_gives_a_fix_it_error(model_copy):
    p = model_copy / "expression_fercnn.onnx"
    data = bytearray(p.read_bytes())
    data[100:110] = b"\0" * 10
    p.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="corrupt.*train_expression|corrupt.*rebuild"):
        ExpressionClassifier("expression_fercnn", directory=model_copy)


def test_missing_model_and_card_give_fix_it_errors(model_copy):
    (model_copy / "expression_fercnn.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        OnnxModel("expression_fercnn", directory=model_copy)
    with pytest.raises(ModelError, match="card .* is missing"):
        OnnxModel("expression_nonexistent", directory=model_copy)


def test_unloadable_or_mismatched_model_gives_a_clear_error(model_copy):
    import hashlib
    p = model_copy / "expression_fercnn.onnx"
    card_p = model_copy / "expression_fercnn.card.json"
    card = json.loads(card_p.read_text())
    card["inputs"][0]["name"] = "image"
    card_p.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="card and model do not match"):
        OnnxModel("expression_fercnn", directory=model_copy)
    p.write_bytes(b"not an onnx file")  # sha256 updated: passes the hash, fails to load
    card["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
    card_p.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="onnxruntime cannot load.*rebuild"):
        OnnxModel("expression_fercnn", directory=model_copy)


def test_model_index_matches_the_cards():
    """models/README.md is generated from the cards; regenerate it with models/write_model_index.py."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("write_model_index", models_dir() / "write_model_index.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (models_dir() / "README.md").read_text() == mod.index_text()
