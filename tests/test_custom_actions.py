"""Teaching your own actions, step by step, on real MSR Action3D skeletons used as recordings:
the example store, the folded features, and a one-action model (scikit-learn's two-class output
exported as a two-way softmax)."""
import json

import numpy as np
import onnxruntime as ort
import pytest

import bridge.classify.action as act
from bridge.classify.action_features import features, fold_first_layer, random_window, synthetic_idle
from bridge.classify.custom_actions import load_examples, record_examples, train_custom
from bridge.errors import BridgeError
from conftest import FIXTURES

MSR = FIXTURES / "action" / "msr_action3d"


def _msr(action: int, subjects, episode: int = 1) -> list[np.ndarray]:
    return [act.load_msr_skeleton(MSR / f"a{action:02d}_s{s:02d}_e{episode:02d}_skeleton3D.txt") for s in subjects]


def test_store_appends_numbered_clips_and_refuses_bad_ones(tmp_path):
    claps = _msr(10, (1, 2, 3))
    first = record_examples(claps[:2], "clap", tmp_path)
    more = record_examples(claps[2:], "clap", tmp_path)
    assert [p.name for p in first + more] == ["0000.npy", "0001.npy", "0002.npy"]
    loaded = load_examples(tmp_path)
    assert list(loaded) == ["clap"] and len(loaded["clap"]) == 3
    np.testing.assert_array_equal(loaded["clap"][2], claps[2])
    with pytest.raises(BridgeError, match="added automatically"):
        record_examples(claps, "idle", tmp_path)
    with pytest.raises(BridgeError, match="expected"):
        record_examples([claps[0][:5]], "clap", tmp_path)
    bad = claps[0].copy()
    bad[3, 4, 1] = np.nan
    with pytest.raises(BridgeError, match="record it again"):
        record_examples([bad], "clap", tmp_path)
    assert len(load_examples(tmp_path)["clap"]) == 3


def test_standardised_features_fold_into_the_first_layer():
    rng = np.random.default_rng(0)
    seqs = _msr(5, (1, 2)) + _msr(14, (1, 2))
    w = np.stack([act.normalise_window(random_window(s, rng)) for s in seqs for _ in range(8)]
                 + [act.normalise_window(synthetic_idle(s, rng)) for s in seqs])
    f = features(w)
    mu, sd = f.mean(0), f.std(0) + 1e-3
    w1 = rng.normal(0, 0.05, (f.shape[1], 32)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 32).astype(np.float32)
    wf, bf = fold_first_layer(w1, b1, mu, sd, act.WINDOW)
    want = ((f - mu) / sd) @ w1 + b1
    np.testing.assert_allclose(w.reshape(len(w), -1) @ wf + bf, want, atol=1e-3 * np.abs(want).max())


def test_one_action_model_separates_it_from_idle(tmp_path):
    record_examples(_msr(10, range(1, 6)), "clap", tmp_path)
    report = train_custom(tmp_path, epochs=10, progress=False)
    assert report["classes"] == ["clap", "idle"] and report["heldout_clips"] == 1
    assert not (tmp_path / "action_custom.heldout.onnx").exists()
    card = json.loads((tmp_path / "action_custom.card.json").read_text())
    assert card["classes"] == ["clap", "idle"] and card["measured"]["heldout_accuracy"] == report["heldout_accuracy"]
    rec = act.ActionRecognizer("action_custom", directory=tmp_path)
    assert rec.model.classes == ("clap", "idle")
    s = ort.InferenceSession(report["model"], providers=["CPUExecutionProvider"])
    unseen = act.sequence_windows(_msr(10, (7,))[0], act.WINDOW, 4)
    rng = np.random.default_rng(5)
    still = np.stack([act.normalise_window(synthetic_idle(c, rng)) for c in _msr(14, (7, 8))])
    p_clap = s.run(None, {"joints": unseen})[0].mean(0)
    p_still = s.run(None, {"joints": still})[0].mean(0)
    assert p_clap.argmax() == 0 and p_still.argmax() == 1
    again = tmp_path / "again"
    record_examples(_msr(10, range(1, 6)), "clap", again)
    train_custom(again, epochs=10, progress=False)
    assert json.loads((again / "action_custom.card.json").read_text())["sha256"] == card["sha256"]


def test_training_without_examples_says_how_to_record(tmp_path):
    record_examples(_msr(10, (1,)), "clap", tmp_path)
    with pytest.raises(BridgeError, match="too few: clap.*record-action"):
        train_custom(tmp_path, progress=False)
