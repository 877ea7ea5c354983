"""The MLP ONNX writer: the file passes onnx's checker, onnxruntime loads it, and it computes the
same probabilities as the dense layers in numpy on real skeleton windows."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest

import bridge.classify.action as act
from bridge.classify.onnx_export import OPSET, mlp_model, write_mlp_onnx
from conftest import FIXTURES

MSR = FIXTURES / "action" / "msr_action3d"
SHAPE = (act.WINDOW, len(act.JOINTS), 3)


def _layers(rng, hidden=16, classes=4):
    n_in = int(np.prod(SHAPE))
    return (rng.normal(0, 0.05, (n_in, hidden)).astype(np.float32), rng.normal(0, 0.1, hidden).astype(np.float32),
            rng.normal(0, 0.5, (hidden, classes)).astype(np.float32), rng.normal(0, 0.1, classes).astype(np.float32))


def test_written_model_matches_numpy_on_real_windows(tmp_path):
    w1, b1, w2, b2 = _layers(np.random.default_rng(0))
    path = tmp_path / "mlp.onnx"
    write_mlp_onnx(path, w1, b1, w2, b2, SHAPE)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert [o.version for o in model.opset_import] == [OPSET]
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert model.graph.input[0].name == "joints" and dims == ["N", *SHAPE]
    x = act.sequence_windows(act.load_msr_skeleton(MSR / "a05_s01_e01_skeleton3D.txt"), act.WINDOW, 4)
    probs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"joints": x})[0]
    z = np.maximum(x.reshape(len(x), -1) @ w1 + b1, 0) @ w2 + b2
    want = np.exp(z - z.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    assert probs.shape == (len(x), 4)
    np.testing.assert_allclose(probs, want, atol=1e-5)
    assert np.allclose(probs.sum(1), 1, atol=1e-5)


def test_weights_that_do_not_fit_the_input_are_refused():
    w1, b1, w2, b2 = _layers(np.random.default_rng(1))
    with pytest.raises(ValueError, match="do not fit"):
        mlp_model(w1[:-1], b1, w2, b2, SHAPE)
    with pytest.raises(ValueError, match="do not fit"):
        mlp_model(w1, b1, w2[:-1], b2, SHAPE)
