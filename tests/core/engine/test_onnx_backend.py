"""The ONNX Runtime backend: same answers as TensorFlow, a cache that survives damage, and a
fallback to TensorFlow (with the reason) whenever the conversion cannot be trusted."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.engine import onnx_cache, onnx_convert
from core.engine.backends import auto_backend
from core.engine.backends.auto_backend import AutoBackend, OnnxUnavailable
from core.engine.engine import Engine, make_backend
from core.models.loading import LoadedModel
from tests.model_factory import random_images, tiny_cnn

SIZE = 32
NAMES = ["cat", "dog", "fish"]


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


@pytest.fixture(scope="module")
def loaded():
    model = tiny_cnn(classes=3, size=SIZE)
    head = model.get_layer("head")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 30, bias])  # confident, distinct probabilities
    return LoadedModel(model, "tiny", "file", (SIZE, SIZE), "tf", NAMES)


@pytest.fixture
def conversions(monkeypatch):
    """How many times tf2onnx ran."""
    calls = []
    real = onnx_convert.to_onnx

    def counting(forward):
        calls.append(forward)
        return real(forward)

    monkeypatch.setattr(onnx_convert, "to_onnx", counting)
    return calls


def _labels(results):
    return [[label.label for label in top] for top in results]


def _probabilities(results):
    return np.array([[label.probability for label in top] for top in results])


def test_auto_answers_like_tensorflow_on_onnx_runtime(loaded):
    images = list(random_images(4, SIZE))
    onnx = Engine(loaded, make_backend(loaded, "auto"))
    reference = Engine(loaded).classify_arrays(images, top=3)

    answer = onnx.classify_arrays(images, top=3)

    assert onnx.backend.name == "onnx" and onnx.backend.notice is None
    assert _labels(answer) == _labels(reference)
    np.testing.assert_allclose(_probabilities(answer), _probabilities(reference), atol=1e-5)


def test_a_verified_conversion_is_reused_from_the_cache(loaded, conversions):
    images = list(random_images(2, SIZE))
    Engine(loaded, make_backend(loaded, "auto")).classify_arrays(images)
    again = Engine(loaded, make_backend(loaded, "auto"))

    again.classify_arrays(images)

    assert len(conversions) == 1
    assert again.backend.name == "onnx"


def test_a_changed_model_is_converted_again(conversions):
    first = LoadedModel(tiny_cnn(size=SIZE), "a", "file", (SIZE, SIZE), "tf", NAMES)
    second = LoadedModel(tiny_cnn(size=SIZE), "b", "file", (SIZE, SIZE), "tf", NAMES)
    for loaded in (first, second):  # same structure, other random weights
        Engine(loaded, make_backend(loaded, "auto")).classify_arrays(list(random_images(1, SIZE)))
    assert len(conversions) == 2


def test_a_damaged_cache_entry_is_converted_again(loaded, conversions, fresh_cache):
    images = list(random_images(2, SIZE))
    reference = Engine(loaded).classify_arrays(images)
    Engine(loaded, make_backend(loaded, "auto")).classify_arrays(images)
    (onnx_file,) = fresh_cache.glob("*.onnx")
    onnx_file.write_bytes(onnx_file.read_bytes()[:1000])  # a half-written file

    engine = Engine(loaded, make_backend(loaded, "auto"))
    answer = engine.classify_arrays(images)

    assert len(conversions) == 2 and engine.backend.name == "onnx"
    assert _labels(answer) == _labels(reference)
    entry = onnx_cache.read_entry(onnx_file.stem)
    assert entry is not None and entry.status == onnx_cache.VERIFIED


def test_outputs_that_differ_fall_back_to_tensorflow_with_the_reason(loaded, monkeypatch):
    class Drifting(auto_backend.OnnxBackend):
        def run(self, batch):
            first, *rest = super().run(batch)
            return [first + np.linspace(0, 1e-3, first.shape[-1], dtype=np.float32), *rest]

    monkeypatch.setattr(auto_backend, "OnnxBackend", Drifting)
    images = list(random_images(2, SIZE))
    engine = Engine(loaded, make_backend(loaded, "auto"))

    answer = engine.classify_arrays(images)

    assert engine.backend.name == "keras"
    assert "differ from TensorFlow's" in engine.backend.notice
    assert "\n" not in engine.backend.notice
    assert answer == Engine(loaded).classify_arrays(images)  # TensorFlow's own answer
    # Remembered: the next run does not convert or compare again.
    monkeypatch.setattr(onnx_convert, "to_onnx", pytest.fail)
    later = Engine(loaded, make_backend(loaded, "auto"))
    later.classify_arrays(images)
    assert later.backend.name == "keras" and "differ" in later.backend.notice


def test_a_change_of_top5_order_is_a_mismatch(monkeypatch):
    reference = np.array([[0.5, 0.30001, 0.2, 0.0, 0.0, 0.0]], np.float32)
    swapped = np.array([[0.5, 0.2, 0.30001, 0.0, 0.0, 0.0]], np.float32)
    _diff, problem = auto_backend.difference(reference, reference + 1e-7, classifier=True)
    assert problem is None
    monkeypatch.setattr(auto_backend, "TOLERANCE", 1.0)  # only the order can differ
    _diff, problem = auto_backend.difference(reference, swapped, classifier=True)
    assert problem == "ONNX Runtime changes the top-5 order"


def _unconvertible():
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Lambda(lambda t: tf.math.bessel_i0e(t), name="bessel")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return LoadedModel(keras.Model(inputs, outputs), "odd", "file", (SIZE, SIZE), "tf", NAMES)


def test_a_model_with_an_op_tf2onnx_cannot_convert_runs_on_tensorflow():
    loaded = _unconvertible()
    engine = Engine(loaded, make_backend(loaded, "auto"))
    images = list(random_images(2, SIZE))

    answer = engine.classify_arrays(images)

    assert engine.backend.name == "keras"
    assert engine.backend.notice == (
        "TensorFlow runs odd: tf2onnx cannot convert the TensorFlow op BesselI0e."
    )
    assert answer == Engine(loaded).classify_arrays(images)


def test_backend_onnx_says_why_it_cannot_run_instead_of_falling_back():
    loaded = _unconvertible()
    engine = Engine(loaded, make_backend(loaded, "onnx"))
    with pytest.raises(OnnxUnavailable, match="BesselI0e. Use --backend tf"):
        engine.classify_arrays(list(random_images(1, SIZE)))


def test_layer_sets_stay_on_tensorflow_unless_asked(loaded, conversions):
    images = list(random_images(3, SIZE))
    engine = Engine(loaded, make_backend(loaded, "auto"))
    reference = Engine(loaded).features(images, "conv2", "avg")

    engine.features(images, "conv2", "avg")
    assert conversions == []  # one image's activations are not worth a conversion
    assert engine.feature_metadata("conv2", "avg")["backend"] == "keras"
    engine.backend.use_onnx_for_layers(["conv2"])
    features = engine.features(images, "conv2", "avg")

    assert len(conversions) == 1
    assert engine.feature_metadata("conv2", "avg")["backend"] == "onnx"
    np.testing.assert_allclose(features, reference, atol=1e-5)


def test_background_conversion_answers_with_tensorflow_until_it_is_ready(loaded):
    images = list(random_images(2, SIZE))
    backend = make_backend(loaded, "auto", background=True)
    engine = Engine(loaded, backend)
    reference = Engine(loaded).classify_arrays(images)

    first = engine.classify_arrays(images)
    assert backend.name == "keras"  # converting meanwhile
    assert backend.wait_converted(timeout=120)
    later = engine.classify_arrays(images)

    assert backend.name == "onnx"
    assert first == reference
    assert _labels(later) == _labels(reference)
    np.testing.assert_allclose(_probabilities(later), _probabilities(reference), atol=1e-5)


def test_auto_backend_is_what_make_backend_returns(loaded):
    assert isinstance(make_backend(loaded, "auto"), AutoBackend)
    assert make_backend(loaded, "tf").name == "keras"
    with pytest.raises(ValueError):
        make_backend(loaded, "cuda")


def test_classifying_on_onnx_runtime_keeps_the_features_the_map_needs(loaded, tmp_path):
    from PIL import Image

    from core.explore.cache import feature_cache
    from core.ops import OpContext, run_request
    from core.ops.classify import ClassifyRequest
    from core.ops.feature_map import MapRequest
    from core.ops.feature_source import FeatureSource

    paths = []
    for i, image in enumerate(random_images(6, SIZE)):
        paths.append(str(tmp_path / f"photo{i}.png"))
        Image.fromarray(image).save(paths[-1])
    engine = Engine(loaded, make_backend(loaded, "auto"))
    ctx, classified = OpContext(), []
    ctx.partial = classified.append
    # The first batch converts the model and verifies it against TensorFlow.
    run_request(engine, ClassifyRequest(tuple(paths[:3]), keep_features=True), ctx)
    on_tensorflow = []
    keras = engine.backend.keras
    real_predict, real_layer_outputs = keras.predict, keras.layer_outputs
    keras.predict = lambda batch: on_tensorflow.append(batch) or real_predict(batch)
    keras.layer_outputs = lambda batch, layers: (
        on_tensorflow.append(batch) or real_layer_outputs(batch, layers)
    )

    run_request(engine, ClassifyRequest(tuple(paths[3:]), keep_features=True), ctx)

    assert [c.backend for c in classified] == ["onnx"] * 6
    assert on_tensorflow == []  # labels and features from ONNX Runtime alone
    assert len(feature_cache(ctx.store)) == 6
    passes = []
    engine.layer_outputs = lambda batch, layers: passes.append(layers)
    result = run_request(engine, MapRequest(FeatureSource(tuple(paths))), ctx)
    assert passes == []  # the map needs no second forward pass
    assert sorted(result.paths) == sorted(paths) and result.layer == "gap"
    # And the features are TensorFlow's.
    reference = Engine(loaded).extract_features(paths)
    table = ctx.store["explore.table"][1]
    np.testing.assert_allclose(table.vectors, reference.vectors, atol=1e-5)
