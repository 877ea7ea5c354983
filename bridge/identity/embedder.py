"""dlib's ResNet face descriptor (128-D) on the aligned chip from `align`.

The model file ships in the PyPI package `face-recognition-models` and dlib in `dlib-bin` (the optional
extra `avatar-bridge[people]`); nothing is downloaded. Its card, models/face_identity_dlib_resnet.card.json,
names the file inside the package and its sha256, checked before loading (bridge/models.py does the
same for the models we ship ourselves). The package's own `__init__` is not imported: it needs
`pkg_resources`, which new setuptools no longer has.
"""
from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..models import check_sha256, models_dir
from .align import face_chip

CARD = "face_identity_dlib_resnet.card.json"
DIM = 128
INSTALL = "install the optional extra: pip install 'avatar-bridge[people]' (dlib-bin, face-recognition-models)"


def model_path() -> Path:
    """The descriptor's file inside its registry package, after checking it against the card."""
    card_path = models_dir() / CARD
    try:
        card = json.loads(card_path.read_text())
        package, inner, expected = card["source"]["package_module"], card["source"]["path_in_package"], card["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"model card {card_path} is missing or unreadable ({e.__class__.__name__}): "
                         "reinstall avatar-bridge") from None
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"face identity needs the package {card['source']['package']}: {INSTALL}")
    path = Path(list(spec.submodule_search_locations)[0]) / inner
    if not path.is_file():
        raise ModelError(f"model file {path} is missing: reinstall it, {INSTALL}")
    check_sha256(path, expected, "pip install --force-reinstall face-recognition-models==0.3.0")
    return path


class FaceEmbedder:
    """One loaded descriptor network. embed() costs tens of milliseconds: call it a few times a
    second per person (identity/worker.py), never on every frame."""

    def __init__(self):
        try:
            import dlib
        except ImportError:
            raise ModelError(f"face identity needs dlib: {INSTALL}") from None
        self._net = dlib.face_recognition_model_v1(str(model_path()))

    def embed_chip(self, chip: np.ndarray) -> np.ndarray:
        """A 150x150x3 uint8 RGB aligned chip -> (128,) float32."""
        return np.asarray(self._net.compute_face_descriptor(np.ascontiguousarray(chip)), np.float32)

    def embed(self, rgb: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray:
        """rgb: HxWx3 uint8 frame; face_landmarks: (478, 2+) normalised MediaPipe landmarks of one face
        in it -> (128,) float32 descriptor."""
        return self.embed_chip(face_chip(rgb, face_landmarks))


@functools.cache
def default_embedder() -> FaceEmbedder:
    return FaceEmbedder()


def embed(rgb: np.ndarray, face_landmarks: np.ndarray) -> np.ndarray:
    """(128,) float32 descriptor of the face whose landmarks are given, with the process's one model."""
    return default_embedder().embed(rgb, face_landmarks)
