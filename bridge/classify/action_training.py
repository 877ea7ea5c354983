"""Fit the custom-action MLP with scikit-learn's MLPClassifier (Adam, fixed seed).

Each epoch is one `partial_fit` pass over a pool of freshly augmented windows (a few pools, cycled),
so the network sees many variants of each recording. Features are standardised with the first
pool's mean and spread; that scaling and the feature matrix are then folded into the first layer,
so the returned weights apply to the raw normalised window (what the ONNX model takes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn.neural_network import MLPClassifier

from .action import JOINTS
from .action_features import fold_first_layer


@dataclass(frozen=True)
class Mlp:
    """Dense layers over the flattened window: softmax(relu(x @ w1 + b1) @ w2 + b2)."""
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray


def train_mlp(make_pool: Callable[[], tuple[np.ndarray, np.ndarray]], n_classes: int, hidden: int = 64,
              epochs: int = 60, seed: int = 0, pools: int = 4,
              on_epoch: Callable[[float], None] | None = None) -> Mlp:
    """make_pool() -> (features (B, T * 60) from action_features.features, labels (B,) in 0..n_classes-1),
    every class present. on_epoch(loss) is called after each epoch."""
    x0, y0 = make_pool()
    mu = x0.mean(0)
    sd = x0.std(0) + 1e-3
    cycle = [(x0, y0)] + [make_pool() for _ in range(pools - 1)]
    # alpha (L2) 0.1: the best held-out accuracy of 1e-4 .. 1 on MSR Action3D clips used as recordings
    net = MLPClassifier(hidden_layer_sizes=(hidden,), solver="adam", alpha=0.1, batch_size=64,
                        learning_rate_init=2e-3, random_state=seed)
    classes = np.arange(n_classes)
    for ep in range(epochs):
        x, y = cycle[ep % len(cycle)]
        net.partial_fit((x - mu) / sd, y, classes=classes)
        if on_epoch is not None:
            on_epoch(float(net.loss_))
    w1, w2 = net.coefs_
    b1, b2 = net.intercepts_
    if n_classes == 2:  # one logistic output unit: softmax([0, z]) == [1 - sigmoid(z), sigmoid(z)]
        w2 = np.concatenate([np.zeros_like(w2), w2], 1)
        b2 = np.concatenate([np.zeros_like(b2), b2])
    w1, b1 = fold_first_layer(w1, b1, mu, sd, x0.shape[1] // (len(JOINTS) * 3))
    return Mlp(w1, b1, w2.astype(np.float32), b2.astype(np.float32))
