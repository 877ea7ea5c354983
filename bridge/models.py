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


def reinstall_hint(directory: Path) -> str:
    """How to fix a missing or damaged model in `directory`. The shipped models live inside the
    package (nothing is downloaded at run time), so reinstalling restores them; a folder of the
    user's own (a custom action model) has to be restored or rebuilt by them."""
    env = os.environ.get(ENV_DIR)
    from_env = bool(env) and Path(env) == directory
    if not from_env and directory != Path(str(resources.files("avatar_bridge_models"))):
        return f"restore {directory} from a good copy, or rebuild the model with the script its card names"
    fix = "reinstall avatar-bridge: `pip install --force-reinstall avatar-bridge` (in a checkout: `pip install .`)"
    return fix + (f"; models are read from ${ENV_DIR} ({directory}): unset it to use the installed ones"
                  if from_env else "")


def load_model(name: str, directory: Path | None = None) -> Model:
    d = directory or models_dir()
    card_path = d / f"{name}.card.json"
    if not card_path.is_file():
        raise ModelError(f"model card {card_path} is missing: {reinstall_hint(d)}")
    try:
        card = json.loads(card_path.read_text())
        path = d / card["file"]
        expected = card["sha256"]
    except (ValueError, KeyError, TypeError) as e:
        raise ModelError(f"model card {card_path} is unreadable ({e.__class__.__name__}): {reinstall_hint(d)}") from None
    if not path.is_file():
        raise ModelError(f"model file {path} is missing: {reinstall_hint(d)}")
    check_sha256(path, expected, reinstall_hint(d))
    return Model(name, path, card)


def check_sha256(path: Path, expected: str, fix: str) -> None:
    """One line naming the file and saying how to get the right one, when its sha256 is not the card's."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelError(f"model file {path} is corrupt (sha256 {digest[:12]}..., expected {expected[:12]}...): {fix}")
