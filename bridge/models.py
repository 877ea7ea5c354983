"""Finds a model by name, reads its card and verifies the file's sha256 before use."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import ModelError

ENV_DIR = "AVATAR_BRIDGE_MODELS"


def models_dir() -> Path:
    """$AVATAR_BRIDGE_MODELS if set, else the installed `avatar_bridge_models` package (repo `models/`)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    return Path(str(resources.files("avatar_bridge_models")))


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    path: Path
    card: dict


def load_model(name: str, directory: Path | None = None) -> Model:
    d = directory or models_dir()
    card_path = d / f"{name}.card.json"
    if not card_path.is_file():
        raise ModelError(f"model card {card_path} is missing: reinstall avatar-bridge or restore models/{name}.card.json")
    try:
        card = json.loads(card_path.read_text())
        path = d / card["file"]
        expected = card["sha256"]
    except (ValueError, KeyError) as e:
        raise ModelError(f"model card {card_path} is unreadable ({e}): restore it from the repository") from None
    rebuild = f"python models/{card.get('build_script', f'build_{name}.py')}"
    if not path.is_file():
        raise ModelError(f"model file {path} is missing: run `{rebuild}` in the repository, then reinstall")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelError(f"model file {path} is corrupt (sha256 {digest[:12]}..., expected {expected[:12]}...): "
                         f"run `{rebuild}` to rebuild it")
    return Model(name, path, card)
