"""Answering from the ONNX cache without TensorFlow.

When the model a command or the window asks for has a verified conversion in the cache
(core.engine.onnx_cache), its Engine is built from the cache alone: onnxruntime runs the
model, the sidecar gives class names, input size, preprocessing and the layer tree.
TensorFlow and the Keras model are loaded only when something needs them (a layer's
activations, an explanation), by the backend's ``keras_loader``. Light module.
"""

from __future__ import annotations

from core.engine import onnx_cache
from core.engine.backends.auto_backend import AutoBackend
from core.engine.backends.onnx_backend import OnnxBackend
from core.engine.engine import Engine


def keras_loader(loaded, model: str, weights: str, preprocess: str | None, trust: bool):
    """What loads the Keras model behind a cached engine, on first need."""

    def load():
        from core.engine.tf_runtime import import_tensorflow_quietly

        import_tensorflow_quietly()
        from core.engine.backends.keras_backend import KerasBackend
        from core.models.loading import load_model

        fresh = load_model(model, weights=weights, preprocess=preprocess, trust=trust)
        loaded.model = fresh.model
        return KerasBackend(fresh.model)

    return load


def cached_engine(
    model: str,
    weights: str = "imagenet",
    preprocess: str | None = None,
    trust: bool = False,
    strict: bool = False,
) -> Engine | None:
    """An Engine on the cached, verified ONNX model; None when there is none."""
    skey = onnx_cache.source_key(model, weights, preprocess)
    entry = onnx_cache.verified_entry_for_source(skey)
    if entry is None:
        return None
    description = entry.sidecar["model"]
    try:
        loaded = onnx_cache.stored_loaded(description)
        onnx = OnnxBackend(entry.model_source, None, onnx_cache.stored_tree(description))
    except Exception:  # an entry this version cannot read: the slow path converts again
        onnx_cache.remove_entry(entry.key)
        return None
    backend = AutoBackend(
        loaded,
        keras_loader=keras_loader(loaded, model, weights, preprocess, trust),
        onnx=onnx,
        source_key=skey,
        strict=strict,
    )
    return Engine(loaded, backend)
