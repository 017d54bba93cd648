"""Running a model: top-k predictions, batches of files, feature vectors, progress and cancel."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from core.engine.engine import Engine, pool_features
from core.errors import Cancelled
from core.models.loading import LoadedModel, load_model
from core.models.preprocessing import preprocess
from core.progress import CancelToken
from tests.image_corpus import write_noise, write_not_an_image, write_truncated
from tests.model_factory import random_images, tiny_cnn, transfer_model

SIZE = 32
NAMES = ["cat", "dog", "fish"]


@pytest.fixture(scope="module")
def logits_model():
    """A tiny CNN whose head outputs logits (no softmax), as many trained models do."""
    keras.utils.set_random_seed(7)  # fixed weights: with some draws two classes nearly tie
    model = tiny_cnn(classes=3, size=SIZE)
    head = model.get_layer("head")
    head.activation = keras.activations.linear
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 20, bias + np.array([0.0, 1.0, -1.0], np.float32)])
    return model


@pytest.fixture(scope="module")
def engine(logits_model):
    return Engine(LoadedModel(logits_model, "tiny", "file", (SIZE, SIZE), "tf", NAMES))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Seven photos of mixed sizes and formats, with one broken file in the middle."""
    root = tmp_path_factory.mktemp("photos")
    for i, size in enumerate([(40, 30), (64, 64), (33, 90)], start=1):
        write_noise(root / f"img{i}.png", size=size, seed=i)
    write_truncated(root / "img4.png")
    write_noise(root / "img5.jpg", size=(50, 50), seed=5)
    write_noise(root / "sub" / "img6.bmp", size=(32, 32), seed=6)
    write_noise(root / "img10.png", size=(70, 20), seed=10)
    (root / "notes.txt").write_text("not a photo")  # not an image suffix: skipped in folders
    return root


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_classify_arrays_is_the_softmax_of_the_model(engine, logits_model):
    images = random_images(4, SIZE, seed=1)
    images[0], images[1] = 0, 255  # black and white as well as noise
    results = engine.classify_arrays(images, top=3, prepared=True)
    expected = _softmax(np.asarray(logits_model(preprocess(images, "tf"))))
    for labels, probs in zip(results, expected, strict=True):
        assert [label.index for label in labels] == list(np.argsort(-probs))
        assert [label.probability for label in labels] == pytest.approx(np.sort(probs)[::-1])
        assert [label.label for label in labels] == [NAMES[i] for i in np.argsort(-probs)]
    assert not np.allclose(expected[0], expected[1], atol=1e-3)  # the images are told apart


def test_predictions_use_the_compiled_forward_pass_not_predict(engine, folder, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("model.predict costs several times the forward pass")

    monkeypatch.setattr(keras.Model, "predict", refuse)
    assert all(r.predictions for r in engine.classify_paths([folder / "img1.png"]))
    assert engine.extract_features([folder / "img2.png"], layer="conv2").vectors.shape == (1, 16)


def test_classify_arrays_fits_any_picture_to_the_input(engine):
    wide = random_images(1, 100, seed=2)[0][:40]
    [labels] = engine.classify_arrays([wide], top=2)
    assert len(labels) == 2
    assert sum(label.probability for label in labels) <= 1.0 + 1e-6


def test_classify_paths_reports_the_broken_file_and_goes_on(engine, folder):
    progress = []
    results = list(
        engine.classify_paths(
            [folder], top=2, batch_size=3, progress=lambda *args: progress.append(args[:2])
        )
    )
    names = [result.path.name for result in results]
    assert names == [
        "img1.png",
        "img2.png",
        "img3.png",
        "img4.png",
        "img5.jpg",
        "img10.png",
        "img6.bmp",
    ]
    broken = results[3]
    assert broken.predictions is None
    assert "img4.png" not in broken.error and broken.error  # the reason; the path is beside it
    for result in results[:3] + results[4:]:
        assert result.error is None and len(result.predictions) == 2
    assert broken.to_dict() == {"path": str(folder / "img4.png"), "error": broken.error}
    assert progress[-1] == (7, 7)
    # Each readable image gets the predictions classify_arrays gives for it.
    from core.io.images import fit_to_input, load_image

    img1 = fit_to_input(load_image(folder / "img1.png"), (SIZE, SIZE), engine.resize_mode)
    assert results[0].predictions == engine.classify_arrays([img1], top=2, prepared=True)[0]


def test_classify_paths_keeps_explicit_files_in_order(engine, folder, tmp_path):
    missing = tmp_path / "gone.jpg"
    text = write_not_an_image(tmp_path / "photo.jpg")
    paths = [folder / "img2.png", missing, text, folder / "img1.png"]
    results = list(engine.classify_paths(paths))
    assert [r.path for r in results] == paths
    assert [r.error is None for r in results] == [True, False, False, True]
    assert "does not exist" in results[1].error


def test_classify_paths_cancel(engine, folder):
    token = CancelToken()
    seen = []
    with pytest.raises(Cancelled):
        for result in engine.classify_paths([folder], batch_size=2, cancel=token):
            seen.append(result)
            token.cancel()
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("layer", "pooling", "shape"),
    [
        ("conv2", "avg", (16,)),
        ("conv2", "max", (16,)),
        ("conv2", "flatten", (13 * 13 * 16,)),
        ("conv2", "none", (13, 13, 16)),
        ("gap", "none", (16,)),
        ("gap", "flatten", (16,)),  # vectors pass through any pooling
    ],
)
def test_extract_features_shapes(engine, folder, layer, pooling, shape):
    features = engine.extract_features([folder], layer=layer, pooling=pooling)
    assert features.vectors.shape == (6, *shape)
    assert features.vectors.dtype == np.float32
    assert [p.name for p in features.paths] == [
        "img1.png", "img2.png", "img3.png", "img5.jpg", "img10.png", "img6.bmp"
    ]  # fmt: skip
    assert [p.name for p, _ in features.failed] == ["img4.png"]


def test_extract_features_pooling_is_applied_to_the_layer_output(engine, folder):
    maps = engine.extract_features([folder], layer="conv2", pooling="none").vectors
    avg = engine.extract_features([folder], layer="conv2", pooling="avg").vectors
    biggest = engine.extract_features([folder], layer="conv2", pooling="max").vectors
    np.testing.assert_allclose(avg, maps.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(biggest, maps.max(axis=(1, 2)), rtol=1e-6)


def test_extract_features_defaults_to_the_pooled_penultimate_layer(engine, folder):
    assert engine.default_feature_layer() == "gap"
    features = engine.extract_features([folder])
    expected = engine.extract_features([folder], layer="conv2", pooling="avg")
    np.testing.assert_allclose(features.vectors, expected.vectors, rtol=1e-5, atol=1e-6)


def test_extract_features_progress_reaches_the_total(engine, folder):
    reports = []
    engine.extract_features(
        [folder], layer="gap", batch_size=4, progress=lambda *args: reports.append(args[:2])
    )
    assert reports == [(4, 7), (7, 7)]


def test_extract_features_cancel(engine, folder):
    token = CancelToken()

    def cancel_after_first_batch(done, total, message):
        token.cancel()

    with pytest.raises(Cancelled):
        engine.extract_features(
            [folder], layer="gap", batch_size=2, progress=cancel_after_first_batch, cancel=token
        )


def test_extract_features_unknown_layer_fails_before_any_work(engine, folder):
    with pytest.raises(KeyError, match="nope"):
        engine.extract_features([folder], layer="nope")


def test_extract_features_of_nothing(engine, tmp_path):
    features = engine.extract_features([tmp_path], layer="gap")
    assert features.vectors.shape[0] == 0 and features.paths == [] and features.failed == []


def test_feature_metadata_says_how_the_vectors_were_computed(engine):
    assert engine.feature_metadata("conv2", "max") == {
        "model": "tiny",
        "layer": "conv2",
        "pooling": "max",
        "preprocessing": "tf",
        "input_size": [SIZE, SIZE],
        "resize": "crop",
        "crop_fraction": 0.875,
        "weights": "imagenet",  # LoadedModel's default
        "backend": "keras",
    }


def test_pool_features_rejects_unknown_pooling():
    with pytest.raises(ValueError, match="avg"):
        pool_features(np.zeros((1, 2, 2, 3)), "mean")


# --- the default feature layer of real architectures ---------------------------------


def test_default_feature_layer_of_the_builtin_model():
    engine = Engine(load_model("builtin"))
    layer = engine.default_feature_layer()
    assert layer == "avg_pool"
    assert engine.default_pooling(layer) == "none"
    assert engine.features(random_images(1, 224), layer, "none", prepared=True).shape == (1, 1280)


def test_default_feature_layer_of_vgg16_with_top():
    engine = Engine(load_model("VGG16", weights=None))
    assert engine.default_feature_layer() == "fc2"


def test_default_feature_layer_of_a_transfer_model():
    model = transfer_model()
    engine = Engine(LoadedModel(model, "t", "file", (96, 96), "tf", NAMES))
    assert engine.default_feature_layer() == "pool"


def test_default_feature_layer_of_a_model_without_classifier():
    model = load_model("MobileNetV2", include_top=False, weights=None, input_shape=(96, 96, 3))
    engine = Engine(model)
    assert engine.default_feature_layer() == "out_relu"
    assert engine.default_pooling("out_relu") == "avg"
