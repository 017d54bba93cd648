"""Synthetic feature sets with known classes: the ground truth the explore tests check against."""

from __future__ import annotations

import numpy as np


def clustered(classes: int = 3, per_class: int = 40, dims: int = 64, spread: float = 0.6, seed=0):
    """(vectors, labels): each class around its own random direction, plus positive noise
    the classes share (real features after a ReLU are positive and correlated)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dims)).astype(np.float32) * 2
    shared = np.abs(rng.standard_normal(dims)).astype(np.float32) * 3
    labels = np.repeat(np.arange(classes), per_class)
    noise = rng.standard_normal((len(labels), dims)).astype(np.float32) * spread * 2
    return shared + centres[labels] + noise, labels


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour accuracy in the layout (Euclidean)."""
    d = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :k]
    votes = labels[nearest]
    predicted = np.array([np.bincount(v).argmax() for v in votes])
    return float((predicted == labels).mean())
