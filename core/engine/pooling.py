"""Reducing layer outputs to feature vectors. Light module (numpy only)."""

from __future__ import annotations

import numpy as np

POOLINGS = ("avg", "max", "flatten", "none")


def pool_features(maps: np.ndarray, pooling: str) -> np.ndarray:
    """Reduce a (N, ...) layer output to vectors; maps with no spatial axes pass through."""
    if pooling not in POOLINGS:
        raise ValueError(f"Unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}.")
    if maps.ndim <= 2 or pooling == "none":
        return maps
    spatial = tuple(range(1, maps.ndim - 1))
    if pooling == "avg":
        return maps.mean(axis=spatial)
    if pooling == "max":
        return maps.max(axis=spatial)
    return maps.reshape(len(maps), -1)


def default_pooling(output_shape) -> str:
    """avg for feature maps (anything with spatial axes), none for vectors."""
    return "avg" if output_shape is not None and len(output_shape) > 1 else "none"
