"""Bring TensorFlow in behind a model that answers on ONNX Runtime, before it is needed."""

from __future__ import annotations

from dataclasses import dataclass

from core.ops.base import OpContext, Request, operation


@dataclass(frozen=True)
class PrepareTensorFlowRequest(Request):
    """Start importing TensorFlow and loading the Keras model on a thread of their own."""


@operation(PrepareTensorFlowRequest)
def prepare_tensorflow(engine, request: PrepareTensorFlowRequest, ctx: OpContext) -> bool:
    """True when it started (or had started) loading; False when nothing is to be loaded."""
    start = getattr(engine.backend, "load_keras_in_background", None)
    if start is None:
        return False
    start()
    return True
