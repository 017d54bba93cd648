"""The TensorFlow/Keras backend: compiled forward passes of a Keras model and its cut models.

Interactive paths call a compiled ``tf.function`` with a batch-agnostic signature instead
of ``model.predict``, which costs several times the forward pass on one image. Models cut
at requested layers (nested bases included, see core.models.layers) are built once per
layer set and kept in a small cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from core.engine.cache import BoundedCache
from core.models.layers import layer_tree, symbolic_output

_CUT_MODEL_CACHE_SIZE = 8


def compile_forward(model: keras.Model):
    """model(x, training=False) as a tf.function that traces once for any batch size."""
    shape = [None, *model.inputs[0].shape[1:]]
    signature = [tf.TensorSpec(shape, tf.float32)]

    @tf.function(input_signature=signature, reduce_retracing=True)
    def forward(x):
        return model(x, training=False)

    return forward


class KerasBackend:
    """Runs a Keras model. Not thread-safe: one worker thread owns it."""

    name = "keras"

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self._forward = compile_forward(model)
        self._cut_models = BoundedCache(max_items=_CUT_MODEL_CACHE_SIZE)
        self._gradients = None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self._forward(tf.convert_to_tensor(batch, tf.float32)))

    def _cut_model(self, layer_paths: tuple[str, ...]):
        """A compiled model from the input to the given layers, cached per layer set."""

        def make():
            outputs = [symbolic_output(self.model, path) for path in layer_paths]
            # .inputs, not .input: a Sequential model only answers the former.
            inputs = self.model.inputs
            cut = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs)
            return cut, compile_forward(cut)

        return self._cut_models.get_or_make(layer_paths, make)

    def submodel(self, layer_paths: Sequence[str]) -> keras.Model:
        """The Keras model from the input to these layers (built once, then reused)."""
        return self._cut_model(tuple(layer_paths))[0]

    def layer_outputs(self, batch: np.ndarray, layer_paths: Sequence[str]) -> dict[str, np.ndarray]:
        key = tuple(layer_paths)
        _cut, forward = self._cut_model(key)
        outputs = forward(tf.convert_to_tensor(batch, tf.float32))
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return {path: np.asarray(out) for path, out in zip(key, outputs, strict=True)}

    def layer_tree(self) -> list:
        return layer_tree(self.model)

    def gradients(self):
        """Class-score gradients for the explanation methods (core.explain), made on first use."""
        if self._gradients is None:
            from core.explain.keras_gradients import KerasGradients

            self._gradients = KerasGradients(self.model)
        return self._gradients
