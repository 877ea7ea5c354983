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
    (b"not an npz", ["cannot read"]),
    ("missing_labels", ["labels"]),
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


@pytest.mark.parametrize("toml, words", [
    ('[classes]\n1 = "moonwalk"\n', ["moonwalk", "avatar actions"]),
    ('[classes\n', ["not valid TOML"]),
    ('[labels]\n1 = "wave"\n', ["[classes]"]),
])
def test_eval_action_bad_class_files(tmp_path, toml, words):
    one_line_error(cli("eval", "action", "--data", str(_msr_folder(tmp_path, toml))), *words)


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
