"""Every zoo family on ONNX Runtime gives TensorFlow's answers: the same top-5 labels and
probabilities within 1e-5. Random weights saved to a file (no download), small inputs."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from core.engine.engine import Engine, make_backend
from core.models.loading import load_model_file
from core.models.metadata import write_metadata
from core.models.zoo import get_spec
from tests.model_factory import make_distinctive, random_images

# One architecture per family, at the smallest input Keras builds it at (cheap to convert).
# ConvNeXt is not here: Keras runs its grouped convolutions as XLA-compiled functions and
# its GELU with Erfc, which tf2onnx cannot convert, so it runs on TensorFlow (with that
# reason in the status line; test_onnx_backend.py tests the fallback).
FAMILIES = {
    "VGG16": 32,
    "ResNet50V2": 32,
    "Xception": 71,
    "MobileNetV3Small": 32,
    "DenseNet121": 32,
    "EfficientNetB0": 32,
}
CLASSES = 20


def _saved(name: str, size: int, folder):
    spec = get_spec(name)
    if name == "VGG16":  # its 4096-wide top is most of the cost: a new head, as in transfer
        base = keras.applications.VGG16(
            include_top=False, weights=None, input_shape=(size, size, 3), pooling="avg"
        )
        model = keras.Sequential([base, keras.layers.Dense(CLASSES, activation="softmax")])
    else:
        model = getattr(keras.applications, spec.keras_name)(
            weights=None, input_shape=(size, size, 3), classes=CLASSES
        )
    make_distinctive(model)
    head = model.layers[-1]  # sharper probabilities: no near-ties in the top-5
    head.set_weights([w * 8 for w in head.get_weights()])
    path = folder / f"{name}.keras"
    model.save(path)
    write_metadata(path, {"preprocess": spec.preprocess})
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("name", "size"), FAMILIES.items())
def test_onnx_runtime_gives_tensorflows_top5(name, size, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path / "cache"))
    loaded = load_model_file(_saved(name, size, tmp_path))
    images = list(random_images(3, size, seed=7))
    onnx = Engine(loaded, make_backend(loaded, "onnx"))  # raises rather than fall back

    ours = onnx.classify_arrays(images)
    theirs = Engine(loaded).classify_arrays(images)

    assert onnx.backend.name == "onnx"
    for mine, reference in zip(ours, theirs, strict=True):
        assert [label.label for label in mine] == [label.label for label in reference]
        np.testing.assert_allclose(
            [label.probability for label in mine],
            [label.probability for label in reference],
            atol=1e-5,
        )
