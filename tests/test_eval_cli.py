"""`avatar-bridge eval expression|action|gesture` on real fixture data, as a user runs it."""
import json
import shutil

import numpy as np
import pytest

from bridge.classify.expression import CLASSES, ExpressionClassifier
from bridge.models import models_dir
from conftest import FIXTURES, cli

PUBLICTEST = FIXTURES / "expression" / "fer2013_publictest.npz"
MSR = FIXTURES / "action" / "msr_action3d"
GESTURE = FIXTURES / "gesture"


def summary(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def one_line_error(proc, *words) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


@pytest.fixture(scope="module")
def faces():
    d = np.load(PUBLICTEST)
    return d["images"][:120], d["labels"][:120].astype(int)


def test_eval_expression_matches_the_classifier(tmp_path, faces):
    """String labels; the command's figures are those of the classifier run directly."""
    images, labels = faces
    f = tmp_path / "faces.npz"
    np.savez(f, images=images, labels=np.array([CLASSES[i] for i in labels]))
    s = summary(cli("eval", "expression", "--npz", str(f), "--model", "expression_fercnn", "-q"))
    pred = ExpressionClassifier("expression_fercnn").predict(images).argmax(1)
    assert s["eval"] == "expression" and s["model"] == "expression_fercnn" and s["n"] == 120
    assert s["accuracy"] == pytest.approx((pred == labels).mean(), abs=1e-4)
    cm = np.array(s["confusion_matrix"])
    assert cm.sum() == 120 and (cm.sum(1) == np.bincount(labels, minlength=7)).all()
    assert s["accuracy"] > 0.45 and set(s["f1"]) == set(CLASSES)


def test_eval_expression_maps_index_labels_through_the_file_classes(tmp_path, faces):
    """Index labels in the file's own class order give the same result as class names."""
    images, labels = faces
    order = list(reversed(CLASSES))
    a, b = tmp_path / "names.npz", tmp_path / "indices.npz"
    np.savez(a, images=images, labels=np.array([CLASSES[i] for i in labels]))
    np.savez(b, images=images, labels=np.array([order.index(CLASSES[i]) for i in labels]), classes=np.array(order))
    sa = summary(cli("eval", "expression", "--npz", str(a), "--model", "expression_fercnn", "-q"))
    sb = summary(cli("eval", "expression", "--npz", str(b), "--model", "expression_fercnn", "-q"))
    assert sa["accuracy"] == sb["accuracy"] and sa["confusion_matrix"] == sb["confusion_matrix"]


def test_eval_expression_default_model_reads_blendshapes(tmp_path, faces):
    """The default (fusion) model gets MediaPipe's blendshapes of each face; faces are found in most crops."""
    images, labels = faces
    f = tmp_path / "faces.npz"
    np.savez(f, images=images[:60], labels=labels[:60])
    s = summary(cli("eval", "expression", "--npz", str(f), "-q"))
    clf = ExpressionClassifier()
    if clf.uses_blendshapes:
        assert s["face_found"] > 0.8
    assert s["model"] == clf.model.name and s["accuracy"] > 0.5


def test_eval_expression_with_a_model_file_and_its_card(tmp_path, faces):
    images, labels = faces
    for ext in (".onnx", ".card.json"):
        shutil.copy(models_dir() / f"expression_fercnn{ext}", tmp_path / f"mine{ext}")
    card = json.loads((tmp_path / "mine.card.json").read_text())
    card["file"] = "mine.onnx"
    (tmp_path / "mine.card.json").write_text(json.dumps(card))
    f = tmp_path / "faces.npz"
    np.savez(f, images=images[:40], labels=labels[:40])
    s = summary(cli("eval", "expression", "--npz", str(f), "--model", str(tmp_path / "mine.onnx"), "-q"))
    assert s["model"] == "mine" and s["n"] == 40
    (tmp_path / "mine.card.json").unlink()
    one_line_error(cli("eval", "expression", "--npz", str(f), "--model", str(tmp_path / "mine.onnx")),
                   "mine.card.json")


@pytest.mark.parametrize("content, words", [
    (b"not an npz", ["is not an .npz archive: expected", "(N, 48, 48) uint8", "`labels` (N,)", "numpy.savez"]),
    ("missing_labels", ["lacks `labels`: expected"]),
    ("bad_label", ["unknown expression labels", "contempt"]),
])
def test_eval_expression_bad_files(tmp_path, content, words):
    f = tmp_path / "bad.npz"
    if content == "missing_labels":
        np.savez(f, images=np.zeros((3, 48, 48), np.uint8))
    elif content == "bad_label":
        np.savez(f, images=np.zeros((2, 48, 48), np.uint8), labels=np.array(["happy", "contempt"]))
    else:
        f.write_bytes(content)
    one_line_error(cli("eval", "expression", "--npz", str(f), "--model", "expression_fercnn"), *words)


def _msr_folder(tmp_path, toml: str, subjects=(2, 4)):
    d = tmp_path / "msr"
    d.mkdir()
    for f in MSR.glob("*_skeleton3D.txt"):
        if int(f.name[5:7]) in subjects:
            (d / f.name).symlink_to(f)
    (d / "classes.toml").write_text(toml)
    return d


def test_eval_action_on_avatar_actions(tmp_path):
    """Test-half subjects (never trained on) with MSR actions named as avatar actions."""
    d = _msr_folder(tmp_path, '[classes]\n1 = "wave"\na02 = "wave"\n10 = "clap"\n14 = "kick"\n13 = "bow"\n')
    s = summary(cli("eval", "action", "--data", str(d), "-q"))
    n = sum(1 for f in d.glob("*.txt") if int(f.name[1:3]) in (1, 2, 10, 13, 14))
    assert s["n"] == n and np.array(s["confusion_matrix"]).sum() == n
    assert s["accuracy"] > 0.8 and s["f1"]["clap"] > 0.8


def test_eval_action_on_model_classes_with_a_subject_filter(tmp_path):
    d = _msr_folder(tmp_path, '[classes]\n10 = "hand_clap"\n16 = "jogging"\n13 = "bend"\n', subjects=(2, 3, 4))
    s = summary(cli("eval", "action", "--data", str(d), "--subjects", "2,4", "-q"))
    n = sum(1 for f in d.glob("*.txt") if int(f.name[1:3]) in (10, 13, 16) and int(f.name[5:7]) in (2, 4))
    assert s["n"] == n and s["accuracy"] > 0.7


def _resampled_msr_folder(tmp_path, toml: str, factor: int):
    """Subject 2's sequences of four actions as if captured `factor` times faster: linear
    interpolation between the original frames, which stay every `factor`-th frame."""
    d = tmp_path / f"msr_x{factor}"
    d.mkdir()
    for f in sorted(MSR.glob("a1[034]_s02_*_skeleton3D.txt")) + sorted(MSR.glob("a01_s02_*_skeleton3D.txt")):
        a = np.loadtxt(f).reshape(-1, 20, 4)
        t = np.arange(factor * (len(a) - 1) + 1) / factor
        up = np.stack([np.interp(t, np.arange(len(a)), c) for c in a.reshape(len(a), -1).T], 1)
        np.savetxt(d / f.name, up.reshape(-1, 4), fmt="%.6f")
    (d / "classes.toml").write_text(toml)
    return d


def test_eval_action_honours_the_frame_rate(tmp_path):
    """30 Hz files with `fps = 30` in their TOML are judged exactly like the 15 Hz originals (the
    model's window is resampled to its own rate); --fps overrides the TOML, and a wrong rate (the
    same motions read at half speed) changes the predictions."""
    classes = '[classes]\n1 = "wave"\n10 = "clap"\n13 = "bow"\n14 = "kick"\n'
    original = _msr_folder(tmp_path, classes, subjects=(2,))
    for f in original.glob("a*.txt"):
        if int(f.name[1:3]) not in (1, 10, 13, 14):
            f.unlink()
    fast = _resampled_msr_folder(tmp_path, "fps = 30\n" + classes, 2)
    s15 = summary(cli("eval", "action", "--data", str(original), "-q"))
    s30 = summary(cli("eval", "action", "--data", str(fast), "-q"))
    wrong = summary(cli("eval", "action", "--data", str(fast), "--fps", "15", "-q"))
    assert s15["fps"] == 15.0 and s30["fps"] == 30.0 and wrong["fps"] == 15.0
    assert s15["n"] == s30["n"] == wrong["n"] == len(list(fast.glob("*.txt")))
    assert s30["confusion_matrix"] == s15["confusion_matrix"] and s30["accuracy"] == s15["accuracy"]
    assert wrong["confusion_matrix"] != s15["confusion_matrix"]


def test_eval_action_help_states_the_frame_rate_default():
    proc = cli("eval", "action", "--help")
    assert proc.returncode == 0 and "--fps" in proc.stdout
    assert "else 15, MSR Action3D's rate" in " ".join(proc.stdout.split())


@pytest.mark.parametrize("toml, words", [
    ('[classes]\n1 = "moonwalk"\n', ["moonwalk", "avatar actions"]),
    ('[classes\n', ["not valid TOML"]),
    ('[labels]\n1 = "wave"\n', ["[classes]"]),
    ('fps = "fast"\n[classes]\n1 = "wave"\n', ["fps = 'fast'", "above 0", "fps = 30"]),
    ('fps = 0\n[classes]\n1 = "wave"\n', ["fps = 0", "above 0"]),
])
def test_eval_action_bad_class_files(tmp_path, toml, words):
    one_line_error(cli("eval", "action", "--data", str(_msr_folder(tmp_path, toml))), *words)


def test_eval_action_rejects_a_frame_rate_of_zero(tmp_path):
    d = _msr_folder(tmp_path, '[classes]\n1 = "wave"\n')
    one_line_error(cli("eval", "action", "--data", str(d), "--fps", "0"), "0 fps", "above 0")


def test_eval_gesture_with_alias_folder_names(tmp_path):
    """Sub-folders may use common names (thumbs_up for HaGRID's like)."""
    for src, name in (("like", "thumbs_up"), ("peace", "victory"), ("palm", "palm")):
        (tmp_path / name).mkdir()
        for f in sorted((GESTURE / src).glob("*.jpg"))[:6]:
            shutil.copy(f, tmp_path / name / f.name)
    s = summary(cli("eval", "gesture", "--images", str(tmp_path), "-q"))
    assert s["n"] == 18 and s["hands_found"] >= 15
    assert s["f1"]["peace"] > 0.7 and s["f1"]["palm"] > 0.7 and s["accuracy"] > 0.6


def test_eval_gesture_rejects_unknown_folders(tmp_path):
    (tmp_path / "jazz_hands").mkdir()
    one_line_error(cli("eval", "gesture", "--images", str(tmp_path)), "jazz_hands", "like")


def test_eval_gesture_reports_no_hand_apart_from_no_gesture(tmp_path):
    """Photos where MediaPipe finds no hand are `no_hand`, photos whose hands show no gesture
    `none`, and two hands with two gestures count as right when one is the photo's class (the live
    rule, classify_hands); figures over the photos with a hand found come as well."""
    import cv2

    from bridge.classify.gesture import classify_hands
    from bridge.tracking.hands import HandTracker
    wanted = {"no_hand": 2, "none": 2, "several": 2, "gesture": 3}
    picks = {k: [] for k in wanted}
    with HandTracker(still_images=True) as tracker:
        for f in sorted(GESTURE.glob("[flo]*/*.jpg")):  # fist, like, ok, one: all four kinds occur
            hands = tracker.process(cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB), 0)
            shown = [k for k, v in classify_hands(hands).items() if v > 0] if hands else None
            kind = ("no_hand" if shown is None else "none" if not shown else "gesture" if shown == [f.parent.name]
                    else "several" if f.parent.name in shown else None)
            if kind and len(picks[kind]) < wanted[kind]:
                picks[kind].append(f)
            if all(len(picks[k]) == n for k, n in wanted.items()):
                break
    assert all(len(picks[k]) == n for k, n in wanted.items()), picks
    for f in sum(picks.values(), []):
        (tmp_path / f.parent.name).mkdir(exist_ok=True)
        shutil.copy(f, tmp_path / f.parent.name / f.name)
    proc = cli("eval", "gesture", "--images", str(tmp_path), "-q", "--no-rescue")  # as the picks were made
    s = summary(proc)
    cm = np.array(s["confusion_matrix"])
    assert "before_rescue" not in s
    assert s["n"] == 9 and s["no_hand"] == 2 and s["hands_found"] == 7 and s["several_gestures"] == 2
    assert s["classes"][-2:] == ["none", "no_hand"] and cm[:, -1].sum() == 2 and cm[:, -2].sum() == 2
    found = s["hand_found"]
    assert found["n"] == 7 and "no_hand" not in found["classes"]
    assert (np.array(found["confusion_matrix"]) == cm[:-1, :-1]).all()  # the no_hand row is empty
    assert np.trace(cm) == 5  # the one-gesture and two-gesture photos are right
    assert found["accuracy"] == pytest.approx(5 / 7, abs=1e-4) and s["accuracy"] == pytest.approx(5 / 9, abs=1e-4)
    assert "over the 7 photos where a hand was found" in proc.stdout
