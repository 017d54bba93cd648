"""TensorFlow Lite export of a Keras classifier, for phones and small devices.

Uses ``tf.lite.TFLiteConverter.from_keras_model``, which works with Keras 3 models on
TF 2.21 (checked: it traces the model's serving function). ConvLens-trained models take
RGB pixels 0–255 as float32 (N, H, W, 3) and output softmax probabilities, preprocessing
included, so the .tflite file needs nothing else but its class names: those are written
beside it as ``<name>_labels.txt``, one per line in output order.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from core.errors import ExportError
from core.io.atomic import atomic_path


def labels_path(tflite_path: str | Path) -> Path:
    path = Path(tflite_path)
    return path.with_name(f"{path.stem}_labels.txt")


def export_tflite(model, path: str | Path, class_names: Sequence[str] | None = None) -> Path:
    """Convert a Keras model to path (.tflite), atomically; write class names beside it."""
    path = Path(path)
    if path.suffix.lower() != ".tflite":
        raise ExportError(f"Name the TensorFlow Lite file with .tflite, not {path.name}.")
    if not path.parent.is_dir():
        raise ExportError(f"The folder {path.parent} does not exist.")
    chatter = io.StringIO()
    try:
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        # The converter prints a long "Saved artifact at …" listing on stdout, which
        # belongs to the command's --json output; keep it only to explain a failure.
        with contextlib.redirect_stdout(chatter):
            flatbuffer = converter.convert()
    except Exception as exc:  # the converter raises many types; callers need one
        raise ExportError(
            f"TensorFlow Lite could not convert the model: {exc}\n{chatter.getvalue()}".strip()
        ) from exc
    with atomic_path(path) as partial:
        partial.write_bytes(flatbuffer)
    if class_names:
        with atomic_path(labels_path(path)) as partial:
            partial.write_bytes(("\n".join(class_names) + "\n").encode("utf-8"))
    return path


def run_tflite(path: str | Path, batch: np.ndarray) -> np.ndarray:
    """Outputs of a .tflite model for a float32 batch, one image at a time (as devices do)."""
    with warnings.catch_warnings():
        # Deprecated in favour of the separate ai_edge_litert package, but still shipped
        # with TF 2.21 and the same runtime; ConvLens only needs it to check an export.
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    outputs = []
    for image in np.asarray(batch, np.float32):
        interpreter.set_tensor(source["index"], image[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(target["index"])[0].copy())
    return np.stack(outputs)
