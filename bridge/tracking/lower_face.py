"""Headset mode's mouth, jaw and cheek shapes, read from the lower face's landmarks and corrected.

MediaPipe's blendshape model reads eyes, brows and mouth together (146 landmarks in one MLP), so
when a headset hides the upper face the landmarks it guesses there (eye corners 4-8% of the eye
distance off) drag the mouth shapes with them: 0.13-0.21 off on median for the worst mouth shape
under a simulated headset (bench/headset.py), although the lips move only 1-2%. This model reads
the landmarks below the nose that a headset leaves in view, aligned (3D similarity, Umeyama) to a
template on their most rigid points so head pose, distance and image aspect drop out, together
with MediaPipe's own (dragged) readings of the same 30 jaw*, mouth*, cheek* shapes; a small MLP
(an average of a few, as one graph) maps them to the shapes MediaPipe gives the same face uncovered
(models/build_lower_face.py; its card has the held-out figures). Its training faces were tracked
for 30 frames under the headset, as a worn one is on every frame: the landmarker keeps moving the
mouth points for the first 10-20 covered frames, so a model fitted only on the first few frames
misreads a face that has been covered for long. Under 0.1 ms a frame. Its limit: MediaPipe
measures some mouth shapes against the eyes (moving them by 5% of the eye distance moves
mouthUpperUp by up to 0.37), which the lower face cannot show.
"""
from __future__ import annotations

import json

import numpy as np

from ..arkit import ARKIT_NAMES, INDEX
from ..models import load_model

NAME = "lower_face_mlp"
SHAPES = np.array([i for n, i in INDEX.items() if n.startswith(("jaw", "mouth", "cheek"))])


def to_pixels(landmarks: np.ndarray, width, height) -> np.ndarray:
    """Normalised MediaPipe landmarks (N, P, 3) of images `width` x `height` (scalars or (N,)) -> one
    isotropic pixel frame (z is in x's units)."""
    w, h = (np.asarray(v, np.float64).reshape(-1, 1) for v in (width, height))
    return landmarks * np.stack(np.broadcast_arrays(w, h, w), -1)


def align(points: np.ndarray, anchor: np.ndarray, template: np.ndarray) -> np.ndarray:
    """`points` (N, P, 3) moved by the similarity that best maps each row's `anchor` columns onto
    `template` (A, 3, centred, unit scale) in least squares (Umeyama 1991), batched."""
    src = points[:, anchor]
    mu = src.mean(1, keepdims=True)
    src = src - mu
    cov = np.einsum("nai,aj->nij", src, template)
    u, s, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    s[:, 2] *= d
    u[:, :, 2] *= d[:, None]
    rot = u @ vt  # applied on the right: x_aligned = x @ rot
    scale = s.sum(1) / np.einsum("nai,nai->n", src, src)
    return (points - mu) @ rot * scale[:, None, None]


def features(landmarks: np.ndarray, width, height, keep: np.ndarray, anchor: np.ndarray,
             template: np.ndarray) -> np.ndarray:
    """(N, 478, 3) normalised landmarks and their images' sizes -> (N, len(keep) * 3) model inputs:
    the kept points aligned to the template."""
    px = to_pixels(np.asarray(landmarks, np.float64)[:, keep], width, height)
    return align(px, anchor, template).reshape(len(px), -1).astype(np.float32)


def model_inputs(landmarks: np.ndarray, blendshapes: np.ndarray, width, height, keep: np.ndarray,
                 anchor: np.ndarray, template: np.ndarray, blendshape_inputs: np.ndarray) -> np.ndarray:
    """(N, 478, 3) landmarks and (N, 52) MediaPipe blendshapes of the same faces -> the model's
    inputs: `features`, then MediaPipe's readings of the `blendshape_inputs` shapes."""
    return np.concatenate([features(landmarks, width, height, keep, anchor, template),
                           np.asarray(blendshapes, np.float32)[:, blendshape_inputs]], 1)


class LowerFace:
    """The shipped model; call it with one frame's landmarks and MediaPipe's blendshapes to get the
    30 shapes in `SHAPES` order."""

    def __init__(self):
        import onnxruntime as ort
        model = load_model(NAME)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        self._session = ort.InferenceSession(str(model.path), so, providers=["CPUExecutionProvider"])
        meta = json.loads(self._session.get_modelmeta().custom_metadata_map["lower_face"])
        self.keep = np.array(meta["keep"])
        self.anchor = np.array(meta["anchor"])
        self.template = np.array(meta["template"], np.float64)
        self.blendshape_inputs = np.array([INDEX[n] for n in meta["blendshape_inputs"]], int)
        if meta["shapes"] != [ARKIT_NAMES[i] for i in SHAPES]:
            raise ValueError(f"{model.path}: its shapes are not this version's {NAME} shapes")
        self._input = self._session.get_inputs()[0].name

    def __call__(self, landmarks: np.ndarray, blendshapes: np.ndarray, width: int, height: int) -> np.ndarray:
        x = model_inputs(landmarks[None], blendshapes[None], width, height, self.keep, self.anchor, self.template,
                         self.blendshape_inputs)
        return self._session.run(None, {self._input: x})[0][0]  # clipped to 0..1 by the model
