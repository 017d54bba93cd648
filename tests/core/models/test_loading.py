"""Loading models: zoo options, the built-in default, and the user's .keras / .h5 files."""

from __future__ import annotations

import json
import os
import stat

import keras
import numpy as np
import pytest

from core.errors import ModelLoadError, UnsafeModelError
from core.models.loading import (
    MissingFileError,
    PreprocessingUnknownError,
    UnknownModelError,
    load_model,
)
from core.models.metadata import read_metadata, write_metadata
from core.models.zoo import BUILTIN_NAME, get_spec
from tests.model_factory import (
    SMALL,
    keras2_reference_output,
    make_distinctive,
    tiny_cnn,
    transfer_model,
    write_keras2_h5,
)

# --- zoo options ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pooling", "shape", "last_layer"),
    [
        (None, (None, 9, 9, 512), "MaxPooling2D"),
        ("none", (None, 9, 9, 512), "MaxPooling2D"),
        ("avg", (None, 512), "GlobalAveragePooling2D"),
        ("max", (None, 512), "GlobalMaxPooling2D"),
    ],
)
def test_vgg16_without_top_at_300px_with_each_pooling(pooling, shape, last_layer):
    loaded = load_model(
        "VGG16", include_top=False, weights="none", input_shape=(300, 300, 3), pooling=pooling
    )
    assert loaded.model.output_shape == shape
    assert type(loaded.model.layers[-1]).__name__ == last_layer
    assert loaded.input_size == (300, 300)
    assert loaded.preprocess == "caffe"
    assert not loaded.is_classifier and loaded.class_names == []


def test_unknown_pooling_is_refused_not_ignored():
    with pytest.raises(ModelLoadError, match="pooling"):
        load_model("VGG16", include_top=False, weights=None, pooling="average")


def test_classes_gives_a_new_head_with_generic_names():
    loaded = load_model("MobileNetV2", weights=None, classes=5, input_shape=(SMALL, SMALL, 3))
    assert loaded.model.output_shape == (None, 5)
    assert loaded.class_names == [f"class_{i}" for i in range(5)]
    assert loaded.class_ids is None and loaded.is_classifier


def test_imagenet_weights_with_a_top_need_1000_classes(keras_home):
    with pytest.raises(ModelLoadError, match="classes=1000"):
        load_model("MobileNetV2", classes=5)


def test_imagenet_top_needs_its_training_size(keras_home):
    with pytest.raises(ModelLoadError, match="224×224"):
        load_model("MobileNetV2", input_shape=(SMALL, SMALL, 3))


def test_random_weights_top_is_an_imagenet_classifier():
    loaded = load_model("mobilenetv2", weights="None", input_shape=(SMALL, SMALL, 3))
    assert loaded.weights == "random" and loaded.source == "zoo"
    assert len(loaded.class_names) == 1000 and loaded.class_names[281] == "tabby"
    assert loaded.class_ids[281] == "n02123045"


def test_too_small_input_is_a_model_load_error():
    with pytest.raises(ModelLoadError, match="VGG16"):
        load_model("VGG16", include_top=False, weights=None, input_shape=(16, 16, 3))


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(UnknownModelError, match="ResNet50") as caught:
        load_model("AlexNet")
    assert "AlexNet" in str(caught.value)


def test_missing_weights_file_is_named(tmp_path):
    missing = tmp_path / "nope.h5"
    with pytest.raises(MissingFileError, match="nope.h5"):
        load_model("MobileNetV2", weights=str(missing))


def test_damaged_cached_weights_say_which_file_to_delete(keras_home):
    spec = get_spec("MobileNetV2")
    keras_home.mkdir(parents=True)
    (keras_home / spec.weights_file).write_bytes(b"half a download")
    with pytest.raises(ModelLoadError, match="Delete it") as caught:
        load_model("MobileNetV2")
    assert spec.weights_file in str(caught.value)


# --- the built-in model ---------------------------------------------------------------


def test_builtin_model_is_the_pretrained_default():
    loaded = load_model(BUILTIN_NAME)
    assert loaded.name == BUILTIN_NAME and loaded.source == "builtin"
    assert loaded.preprocess == "lite"
    assert loaded.input_size == (224, 224)
    assert loaded.weights == "imagenet"
    assert loaded.model.output_shape == (None, 1000)
    assert loaded.class_names[967] == "espresso"
    assert load_model("builtin").name == BUILTIN_NAME


def test_builtin_model_without_top_keeps_its_preprocessing():
    loaded = load_model(BUILTIN_NAME, include_top=False, pooling="avg")
    assert loaded.model.output_shape == (None, 1280)
    assert loaded.preprocess == "lite" and not loaded.is_classifier


# --- model files ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def transfer(folder):
    """A transfer model with a nested MobileNetV2 base, saved as .keras."""
    model = transfer_model()
    make_distinctive(model.get_layer("mobilenetv2_1.00_96"))
    path = folder / "flowers.keras"
    model.save(path)
    return model, path


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(0).uniform(-1, 1, (2, SMALL, SMALL, 3)).astype(np.float32)


def _same_outputs(a, b, x):
    np.testing.assert_allclose(np.asarray(a(x)), np.asarray(b(x)), rtol=1e-5, atol=1e-6)


def test_keras_file_with_a_nested_base(transfer, inputs):
    model, path = transfer
    loaded = load_model(path)
    assert loaded.source == "file" and loaded.name == "flowers.keras" and loaded.path == path
    assert loaded.input_size == (SMALL, SMALL)
    _same_outputs(loaded.model, model, inputs)
    # Preprocessing is inferred from the nested Keras MobileNetV2 base, and the user is told.
    assert loaded.preprocess == "tf"
    assert any("mobilenetv2_1.00_96" in note for note in loaded.notes)
    assert loaded.class_names == ["class_0", "class_1", "class_2"]


def test_h5_file_saved_by_keras_3(transfer, folder, inputs):
    model, _ = transfer
    path = folder / "flowers_k3.h5"
    model.save(path)  # Keras 3's legacy HDF5 writer
    loaded = load_model(path)
    _same_outputs(loaded.model, model, inputs)
    assert loaded.preprocess == "tf"


def test_h5_file_saved_by_keras_2(tmp_path):
    path = tmp_path / "tf_keras_model.h5"
    weights = write_keras2_h5(path)
    loaded = load_model(path, preprocess="none")
    x = np.random.default_rng(1).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(loaded.model(x)), keras2_reference_output(weights, x), rtol=1e-4, atol=1e-6
    )
    assert [layer.name for layer in loaded.model.layers][1] == "base"  # still nested
    assert loaded.input_size == (32, 32)


def test_class_names_stored_in_a_keras_file(tmp_path):
    path = tmp_path / "pets.keras"
    tiny_cnn().save(path)
    write_metadata(path, {"class_names": ["cat", "dog", "fish"], "preprocess": "tf"})
    loaded = load_model(path)
    assert loaded.class_names == ["cat", "dog", "fish"]
    assert loaded.preprocess == "tf"
    assert keras.saving.load_model(path).name == "tiny_cnn"  # plain Keras still reads it


def test_stored_metadata_can_be_replaced(tmp_path):
    path = tmp_path / "pets.keras"
    tiny_cnn().save(path)
    write_metadata(path, {"class_names": ["a", "b", "c"], "preprocess": "tf"})
    old = os.umask(0o027)
    try:  # the archive is rewritten without the old member, under a temporary name
        write_metadata(path, {"class_names": ["cat", "dog", "fish"], "preprocess": "torch"})
    finally:
        os.umask(old)
    assert read_metadata(path) == {"class_names": ["cat", "dog", "fish"], "preprocess": "torch"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # not the 0o600 of a temporary file
    assert [p.name for p in tmp_path.iterdir()] == ["pets.keras"]
    assert load_model(path).class_names == ["cat", "dog", "fish"]


def test_class_names_stored_in_an_h5_file(tmp_path):
    path = tmp_path / "pets.h5"
    tiny_cnn().save(path)
    write_metadata(path, {"class_names": ["cat", "dog", "fish"], "preprocess": "caffe"})
    loaded = load_model(path)
    assert loaded.class_names == ["cat", "dog", "fish"]
    assert loaded.preprocess == "caffe"


def test_class_names_from_a_sidecar_labels_file(tmp_path):
    path = tmp_path / "pets.keras"
    tiny_cnn().save(path)
    (tmp_path / "labels.txt").write_text("cat\ndog\n\nfish\n", encoding="utf-8")
    assert load_model(path, preprocess="none").class_names == ["cat", "dog", "fish"]


def test_class_names_that_do_not_fit_are_ignored_with_a_note(tmp_path):
    path = tmp_path / "pets.keras"
    tiny_cnn().save(path)
    (tmp_path / "labels.txt").write_text("cat\ndog\n", encoding="utf-8")
    loaded = load_model(path, preprocess="none")
    assert loaded.class_names == ["class_0", "class_1", "class_2"]
    assert any("2 stored class names" in note for note in loaded.notes)


def test_lambda_layer_is_refused_unless_trusted(tmp_path):
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"lambda{suffix}"
        model.save(path)
        with pytest.raises(UnsafeModelError, match="--trust-model") as caught:
            load_model(path, preprocess="none")
        assert "Lambda" in str(caught.value) and path.name in str(caught.value)
        trusted = load_model(path, preprocess="none", trust=True)
        x = np.ones((1, 16, 16, 3), np.float32)
        _same_outputs(trusted.model, model, x)


def test_unknown_preprocessing_must_be_chosen_and_is_remembered(tmp_path):
    path = tmp_path / "mine.keras"
    tiny_cnn().save(path)
    with pytest.raises(PreprocessingUnknownError, match="--preprocess") as caught:
        load_model(path)
    assert "caffe" in str(caught.value)

    assert load_model(path, preprocess="caffe").preprocess == "caffe"
    again = load_model(path)
    assert again.preprocess == "caffe"
    assert load_model(str(tmp_path / "." / "mine.keras")).preprocess == "caffe"  # same file


def test_a_rescaling_layer_means_no_preprocessing(tmp_path):
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    path = tmp_path / "scaled.keras"
    keras.Model(inputs, keras.layers.Dense(2)(x)).save(path)
    assert load_model(path).preprocess == "none"


def test_missing_model_file(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        load_model(tmp_path / "gone.keras")


@pytest.mark.parametrize(("name", "expected"), [("broken.keras", "zip"), ("broken.h5", "HDF5")])
def test_damaged_model_file_is_a_clear_error(tmp_path, name, expected):
    path = tmp_path / name
    path.write_bytes(b"not a model at all")
    with pytest.raises(ModelLoadError, match=expected) as caught:
        load_model(path)
    assert name in str(caught.value)


def test_a_weights_only_file_suggests_weights(tmp_path):
    path = tmp_path / "weights_only.h5"
    tiny_cnn().save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "w.weights.h5").rename(path)
    with pytest.raises(ModelLoadError, match="--weights"):
        load_model(path)


def test_a_model_that_does_not_take_rgb_images_is_refused(tmp_path):
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(inputs)
    path = tmp_path / "mnist.keras"
    keras.Model(inputs, keras.layers.Dense(10)(x)).save(path)
    with pytest.raises(ModelLoadError, match="RGB"):
        load_model(path, preprocess="none")


def test_a_damaged_sidecar_does_not_block_loading(tmp_path):
    path = tmp_path / "pets.keras"
    tiny_cnn().save(path)
    (tmp_path / "pets.keras.json").write_text("{not json", encoding="utf-8")
    assert load_model(path, preprocess="none").class_names == ["class_0", "class_1", "class_2"]
    (tmp_path / "pets.keras.json").write_text(
        json.dumps({"class_names": ["a", "b", "c"], "preprocess": "torch"}), encoding="utf-8"
    )
    loaded = load_model(path)
    assert (loaded.class_names, loaded.preprocess) == (["a", "b", "c"], "torch")


def test_a_single_sigmoid_output_is_a_two_class_classifier(tmp_path):
    from core.engine.engine import Engine

    path = tmp_path / "cat_or_dog.keras"
    model = tiny_cnn(classes=1)
    model.layers[-1].activation = keras.activations.sigmoid
    model.save(path)
    write_metadata(path, {"class_names": ["cat", "dog"], "preprocess": "tf"})
    loaded = load_model(path)
    assert loaded.class_names == ["cat", "dog"] and loaded.is_classifier
    image = np.full((40, 40, 3), 128, np.uint8)
    labels = Engine(loaded).classify_arrays([image], top=5)[0]
    assert sorted(label.label for label in labels) == ["cat", "dog"]
    assert abs(sum(label.probability for label in labels) - 1.0) < 1e-6


def test_a_weights_file_given_with_a_model_file_replaces_its_weights(tmp_path):
    path = tmp_path / "pets.keras"
    trained = tiny_cnn()
    trained.save(path)
    other = tiny_cnn()
    other.set_weights([w + 0.5 for w in other.get_weights()])
    weights = tmp_path / "other.weights.h5"
    other.save_weights(weights)
    loaded = load_model(path, weights=str(weights), preprocess="tf")
    assert loaded.weights == str(weights)
    for mine, theirs in zip(loaded.model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(ModelLoadError, match="zoo models"):
        load_model(path, weights="none", preprocess="tf")
