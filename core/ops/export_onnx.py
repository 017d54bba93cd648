"""Export the loaded model as an ONNX file, verified against TensorFlow before it is written.

The same conversion the ONNX Runtime backend uses (and its cache), offered to users for
deployment (ONNX Runtime on servers, phones, the browser). The file carries what a program
needs to feed it and read it, as ONNX metadata properties: class names, input size and
layout, preprocessing constants, resize policy. Runs on the Keras model: a model answered
from the ONNX cache loads it first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import core
from core.errors import ExportError
from core.ops.base import OpContext, Request, operation

VERIFY_IMAGES = 4


@dataclass(frozen=True)
class ExportOnnxRequest(Request):
    destination: Path
    overwrite: bool = False


@dataclass(frozen=True)
class OnnxExport:
    path: Path
    max_abs_diff: float
    size_bytes: int


def verification_batch(engine, count: int = VERIFY_IMAGES) -> np.ndarray:
    """Photos-like inputs that exercise the whole value range: smooth gradients and noise."""
    height, width = engine.loaded.input_size
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    images = [np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8)]
    images += [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count - 1)]
    return engine.preprocess(images)


def onnx_metadata(engine, max_abs_diff: float) -> dict[str, str]:
    """The metadata properties written into an exported ONNX model (all strings)."""
    loaded = engine.loaded
    height, width = loaded.input_size
    return {
        "convlens_version": core.__version__,
        "source_model": loaded.name,
        "class_names": json.dumps(list(loaded.class_names) if loaded.is_classifier else []),
        "input_size": f"{height},{width}",
        "input_layout": "NHWC float32, RGB pixels 0-255 before preprocessing",
        "preprocessing": json.dumps(loaded.preprocessing.to_dict()),
        "resize": engine.resize_mode,
        "crop_fraction": str(loaded.crop_fraction),
        "verified_max_abs_diff": f"{max_abs_diff:.3g}",
    }


def _check_destination(path: Path, overwrite: bool) -> None:
    if path.suffix.lower() != ".onnx":
        raise ExportError(f"Name the ONNX file with .onnx, not {path.name}.")
    if not path.absolute().parent.is_dir():
        raise ExportError(f"The folder {path.absolute().parent} does not exist.")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists; choose another name or allow replacing it.")


@operation(ExportOnnxRequest)
def export_onnx(engine, request: ExportOnnxRequest, ctx: OpContext) -> OnnxExport:
    import onnx

    from core.engine import onnx_cache, onnx_convert
    from core.engine.backends.auto_backend import difference
    from core.engine.backends.onnx_backend import OnnxBackend
    from core.io.atomic import atomic_path

    destination = Path(request.destination)
    _check_destination(destination, request.overwrite)
    loaded = engine.loaded
    ctx.progress(0, 0, f"Converting {loaded.name} to ONNX…")
    keras = getattr(engine.backend, "keras", engine.backend)  # AutoBackend or KerasBackend
    description = onnx_cache.describe_loaded(loaded, keras.layer_tree())
    try:
        entry = onnx_convert.converted(keras._forward, keras.model, None, description)
    except onnx_convert.ConversionFailed as exc:
        raise ExportError(f"{loaded.name} cannot be exported as ONNX: {exc}.") from exc
    ctx.cancel.raise_if_cancelled()
    ctx.progress(0, 0, "Checking the ONNX model against TensorFlow…")
    batch = verification_batch(engine)
    reference = keras.predict(batch)
    candidate = OnnxBackend(entry.model_source).predict(batch)
    diff, problem = difference(reference, candidate, loaded.is_classifier)
    if problem is not None:
        raise ExportError(f"Not written: {problem}.")
    ctx.cancel.raise_if_cancelled()
    ctx.progress(0, 0, f"Writing {destination.name}…")
    model = onnx.load_from_string(onnx_cache.entry_bytes(entry))
    model.producer_name = "ConvLens"
    model.doc_string = f"{loaded.name}, converted by ConvLens {core.__version__} with tf2onnx"
    onnx.helper.set_model_props(model, onnx_metadata(engine, diff))
    data = model.SerializeToString()
    with atomic_path(destination, overwrite=request.overwrite) as partial:
        partial.write_bytes(data)
    return OnnxExport(destination, diff, len(data))
