"""One ONNX classifier: found by name through bridge.models (sha256-checked), described by its card,
run by a one-thread onnxruntime session (batch 1 is fastest on one thread; more threads only add
contention with the face tracker)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..models import Model, load_model

REQUIRED_CARD_KEYS = ("file", "sha256", "inputs", "outputs", "classes")


class OnnxModel:
    def __init__(self, name: str, directory: Path | None = None, threads: int = 1):
        import onnxruntime as ort

        self.model: Model = load_model(name, directory)
        card = self.model.card
        missing = [k for k in REQUIRED_CARD_KEYS if k not in card]
        if missing:
            raise ModelError(f"model card {name}.card.json lacks {', '.join(missing)}: restore it from the repository")
        self.card = card
        self.classes: tuple[str, ...] = tuple(card["classes"])
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(self.model.path), so, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for bad graphs
            raise ModelError(f"onnxruntime cannot load {self.model.path.name} ({str(e).splitlines()[0][:160]}); "
                             f"rebuild it with the script named in models/{name}.card.json") from None
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        if inp.name != card["inputs"][0]["name"]:
            raise ModelError(f"{self.model.path.name} has input `{inp.name}` but its card says "
                             f"`{card['inputs'][0]['name']}`: the card and model do not match; rebuild both")
        n_out = self.session.get_outputs()[0].shape[-1]
        if isinstance(n_out, int) and n_out != len(self.classes):
            raise ModelError(f"{self.model.path.name} outputs {n_out} classes but its card lists {len(self.classes)}: "
                             "the card and model do not match; rebuild both")

    @property
    def name(self) -> str:
        return self.model.name

    def run(self, x: np.ndarray) -> np.ndarray:
        """x: a batch in the card's input layout (float32); returns (N, n_classes) probabilities."""
        return self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=np.float32)})[0]
