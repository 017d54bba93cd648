"""``convlens export-onnx``: a file ONNX Runtime runs with the model's answers and metadata."""

from __future__ import annotations

import json

import keras
import numpy as np
import onnx
import pytest
import tensorflow as tf

from core.cli.main import main
from core.engine.backends.onnx_backend import OnnxBackend
from core.engine.engine import Engine
from core.errors import ExportError
from core.models.loaded import LoadedModel
from core.models.metadata import write_metadata
from core.models.preprocessing import get_preprocessing
from core.ops import run_request
from core.ops.export_onnx import ExportOnnxRequest
from tests.model_factory import make_distinctive, random_images, transfer_model

NAMES = ["daisy", "rose", "tulip"]


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    """A transfer-learning classifier (nested MobileNetV2 base) with its class names."""
    path = tmp_path_factory.mktemp("export") / "flowers.keras"
    model = transfer_model(classes=3, size=32)
    make_distinctive(model.layers[1])
    model.save(path)
    write_metadata(path, {"class_names": NAMES, "preprocess": "tf"})
    return path, model


def test_the_exported_file_answers_like_keras_and_says_how_to_feed_it(flowers, tmp_path, capsys):
    path, model = flowers
    out = tmp_path / "flowers.onnx"

    status = main(["export-onnx", str(path), "--out", str(out)])

    err = capsys.readouterr().err
    assert status == 0, err
    assert f"Wrote {out}" in err and "largest difference from Keras" in err
    props = {p.key: p.value for p in onnx.load(out).metadata_props}
    assert json.loads(props["class_names"]) == NAMES
    assert props["input_size"] == "32,32"
    assert json.loads(props["preprocessing"]) == get_preprocessing("tf").to_dict()
    pixels = random_images(3, 32).astype(np.float32)
    batch = get_preprocessing("tf").apply(pixels)
    np.testing.assert_allclose(
        OnnxBackend(str(out)).predict(batch), model.predict(batch, verbose=0), atol=1e-5
    )


def test_an_existing_file_is_kept_without_overwrite(flowers, tmp_path, capsys):
    out = tmp_path / "kept.onnx"
    out.write_bytes(b"mine")
    status = main(["export-onnx", str(flowers[0]), "--out", str(out)])
    assert status == 2 and "pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"mine"


def test_a_model_that_cannot_be_converted_writes_nothing_and_says_why(tmp_path):
    inputs = keras.Input((16, 16, 3))
    bessel = keras.layers.Lambda(tf.math.bessel_i0e, output_shape=(16, 16, 3), name="bessel")
    x = keras.layers.GlobalAveragePooling2D()(bessel(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    engine = Engine(LoadedModel(model, "odd.keras", "file", (16, 16), "tf", ["a", "b"]))
    out = tmp_path / "odd.onnx"

    with pytest.raises(ExportError) as raised:
        run_request(engine, ExportOnnxRequest(out))

    assert str(raised.value) == (
        "odd.keras cannot be exported as ONNX: tf2onnx cannot convert the TensorFlow op BesselI0e."
    )
    assert list(tmp_path.iterdir()) == []


def test_a_conversion_that_does_not_match_keras_is_not_written(flowers, tmp_path, monkeypatch):
    from core.engine.backends import onnx_backend

    real = onnx_backend.OnnxBackend.predict
    monkeypatch.setattr(onnx_backend.OnnxBackend, "predict", lambda self, b: real(self, b) * 0.9)
    path, _model = flowers
    out = tmp_path / "drift.onnx"

    status = main(["export-onnx", str(path), "--out", str(out)])

    assert status == 1 and not out.exists()
