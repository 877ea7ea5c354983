"""Everyday activities on held-back subjects of real data (KARD subjects 6-7, SBU pairs with
subjects 3 or 4: never trained on), through the real ONNX models, the live recognizer's own
resampling, and the real MediaPipe pose tracker on a real video of a standing person."""
import cv2
import numpy as np
import pytest

from bridge.classify import action as act
from bridge.classify.action_features import capture
from bridge.classify.activity import PAIR_CLASSES, ActivityRecognizer, PairActivity
from bridge.classify.activity_features import falling_score, lying_score, torso_tilt
from bridge.classify.onnx_runner import OnnxModel
from bridge.classify.stage import ClassifierStage
from bridge.config import ClassifySettings, from_tables
from bridge.errors import ConfigError
from bridge.reactions import ReactionState
from bridge.datasets import load_kard, load_sbu
from conftest import FIXTURES

KARD = FIXTURES / "action" / "kard"
SBU = FIXTURES / "action" / "sbu"
NTU = FIXTURES / "body" / "ntu_S001C001P001R001A001_rgb.avi"  # one person standing, whole body
HELD_BACK = (6, 7)


def _run(rec, seq, fps, rate, seed=0, hold_s=0.0):
    """Feed a clip captured at `rate` Hz (irregular timing) to the recognizer; the last frame held hold_s."""
    if hold_s:
        seq = np.concatenate([seq, np.repeat(seq[-1:], int(hold_s * fps), 0)])
    t, x = capture(seq, fps, rate, np.random.default_rng(seed), 0.25, 0.1, 0.005)
    rec.reset()
    return [rec.update(float(ti), xi) for ti, xi in zip(t, x)]


def _top(p: dict) -> str:
    return max(p, key=p.get)


def test_person_model_card_figures_on_held_back_subjects():
    m = OnnxModel("activity_person_mlp")
    val = m.card["measured"]["kard_validation_subjects_6_7"]
    for hz in ("7.5", "15", "30"):
        per = val[hz]["per_class"]
        assert val[hz]["accuracy"] >= 0.9
        for c in ("standing", "sitting", "sitting_down", "standing_up"):
            assert per[c]["support"] > 0 and per[c]["recall"] >= 0.7, (hz, c, per[c])


@pytest.mark.parametrize("rate", [7.5, 15.0, 30.0])
def test_held_back_sit_downs_and_stand_ups(rate):
    """KARD sit down (17) / stand up (18) of subjects 6-7: the clip starts in one state, ends in the
    other (held 2 s), and the transition class is the top one somewhere in between."""
    rec = ActivityRecognizer()
    ok = total = 0
    for a, first, trans, last in ((17, "standing", "sitting_down", "sitting"), (18, "sitting", "standing_up", "standing")):
        for s in HELD_BACK:
            for e in (1, 2, 3):
                seq = load_kard(KARD / f"a{a:02d}_s{s:02d}_e{e:02d}_realworld.txt")
                outs = _run(rec, seq, 30.0, rate, seed=e, hold_s=2.0)
                tops = [_top(o) for o in outs if o]
                total += 1
                ok += tops[len(tops) // 10] == first and tops[-1] == last and trans in tops
    assert ok >= 0.75 * total, f"{ok}/{total}"


def test_held_back_walks_and_standing_activities():
    rec = ActivityRecognizer()
    walk = stand = 0
    for s in HELD_BACK:
        for e in (1, 2, 3):
            outs = _run(rec, load_kard(KARD / f"a14_s{s:02d}_e{e:02d}_realworld.txt"), 30.0, 7.5, seed=e)
            walk += np.mean([_top(o) == "walking" for o in outs[len(outs) // 3:]]) > 0.5
            # hand clap (13) and drink (16) are done standing
            for a in (13, 16):
                outs = _run(rec, load_kard(KARD / f"a{a:02d}_s{s:02d}_e{e:02d}_realworld.txt"), 30.0, 7.5, seed=e)
                stand += np.mean([_top(o) == "standing" for o in outs[len(outs) // 3:]]) > 0.8
    assert walk >= 4 and stand >= 10, (walk, stand)


def test_lying_and_falling_rules_on_a_real_pose():
    """A real KARD standing frame tipped over (rotated about the camera's x axis) by 90 degrees in
    0.5 s: falling fires during the tip, lying once flat; the upright frames read neither."""
    f = load_kard(KARD / "a13_s06_e01_realworld.txt")[0]
    hip = f[act.J["hip_center"]]
    t = np.arange(0, 2.0, 1 / 15)
    ang = np.radians(np.clip((t - 0.5) / 0.5, 0, 1) * 90)
    seq = np.stack([hip + (f - hip) @ np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]]).T
                    for a in ang])
    tilt = torso_tilt(seq)
    assert lying_score(tilt[4]) == 0 and falling_score(t[:5], tilt[:5]) == 0
    assert max(falling_score(t[:i], tilt[:i]) for i in range(5, 16)) > 0.5
    assert lying_score(tilt[-1]) > 0.9
    rec = ActivityRecognizer()
    outs = [rec.update(float(ti), x) for ti, x in zip(t, seq)]
    assert _top(outs[3]) == "standing" and _top(outs[-1]) == "lying"
    assert "falling" in [_top(o) for o in outs[8:16]]


def test_pair_model_on_held_back_pairs():
    """Every SBU clip of the pairs with subject 3 or 4 at 15 Hz through PairActivity (frame by frame):
    fighting vs friendly vs none, the mean over the clip's last 40%."""
    pair = PairActivity()
    labels = {3: "fighting", 4: "fighting", 8: "fighting", 5: "friendly", 6: "friendly", 1: "none", 2: "none", 7: "none"}
    conf = np.zeros((3, 3), int)
    for f in sorted(SBU.glob("*/*/*/skeleton_pos.txt")):
        pr = f.parts[-4]
        if not {int(pr[1:3]), int(pr[4:6])} & {3, 4}:
            continue
        a, b = load_sbu(f)
        pair.reset()
        outs = [pair.update(i / 15.0, a[i], b[i]) for i in range(len(a))]
        late = outs[int(0.6 * len(outs)):]
        p = np.mean([[o[c] for c in PAIR_CLASSES] for o in late], 0)
        conf[PAIR_CLASSES.index(labels[int(f.parts[-3])]), p.argmax()] += 1
    acc = np.trace(conf) / conf.sum()
    recall = np.diag(conf) / conf.sum(1)
    assert conf.sum() > 100 and acc >= 0.7 and recall[0] >= 0.7, conf
    # fighting precision: friendly contact is rarely called a fight
    assert conf[1, 0] <= 0.25 * conf[1].sum(), conf


def test_standing_person_through_the_real_pose_tracker():
    """The NTU clip (a person standing, drinking from a cup) through MediaPipe Pose and the classifier stage."""
    from bridge.tracking.pose import PoseTracker
    stage = ClassifierStage(ClassifySettings(expression=False, action=False, gesture=False, mood=False, activity=True))
    cap = cv2.VideoCapture(str(NTU))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    tops, i, all_events = [], 0, []
    reactions = ReactionState(from_tables({"reactions": {"activity": {"standing": {"vrchat": "Standing"}}}}).reactions)
    with PoseTracker() as pt:
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            small = cv2.resize(bgr, (640, 360))
            rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
            obs = pt.process(rgb, int(i * 1000 / fps))
            classes, events = {}, []
            stage.process(i / fps, rgb, None, obs, None, classes, events)
            if "activity" in classes:
                tops.append(_top(classes["activity"]))
            _, on, _ = reactions.update(i / fps, classes, events)
            all_events += events
            i += 1
    cap.release()
    assert len(tops) >= 0.8 * i
    assert np.mean([x == "standing" for x in tops[len(tops) // 4:]]) >= 0.8, tops
    starts = [e for e in all_events if e["type"] == "activity" and e.get("state") == "start"]
    assert starts and starts[0]["name"] == "standing", all_events
    assert on[0]  # [reactions.activity] standing holds its VRChat bool while the trigger is on


def test_reactions_check_activity_names():
    with pytest.raises(ConfigError, match="standng"):
        from_tables({"reactions": {"activity": {"standng": {"vrchat": "S"}}}})


@pytest.mark.parametrize("folder,subjects,hz,card_key", [
    ("kard", {6, 7}, 7.5, ("activity_person_mlp", "kard_validation_subjects_6_7", None)),
    ("sbu", {3, 4}, 15.0, ("activity_pair_mlp", "sbu_validation_pairs_with_subjects_3_4", "clips"))])
def test_eval_activity_regenerates_the_card_figures(folder, subjects, hz, card_key):
    """`avatar-bridge eval activity` (bridge.evaluate.evaluate_activity) gives the cards' figures."""
    from bridge.evaluate import evaluate_activity
    ev = evaluate_activity(FIXTURES / "action" / folder, subjects, hz)
    name, key, sub = card_key
    card = OnnxModel(name).card["measured"][key][f"{hz:g}"]
    card = card[sub] if sub else card
    assert ev.report["confusion_matrix"] == card["confusion_matrix"]
    assert ev.report["accuracy"] == card["accuracy"]


def test_eval_activity_refuses_a_folder_without_skeletons(tmp_path):
    from bridge.errors import BridgeError
    from bridge.evaluate import evaluate_activity
    with pytest.raises(BridgeError, match="holds no KARD"):
        evaluate_activity(tmp_path)
    with pytest.raises(BridgeError, match="capture-hz"):
        evaluate_activity(KARD, capture_hz=0)
