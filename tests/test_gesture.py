"""Hand gestures from finger geometry, on real HaGRID photos, and as triggers through the pipeline."""
import json
import shutil

import cv2
import numpy as np
import pytest

from bridge.classify.gesture import GESTURES, classify
from conftest import FIXTURES, cli
from helpers import run_frames

GESTURE_DIR = FIXTURES / "gesture"
L_DIR = FIXTURES / "gesture_l"  # real L photos: ASL L and 1 of 5 signers, HaGRID v2 thumb_index (docs/models.md)


@pytest.fixture(scope="module")
def hand_tracker():
    from bridge.tracking.hands import HandTracker
    with HandTracker(still_images=True) as t:
        yield t


@pytest.fixture(scope="module")
def evaluation():
    from bridge.evaluate import evaluate_gesture
    return evaluate_gesture(GESTURE_DIR, progress=False)


def test_per_class_precision_recall_on_hagrid(evaluation):
    """Per-class figures over the photos with a hand found (the live max-over-hands rule, as in
    `avatar-bridge eval gesture`). HaGRID v1 has no L class, so here l_sign is measured by its false
    positives: it must fire on none of the other classes' photos (measured: 0 of 291; the other
    classes' figures are unchanged by adding it). Its recall: test_l_sign_on_held_back_l_photos."""
    _, rep = evaluation.subsets["hand_found"]
    per = rep["per_class"]
    assert rep["n"] > 250
    assert "l_sign" not in rep["confusion_matrix"]["rows_true_cols_pred"], "l_sign fired on another class's photo"
    for g in GESTURES:
        if g == "l_sign":
            continue
        assert per[g]["precision"] > 0.85 and per[g]["recall"] > 0.75, (g, per[g])


def test_l_sign_on_a_real_pointing_hand_with_its_thumb_laid_out(hand_tracker):
    """The rule's angle on real pointing hands (`one` photos): each one's thumb, with its own
    phalanx lengths, is laid straight from its MCP joint in the palm's plane, away from the little
    finger, at an angle to the index. At 90 and 65 degrees it is an L; at 35 and 20 degrees (a thumb
    held along the index, as in ASL P or Q) it is not, nor is the untouched hand. (Laid out this way
    a thumb at 50 degrees ends over the palm and counts as folded; real L hands measure 50-80 degrees
    with their thumbs clear of the palm: test_l_sign_on_held_back_l_photos.)"""
    from bridge.classify.gesture import INDEX, LITTLE, THUMB
    checked = 0
    for f in sorted((GESTURE_DIR / "one").glob("*.jpg"))[:10]:
        hands = hand_tracker.process(cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB), 0)
        hand = next((h for h in hands if classify(h.world, h.landmarks)["one"] == 1.0), None)
        if hand is None:
            continue
        w = np.array(hand.world, dtype=np.float64)
        index = (w[INDEX[3]] - w[INDEX[0]]) / np.linalg.norm(w[INDEX[3]] - w[INDEX[0]])
        across = w[INDEX[0]] - w[LITTLE[0]]  # from the little finger's knuckle to the index's
        out = across - np.dot(across, index) * index
        out /= np.linalg.norm(out)
        lengths = np.linalg.norm(np.diff(w[list(THUMB)], axis=0), axis=1)

        def thumb_at(deg: float) -> np.ndarray:
            d = np.cos(np.radians(deg)) * index + np.sin(np.radians(deg)) * out
            p = w.copy()
            for k in (2, 3):
                p[THUMB[k]] = p[THUMB[k - 1]] + d * lengths[k - 1]
            return p

        assert classify(w, hand.landmarks)["l_sign"] == 0.0
        assert classify(thumb_at(90), hand.landmarks)["l_sign"] == 1.0, f.name
        assert classify(thumb_at(65), hand.landmarks)["l_sign"] == 1.0, f.name
        assert classify(thumb_at(35), hand.landmarks)["l_sign"] == 0.0, f.name
        assert classify(thumb_at(20), hand.landmarks)["l_sign"] == 0.0, f.name
        checked += 1
    assert checked >= 5


@pytest.mark.skipif(not L_DIR.is_dir(), reason=f"{L_DIR} (real L photos) is not in the fixtures")
def test_l_sign_on_held_back_l_photos():
    """l_sign on real L photos never used to choose its bounds: ASL letter L of signers 3-5 of the
    Massey set (its bound of 45 degrees was chosen on signers 1-2) and HaGRID v2 thumb_index crops,
    against the same signers' pointing hands (ASL 1). Measured (eval gesture --no-rescue): L recall
    17/24 (the misses read as `one`: an index bent under 155 degrees at its PIP joint, or a thumb
    under 45), precision 1.0; signers 1-2: 48/50."""
    from bridge.evaluate import evaluate_gesture
    m = L_DIR / "asl_massey"
    ev = evaluate_gesture(None, progress=False, rescue=False, photos=(
        f"l_sign={m}/l/hand[345]_*", f"one={m}/1/hand[345]_*", f"l_sign={L_DIR}/hagrid_v2"))
    per = ev.report["per_class"]
    assert per["l_sign"]["support"] == 24 and per["one"]["support"] == 20
    assert per["l_sign"]["recall"] >= 0.65 and per["l_sign"]["precision"] == 1.0, per


def test_gesture_accuracy_on_hagrid(hand_tracker):
    """(l_sign has no photos here: see test_l_sign_on_held_back_l_photos.) A photo counts as right when one of its detected hands shows its class (HaGRID scenes may
    show a second, idle hand). Measured 90.7% over 291 photos with a hand found (palm 37/38,
    fist 33/33, one 35/37, peace 34/38, rock 32/35, dislike 36/39, ok 30/37, like 27/34).
    `avatar-bridge eval gesture` uses the same max-over-hands rule and also reports every photo, misses included."""
    right = total = 0
    per_class = {}
    for g in (g for g in GESTURES if (GESTURE_DIR / g).is_dir()):
        ok = n = 0
        for f in sorted((GESTURE_DIR / g).glob("*.jpg")):
            hands = hand_tracker.process(cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB), 0)
            if not hands:
                continue
            n += 1
            ok += any(classify(h.world, h.landmarks)[g] == 1.0 for h in hands)
        per_class[g] = ok / n
        right, total = right + ok, total + n
    assert total > 250
    assert right / total > 0.85, per_class
    assert min(per_class.values()) > 0.5, per_class


def test_scores_are_one_hot_or_empty(hand_tracker):
    f = next((GESTURE_DIR / "peace").glob("*.jpg"))
    hands = hand_tracker.process(cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB), 0)
    s = classify(hands[0].world, hands[0].landmarks)
    assert set(s) == set(GESTURES) and sum(s.values()) in (0.0, 1.0)


def test_gesture_triggers_through_the_pipeline():
    frames = run_frames(GESTURE_DIR / "fist", None, {"face": {"enabled": False}, "hands": {"enabled": True}},
                        max_frames=12)
    people = [f.people[0] for f in frames]
    assert all("gesture" in p.classes for p in people)
    starts = [e for p in people for e in p.events if e["type"] == "gesture" and e.get("state") == "start"]
    assert starts and starts[0]["name"] == "fist"


def test_eval_gesture_photos_sets_as_a_user_runs_them(tmp_path):
    """`eval gesture --photos CLASS=PATH`: a folder or a glob of one class, alone or beside
    --images; the same photos give the same figures as class sub-folders. Bad specs: one line."""
    for g in ("peace", "palm"):
        (tmp_path / g).mkdir()
        for f in sorted((GESTURE_DIR / g).glob("*.jpg"))[:5]:
            shutil.copy(f, tmp_path / g / f.name)

    def summary(*args):
        proc = cli("eval", "gesture", *args, "-q", "--no-rescue")
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    folders = summary("--images", str(tmp_path))
    sets = summary("--photos", f"victory={tmp_path / 'peace'}", "--photos", f"palm={tmp_path / 'palm'}/*.jpg")
    assert folders["n"] == sets["n"] == 10 and folders["confusion_matrix"] == sets["confusion_matrix"]
    both = summary("--images", str(tmp_path), "--photos", f"l_sign={tmp_path / 'palm'}/*.jpg")
    assert both["n"] == 15 and "l_sign" in both["classes"]
    for spec, words in (("palm", ("CLASS=PATH",)), (f"jazz={tmp_path}", ("jazz", "l_sign")),
                        (f"palm={tmp_path}/nothing*", ("no photos",))):
        proc = cli("eval", "gesture", "--photos", spec)
        err = proc.stderr.strip()
        assert proc.returncode == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert all(w in err for w in words), err
    proc = cli("eval", "gesture")
    assert proc.returncode == 2 and "--photos" in proc.stderr
