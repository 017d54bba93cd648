"""Converting a Keras model's compiled forward pass to ONNX, through the cache.

tf2onnx converts the same ``tf.function`` the Keras backend runs (traced already, so the
conversion does not call the Keras model again and may run on another thread), at opset 17.
A conversion is stored whatever happens: a model tf2onnx cannot convert is remembered as
failed, with the reason, so it falls back to TensorFlow at once the next time.
Imports TensorFlow and tf2onnx: used only where a Keras model is loaded.
"""

from __future__ import annotations

import logging
import re

from core.engine import onnx_cache
from core.engine.onnx_cache import FAILED, OPSET, UNVERIFIED, Entry
from core.errors import ConvLensError


class ConversionFailed(ConvLensError):
    """tf2onnx could not convert the model (or it failed before): TensorFlow answers."""


def to_onnx(forward) -> bytes:
    """The serialized ONNX model of a compiled forward pass (core.engine.backends.keras_backend)."""
    import tf2onnx

    from core.engine.tf_runtime import stderr_captured

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    with stderr_captured():  # grappler announces every session it starts
        proto, _ = tf2onnx.convert.from_function(
            forward, input_signature=forward.input_signature, opset=OPSET
        )
    _captures_as_constants(proto, forward)
    return proto.SerializeToString()


def _captures_as_constants(proto, forward) -> None:
    """Constants the traced function captures from outside (a Normalization layer's mean and
    variance) come out of tf2onnx as extra graph inputs; store their values in the model."""
    from onnx import numpy_helper

    graph = forward.get_concrete_function().graph
    values = {inner.name: outer for outer, inner in graph.captures}
    for graph_input in list(proto.graph.input)[1:]:
        outer = values.get(graph_input.name)
        if outer is None or not hasattr(outer, "numpy"):
            continue
        proto.graph.initializer.append(numpy_helper.from_array(outer.numpy(), graph_input.name))
        proto.graph.input.remove(graph_input)


def unopenable(data: bytes) -> str | None:
    """Why onnxruntime cannot run a converted model, or None. tf2onnx keeps a TensorFlow op
    it has no conversion for as it is, and only onnxruntime notices."""
    from core.engine.backends.onnx_backend import open_session

    try:
        open_session(data)
    except Exception as exc:
        unknown = re.search(r"No Op registered for (\w+)", str(exc))
        if unknown:
            return f"tf2onnx cannot convert the TensorFlow op {unknown.group(1)}"
        return f"ONNX Runtime cannot run the converted model ({_one_line(exc)})"
    return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def converted(forward, model, layer_paths, description: dict | None = None) -> Entry:
    """The cache entry of model's forward pass (whole, or cut at layer_paths), converting it
    when it is not cached; ConversionFailed when tf2onnx cannot convert it.

    description: what answering needs without TensorFlow (onnx_cache.describe_loaded), kept
    with a whole model's entry.
    """
    key = onnx_cache.content_key(model, layer_paths)
    entry = onnx_cache.read_entry(key)
    if entry is None:
        sidecar = {"layers_cut": list(layer_paths) if layer_paths else None, "status": UNVERIFIED}
        if description is not None:
            sidecar["model"] = description
        try:
            data = to_onnx(forward)
            problem = unopenable(data)
        except Exception as exc:  # tf2onnx raises anything from KeyError to its own errors
            data, problem = None, f"tf2onnx cannot convert it ({_one_line(exc)})"
        if problem is not None:
            entry = _store(key, None, dict(sidecar, status=FAILED, reason=problem))
        else:
            entry = _store(key, data, sidecar)
    if entry.status == FAILED:
        raise ConversionFailed(entry.reason or "the conversion failed before")
    return entry


def _store(key: str, data: bytes | None, sidecar: dict) -> Entry:
    """Write an entry; a cache that cannot be written keeps it in memory for this run."""
    try:
        return onnx_cache.write_entry(key, data, sidecar)
    except OSError:
        return onnx_cache.MemoryEntry(
            key, dict(sidecar, converter=onnx_cache.converter_version()), data
        )
