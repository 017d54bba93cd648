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


# Values per image beyond which a flattened map is not offered for a map of many images:
# 10,000 images of 32,768 floats already take 1.3 GB.
FLATTEN_MAX = 32_768


def poolings_for(output_shape) -> tuple[str, ...]:
    """The poolings that make sense for a layer's output, its default first: none for
    vectors; avg and max for feature maps, and flatten where one image's map is small."""
    if default_pooling(output_shape) == "none":
        return ("none",)
    size = int(np.prod([d for d in output_shape if d is not None]))
    return ("avg", "max", "flatten") if size <= FLATTEN_MAX else ("avg", "max")
