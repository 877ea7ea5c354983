"""Teaching your own action from the command line: record-action twice, then train-actions builds
an ONNX model with a held-out report that the pipeline can load."""
import json
import re

from bridge.classify.action import ActionRecognizer
from conftest import FACE, cli


def test_record_and_train_custom_actions(tmp_path):
    d = tmp_path / "actions"
    r = cli("record-action", "sway", "--source", str(FACE / "expressions_pexels.mp4"), "--dir", str(d), "-q")
    assert r.returncode == 0, r.stderr
    for _ in range(2):
        r = cli("record-action", "still", "--source", str(FACE / "single_face.mp4"), "--dir", str(d), "-q")
        assert r.returncode == 0, r.stderr
    assert "saved" in r.stderr
    r = cli("train-actions", "--dir", str(d), "--epochs", "15", "-q")
    assert r.returncode == 0, r.stderr
    printed = re.search(r"held-out accuracy ([\d.]+)% on (\d+) clips", r.stderr)
    assert printed, r.stderr
    card = json.loads((d / "action_custom.card.json").read_text())
    assert card["file"] == "action_custom.onnx"
    measured = card["measured"]
    assert float(printed[1]) == round(100 * measured["heldout_accuracy"], 1)
    assert int(printed[2]) == measured["heldout_clips"]
    rec = ActionRecognizer("action_custom", d)
    assert {"sway", "still"} <= set(rec.actions)


def test_record_action_rejects_bad_name(tmp_path):
    r = cli("record-action", "../evil", "--source", str(FACE / "single_face.mp4"), "--dir", str(tmp_path), "-q")
    assert r.returncode == 2 and "not allowed" in r.stderr and "Traceback" not in r.stderr
