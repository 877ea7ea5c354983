"""The card of a custom action model: what ActionRecognizer and bridge.models read (file, sha256,
input layout and preprocessing, classes) and what the held-out measurement found."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .action import JOINTS, RATE_HZ, WINDOW
from .onnx_export import OPSET


def write_custom_card(model_path: Path, classes: list[str], examples_dir: Path, measured: dict) -> Path:
    """Write <model>.card.json beside the model; `measured` holds heldout_accuracy, heldout_clips and
    per_class_recall. Returns the card's path."""
    card = {
        "name": model_path.stem, "file": model_path.name,
        "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "size_bytes": model_path.stat().st_size,
        "format": f"ONNX opset {OPSET} (written by bridge.classify.onnx_export)",
        "author": "you (avatar-bridge train-actions)", "licence": "yours",
        "source": {"training_data": str(examples_dir), "idle": "synthetic, from your recordings"},
        "build_script": "avatar-bridge train-actions",
        "window": {"samples": WINDOW, "rate_hz": RATE_HZ, "seconds": round(WINDOW / RATE_HZ, 3)},
        "inputs": [{"name": "joints", "shape": ["N", WINDOW, len(JOINTS), 3], "dtype": "float32",
                    "joint_order": list(JOINTS), "preprocessing": "bridge.classify.action.normalise_window"}],
        "outputs": [{"name": "probs", "shape": ["N", len(classes)]}],
        "classes": list(classes),
        "measured": {**measured,
                     "how": "a model trained without the held-out clips, each clip scored by averaging its windows"},
    }
    path = model_path.with_name(model_path.stem + ".card.json")
    path.write_text(json.dumps(card, indent=2) + "\n")
    return path
