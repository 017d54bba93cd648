"""Class names and top-k decoding, from files shipped with ConvLens (never the network)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from resources import resource_path


@dataclass(frozen=True)
class Label:
    """One ranked prediction."""

    label: str  # human-readable class name
    class_id: str  # WordNet id for ImageNet, else the class name
    index: int  # output unit
    probability: float

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def imagenet_class_index() -> dict[int, tuple[str, str]]:
    """ImageNet-1k ``{index: (wnid, name)}`` in Keras' layout."""
    with open(resource_path("imagenet_class_index.json"), encoding="utf-8") as f:
        raw = json.load(f)
    return {int(k): (v[0], v[1]) for k, v in raw.items()}


def imagenet_names() -> list[str]:
    index = imagenet_class_index()
    return [index[i][1] for i in range(len(index))]


def imagenet_ids() -> list[str]:
    index = imagenet_class_index()
    return [index[i][0] for i in range(len(index))]


def generic_names(count: int) -> list[str]:
    """Fallback names for a model that carries none."""
    return [f"class_{i}" for i in range(count)]


def as_probabilities(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis unless the scores already look like probabilities.

    A single output unit is a binary classifier (sigmoid): it becomes [P(class 0), P(class 1)].
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[-1] == 1:
        inside_unit = scores.min() >= 0 and scores.max() <= 1
        positive = scores if inside_unit else 1.0 / (1.0 + np.exp(-scores))
        return np.concatenate([1.0 - positive, positive], axis=-1)
    total = scores.sum(axis=-1, keepdims=True)
    if scores.min() >= 0 and np.allclose(total, 1.0, atol=1e-3):
        return scores
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def top_k(
    probabilities: np.ndarray,
    k: int,
    class_names: list[str],
    class_ids: list[str] | None = None,
) -> list[Label]:
    """The k most probable classes of one output vector, best first."""
    probabilities = np.asarray(probabilities).reshape(-1)
    k = max(1, min(k, probabilities.size))
    order = np.argsort(-probabilities, kind="stable")[:k]
    ids = class_ids or class_names
    return [
        Label(
            label=class_names[i] if i < len(class_names) else f"class_{i}",
            class_id=ids[i] if i < len(ids) else f"class_{i}",
            index=int(i),
            probability=float(probabilities[i]),
        )
        for i in order
    ]
