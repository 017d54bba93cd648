"""``LoadedModel``: a model with everything needed to feed it and read its output. Light.

The model itself is whatever the backend runs (a Keras model here); the rest is plain data,
so what answers a question (class names, input size, preprocessing, how images are fitted)
can travel without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.io.images import DEFAULT_CROP_FRACTION, DEFAULT_RESIZE
from core.models.preprocessing import Preprocessing, get_preprocessing


def class_count(outputs: int) -> int:
    """Classes a (batch, outputs) head predicts: one sigmoid unit is a two-class classifier."""
    return 2 if outputs == 1 else outputs


@dataclass
class LoadedModel:
    """A model ready for inference, with everything needed to feed it and read its output."""

    model: Any  # a keras.Model for the Keras backend
    name: str
    source: str  # "builtin", "zoo", "file" or "trained"
    input_size: tuple[int, int]  # (height, width)
    preprocess: str  # a mode of core.models.preprocessing
    class_names: list[str]
    class_ids: list[str] | None = None
    path: Path | None = None
    weights: str = "imagenet"  # "imagenet", "random", "trained" or a weights file path
    include_top: bool = True
    notes: list[str] = field(default_factory=list)  # what was inferred, for the user
    resize: str = DEFAULT_RESIZE  # how images are fitted to the input: "crop" or "squash"
    resize_fixed: bool = False  # trained with that policy (stored in the file): keep it
    crop_fraction: float = DEFAULT_CROP_FRACTION
    output_shape: tuple | None = None  # defaults to the model's

    def __post_init__(self) -> None:
        if self.output_shape is None and self.model is not None:
            self.output_shape = self.model.output_shape

    @property
    def preprocessing(self) -> Preprocessing:
        return get_preprocessing(self.preprocess)

    @property
    def is_classifier(self) -> bool:
        shape = self.output_shape
        if not (isinstance(shape, tuple) and len(shape) == 2):
            return False
        return class_count(shape[-1]) == len(self.class_names)

    @property
    def random_weights(self) -> bool:
        return self.weights == "random"

    def describe(self) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "path": str(self.path) if self.path else None,
            "input_size": list(self.input_size),
            "preprocess": self.preprocess,
            "resize": self.resize,
            "weights": self.weights,
            "classes": len(self.class_names),
        }
