"""A one-hidden-layer MLP as an ONNX file, built with the `onnx` package's helpers and checked by
its checker before it is written, so onnxruntime (and any other ONNX runtime) can load it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, checker, helper, numpy_helper

OPSET = 13


def mlp_model(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, input_shape: tuple[int, ...],
              input_name: str = "joints", output_name: str = "probs", name: str = "custom_actions") -> onnx.ModelProto:
    """input [N, *input_shape] -> Reshape -> MatMul/Add/Relu -> MatMul/Add -> Softmax -> output [N, classes].
    w1 is (prod(input_shape), hidden) over the input flattened in C order; w2 is (hidden, classes)."""
    n_in = int(np.prod(input_shape))
    if w1.shape[0] != n_in or w2.shape[0] != w1.shape[1] or b1.shape != (w1.shape[1],) or b2.shape != (w2.shape[1],):
        raise ValueError(f"MLP weights {w1.shape}, {b1.shape}, {w2.shape}, {b2.shape} "
                         f"do not fit an input of {n_in} values")
    nodes = [
        helper.make_node("Reshape", [input_name, "flat_shape"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "W1"], ["h0"], name="fc1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="fc1_bias"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu"),
        helper.make_node("MatMul", ["h2", "W2"], ["z0"], name="fc2"),
        helper.make_node("Add", ["z0", "b2"], ["z1"], name="fc2_bias"),
        helper.make_node("Softmax", ["z1"], [output_name], name="softmax", axis=1),
    ]
    inits = [numpy_helper.from_array(np.array([-1, n_in], np.int64), "flat_shape")]
    inits += [numpy_helper.from_array(np.ascontiguousarray(a, np.float32), k)
              for k, a in (("W1", w1), ("b1", b1), ("W2", w2), ("b2", b2))]
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", *input_shape])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", w2.shape[1]])], inits)
    return helper.make_model_gen_version(graph, producer_name="avatar-bridge",
                                         opset_imports=[helper.make_opsetid("", OPSET)])


def write_mlp_onnx(path: str | Path, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray,
                   input_shape: tuple[int, ...], **names: str) -> None:
    """Build the model (see mlp_model), check it (graph, types and shapes) and save it to `path`."""
    model = mlp_model(w1, b1, w2, b2, input_shape, **names)
    checker.check_model(model, full_check=True)
    onnx.save_model(model, str(path))
