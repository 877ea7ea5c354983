"""One ONNX classifier: found by name through bridge.models (sha256-checked), described by its card,
run by a one-thread onnxruntime session (batch 1 is fastest on one thread; more threads only add
contention with the face tracker)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..models import Model, load_model, reinstall_hint

REQUIRED_CARD_KEYS = ("file", "sha256", "inputs", "outputs", "classes")


def locate(model: str | Path, directory: Path | None = None) -> tuple[str, Path | None]:
    """A model given by name (looked up in `directory`, default the installed models) or by the path of
    an .onnx file (its card, `<stem>.card.json`, must sit beside it) -> (name, directory)."""
    p = Path(model)
    if p.suffix != ".onnx":
        return str(model), directory
    if not p.is_file():
        raise ModelError(f"model file {p} does not exist: check the path")
    if not p.with_name(p.stem + ".card.json").is_file():
        raise ModelError(f"{p} has no card beside it ({p.stem}.card.json): write one naming its inputs, "
                         "preprocessing and classes (see docs/models.md)")
    return p.stem, p.parent


class OnnxModel:
    def __init__(self, name: str | Path, directory: Path | None = None, threads: int = 1):
        import onnxruntime as ort

        name, directory = locate(name, directory)
        self.model: Model = load_model(name, directory)
        card = self.model.card
        missing = [k for k in REQUIRED_CARD_KEYS if k not in card]
        if missing:
            raise ModelError(f"model card {name}.card.json lacks {', '.join(missing)}: "
                             f"{reinstall_hint(self.model.path.parent)}")
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
                             f"{reinstall_hint(self.model.path.parent)}") from None
        names = [i.name for i in self.session.get_inputs()]
        card_names = [i.get("name") for i in card["inputs"]]
        if names != card_names:
            raise ModelError(f"{self.model.path.name} has inputs {names} but its card says {card_names}: "
                             "the card and model do not match; rebuild both")
        self.input_names: tuple[str, ...] = tuple(names)
        n_out = self.session.get_outputs()[0].shape[-1]
        if isinstance(n_out, int) and n_out != len(self.classes):
            raise ModelError(f"{self.model.path.name} outputs {n_out} classes but its card lists {len(self.classes)}: "
                             "the card and model do not match; rebuild both")

    @property
    def name(self) -> str:
        return self.model.name

    def run(self, *xs: np.ndarray) -> np.ndarray:
        """One batch per input, in the card's order and layout (float32); returns (N, n_classes) probabilities."""
        feed = {n: np.ascontiguousarray(x, dtype=np.float32) for n, x in zip(self.input_names, xs)}
        return self.session.run(None, feed)[0]
