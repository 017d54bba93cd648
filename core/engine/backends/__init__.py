"""Runtimes that execute a loaded model: the seam between the Engine and TensorFlow (or not).

A backend runs preprocessed float32 batches; everything else (decoding, fitting,
preprocessing, batching, top-k, pooling, caching) is the Engine's and the same for every
backend. To add one, implement ``Backend`` in a module here and let
``core.engine.engine.make_backend`` know its name (docs/ARCHITECTURE.md has the recipe).

A backend that can differentiate may also offer ``gradients()``, an object with
``layer_gradients`` and ``input_gradients`` (core.explain.keras_gradients.KerasGradients):
the gradient-based explanations need it; occlusion and everything else do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Backend(Protocol):
    name: str  # "keras", "onnx": shown in the status bar and stored with exports

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """The model's outputs for a preprocessed (N, H, W, 3) float32 batch."""

    def layer_outputs(self, batch: np.ndarray, layer_paths: Sequence[str]) -> dict[str, np.ndarray]:
        """Several layers' outputs for one batch, in one forward pass."""

    def layer_tree(self) -> list:
        """core.models.layers.LayerNode per top-level layer, nested models as children."""
