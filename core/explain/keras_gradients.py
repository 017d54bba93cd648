"""Gradients of a Keras model's class score: what the gradient-based explanations need.

Grad-CAM needs a conv layer's output and the gradient of the class score with respect to
it, from one recorded forward pass. The keras.io recipe (and tf-keras-vis) builds
``Model(model.input, [model.get_layer(conv).output, model.output])``, which fails with
"Graph disconnected" when the conv layer sits inside a nested base, the usual
transfer-learning layout: the layer's output belongs to the base's own graph.

Here the model is traced again layer by layer, sharing every layer and weight (Keras'
``clone_model`` with a ``call_function``). Where the nested base is called, a model of the
base's own graph with two outputs, ``Model(base.inputs, [conv.output, base.output])``, is
called instead, so the conv output and the score come from one pass. The classifier's
softmax (or sigmoid) is left out on the way, so the score is the logit, as the Grad-CAM
paper prescribes; a model whose output has no such activation is explained on its output.
The tape watches the input, so a frozen base (no trainable variables) still records its
operations. Each traced model is compiled once (``tf.function``) and kept.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from core.engine.cache import BoundedCache
from core.errors import ExplainError
from core.models.layers import PATH_SEPARATOR, is_nested_model
from core.progress import ProgressCallback, no_progress

_SQUASHING = frozenset({"softmax", "sigmoid"})
_COMPILED_LAYERS = 4  # traced models kept, one per target layer


def _squashing(layer) -> bool:
    """A layer that ends in a softmax or sigmoid."""
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) in _SQUASHING


class _Logits(keras.layers.Layer):
    """Calls a layer with its final activation left out: a Dense softmax's logits."""

    def __init__(self, layer, **kwargs) -> None:
        super().__init__(name=f"{layer.name}_logits", **kwargs)
        self.wrapped = layer

    def call(self, inputs):
        if isinstance(self.wrapped, keras.layers.Softmax):
            return inputs
        # A Softmax-free copy of the layer would need its config and weights; swapping the
        # activation for the call is simpler. It happens while tracing, on the worker thread
        # that owns the model, and the layer is restored before anything else runs.
        activation = self.wrapped.activation
        self.wrapped.activation = keras.activations.linear
        try:
            return self.wrapped.call(inputs)
        finally:
            self.wrapped.activation = activation


def _output_layer(model):
    """The layer that computes the model's (first) output."""
    history = getattr(model.outputs[0], "_keras_history", None)
    return history[0] if history else model.layers[-1]


def _retrace(model, call):
    """model's graph called again through call(layer, *args, **kwargs), sharing its layers."""
    if isinstance(model, keras.Sequential):  # clone_model takes no call_function for these
        inputs = keras.Input(model.inputs[0].shape[1:])
        x = inputs
        for layer in model.layers:
            x = call(layer, x)
        return keras.Model(inputs, x)
    return keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call)


def score_model(model, layer_path: str | None = None, logits: bool = True):
    """A model from model's input to [layer output, score] (or [score] without a layer).

    layer_path may name a layer inside nested models ("base/block_16_project"). The score
    is the output before a final softmax or sigmoid when logits is True. Returns the model
    and whether the logits were taken.
    """
    head, _, rest = (layer_path or "").partition(PATH_SEPARATOR)
    found = []
    final = _output_layer(model)
    took_logits = False

    def call(layer, *args, **kwargs):
        nonlocal took_logits
        if layer_path and layer.name == head:
            if rest:
                if not is_nested_model(layer):
                    raise ExplainError(f"The model has no layer {layer_path!r}.")
                inner, _ = score_model(layer, rest, logits=False)
                value, out = inner(*args, **kwargs)
            else:
                out = value = layer(*args, **kwargs)
            found.append(value)
            return out
        if logits and layer is final and _squashing(layer):
            took_logits = True
            return _Logits(layer)(*args, **kwargs)
        return layer(*args, **kwargs)

    traced = _retrace(model, call)
    if layer_path and not found:
        raise ExplainError(f"The model has no layer {layer_path!r} on the way to its output.")
    outputs = [found[-1], traced.outputs[0]] if layer_path else [traced.outputs[0]]
    return keras.Model(traced.inputs, outputs), took_logits


class KerasGradients:
    """Class-score gradients of one Keras model. Not thread-safe: the worker owns it."""

    def __init__(self, model) -> None:
        if len(model.inputs) != 1:
            raise ExplainError("Models with several inputs cannot be explained.")
        self.model = model
        self._input_shape = [None, *model.inputs[0].shape[1:]]
        self._layer_functions = BoundedCache(max_items=_COMPILED_LAYERS)
        self._input_function = None
        self.score = "output"  # "logit" once a traced model has left out the softmax

    def layer_gradients(
        self,
        batch: np.ndarray,
        layer_path: str,
        weights: np.ndarray,
        progress: ProgressCallback = no_progress,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(layer outputs, d score / d layer outputs, scores) for a preprocessed batch."""
        function = self._layer_functions.get_or_make(
            layer_path, lambda: self._compile(layer_path, progress)
        )
        outputs = function(_tensor(batch), _tensor(weights))
        return tuple(np.asarray(value) for value in outputs)

    def input_gradients(
        self, batch: np.ndarray, weights: np.ndarray, progress: ProgressCallback = no_progress
    ) -> tuple[np.ndarray, np.ndarray]:
        """(d score / d input, scores) for a preprocessed batch."""
        if self._input_function is None:
            self._input_function = self._compile(None, progress)
        grads, scores = self._input_function(_tensor(batch), _tensor(weights))
        return np.asarray(grads), np.asarray(scores)

    def _compile(self, layer_path: str | None, progress: ProgressCallback):
        # Tracing and compiling take seconds for a large model: say so, once per layer.
        progress(0, 0, "Preparing gradients for this model…")
        traced, took_logits = score_model(self.model, layer_path)
        if took_logits:
            self.score = "logit"
        units = int(traced.outputs[-1].shape[-1])
        signature = [
            tf.TensorSpec(self._input_shape, tf.float32),
            tf.TensorSpec([units], tf.float32),
        ]

        if layer_path is None:

            @tf.function(input_signature=signature, reduce_retracing=True)
            def input_gradients(x, weights):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    score = tf.reduce_sum(_first(traced(x, training=False)) * weights, axis=-1)
                return tape.gradient(score, x), score

            return input_gradients

        @tf.function(input_signature=signature, reduce_retracing=True)
        def layer_gradients(x, weights):
            with tf.GradientTape() as tape:
                tape.watch(x)  # a frozen base has no trainable variable to record it by
                maps, outputs = traced(x, training=False)
                score = tf.reduce_sum(outputs * weights, axis=-1)
            return maps, tape.gradient(score, maps), score

        return layer_gradients


def _first(outputs):
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


def _tensor(values: np.ndarray):
    return tf.convert_to_tensor(np.asarray(values, np.float32))
