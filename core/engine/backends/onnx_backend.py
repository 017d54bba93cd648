"""The ONNX Runtime backend: one converted forward pass (a whole model, or a model cut at a
set of layers) run by onnxruntime on the CPU.

Imports onnxruntime and numpy only: with a verified model in the cache, classification
needs no TensorFlow at all (core.engine.onnx_cache). Conversion and verification are
core.engine.onnx_convert's and core.engine.backends.auto_backend's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnxruntime as ort


def open_session(model: str | bytes) -> ort.InferenceSession:
    """An onnxruntime session on the CPU for a .onnx path or its bytes, without its warnings."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class OnnxBackend:
    """Runs one converted model. layer_paths: the layers it was cut at (None: the whole model)."""

    name = "onnx"

    def __init__(
        self,
        model: str | bytes,
        layer_paths: Sequence[str] | None = None,
        tree: list | None = None,
    ) -> None:
        self._session = open_session(model)
        self._input = self._session.get_inputs()[0].name
        self.layer_paths = tuple(layer_paths) if layer_paths else None
        self._tree = tree

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        return self._session.run(None, {self._input: np.ascontiguousarray(batch, np.float32)})

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self.run(batch)[0]

    def layer_outputs(self, batch: np.ndarray, layer_paths: Sequence[str]) -> dict[str, np.ndarray]:
        if tuple(layer_paths) != self.layer_paths:
            raise KeyError(f"This ONNX model was cut at {self.layer_paths}, not {layer_paths}.")
        return dict(zip(self.layer_paths, self.run(batch), strict=True))

    def layer_tree(self) -> list:
        if self._tree is None:
            raise KeyError("This ONNX model carries no layer tree.")
        return self._tree
