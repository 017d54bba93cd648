"""--resize and --input-size: the classic Keras recipe reproduced from the command line.

The references are Keras' own: ``keras.utils.load_img(path, target_size=…)`` +
``img_to_array`` + ``preprocess_input``, through ``keras.applications.X(include_top=False,
input_shape=…)`` with the same (random, saved) weights. No downloads.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import skimage.data
from PIL import Image

from core.cli.main import main
from core.io.export import read_features
from core.io.images import load_fitted
from core.models.loading import load_model_file
from core.models.metadata import read_metadata
from core.models.options import parse_input_size
from tests.training_data import make_texture_dataset


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    """A 451×300 photo: squashing and cropping it to a square differ visibly."""
    path = tmp_path_factory.mktemp("photos") / "chelsea.jpg"
    Image.fromarray(skimage.data.chelsea()).save(path, quality=92)
    return path


@pytest.fixture(scope="module")
def mobilenet_96(tmp_path_factory):
    """Keras' headless MobileNetV2 at 96×96 with random weights, and their file."""
    model = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(96, 96, 3))
    path = tmp_path_factory.mktemp("weights") / "mobilenet_v2_96.weights.h5"
    model.save_weights(path)
    return model, path


def keras_recipe(model, path, size, preprocess_input, layer=None) -> np.ndarray:
    image = keras.utils.load_img(path, target_size=size)  # its default: nearest
    batch = preprocess_input(keras.utils.img_to_array(image)[None])
    if layer is not None:
        model = keras.Model(model.input, model.get_layer(layer).output)
    return np.asarray(model(batch, training=False))[0]


def test_squash_pixels_are_load_img_pixels(cat):
    reference = keras.utils.img_to_array(keras.utils.load_img(cat, target_size=(224, 160)))
    np.testing.assert_array_equal(
        load_fitted(cat, (224, 160), "squash"), reference.astype(np.uint8)
    )


def extract(capsys, tmp_path, *options):
    out = tmp_path / "features.npz"
    status = main(["extract", *map(str, options), "--out", str(out), "--overwrite"])
    _, err = capsys.readouterr()
    assert status == 0, err
    vectors, _paths, metadata = read_features(out)
    return vectors, metadata


def test_squash_equals_the_keras_load_img_recipe(capsys, tmp_path, cat, mobilenet_96):
    model, weights = mobilenet_96
    options = ["--model", "MobileNetV2", "--weights", weights, "--input-size", "96"]
    options += ["--layer", "block_3_expand_relu", "--pool", "none", cat]
    squashed, metadata = extract(capsys, tmp_path, "--resize", "squash", *options)
    expected = keras_recipe(
        model,
        cat,
        (96, 96),
        keras.applications.mobilenet_v2.preprocess_input,
        "block_3_expand_relu",
    )
    assert squashed.shape == (1, 24, 24, 144)
    np.testing.assert_allclose(squashed[0], expected, rtol=1e-4, atol=1e-4)
    assert metadata["resize"] == "squash"
    assert metadata["input_size"] == [96, 96]

    # The default fits by centre crop: another picture, so other vectors, and it says so.
    cropped, metadata = extract(capsys, tmp_path, *options)
    assert metadata["resize"] == "crop"
    assert np.abs(cropped[0] - expected).mean() > 0.1 * np.abs(expected).mean()


def test_vgg16_at_300_gives_keras_block5_pool_9x9x512(capsys, tmp_path, cat):
    reference = keras.applications.VGG16(include_top=False, weights=None, input_shape=(300, 300, 3))
    weights = tmp_path / "vgg16_300.weights.h5"
    reference.save_weights(weights)
    vectors, metadata = extract(
        capsys,
        tmp_path,
        *["--model", "VGG16", "--weights", weights, "--input-size", "300,300"],
        *["--layer", "block5_pool", "--pool", "none", "--resize", "squash", cat],
    )
    expected = keras_recipe(reference, cat, (300, 300), keras.applications.vgg16.preprocess_input)
    assert expected.shape == (9, 9, 512)
    assert expected.std() > 0.1 * np.abs(expected).mean() > 0  # not a blank map
    assert vectors.shape == (1, 9, 9, 512)
    np.testing.assert_allclose(vectors[0], expected, rtol=1e-4, atol=1e-3)
    assert metadata["layer"] == "block5_pool" and metadata["input_size"] == [300, 300]


def test_layers_shows_the_model_built_at_the_input_size(capsys, mobilenet_96):
    _, weights = mobilenet_96
    status = main(
        ["layers", "--model", "MobileNetV2", "--weights", str(weights), "--input-size", "96"]
        + ["--json"]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    data = json.loads(out)
    assert data["model"]["input_size"] == [96, 96]
    last = data["layers"][-1]
    assert last["name"] == "out_relu" and last["output_shape"] == [3, 3, 1280]
    assert not any(layer["name"] == "predictions" for layer in data["layers"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--input-size", "20"], "each at least 32 pixels"),
        (["--input-size", "big"], "give one side (300) or height,width (300,400)"),
        (["--resize", "stretch"], "invalid choice: 'stretch'"),
    ],
)
def test_bad_fit_options_are_one_line_usage_errors(capsys, cat, tmp_path, options, message):
    status = main(["extract", *options, "--out", str(tmp_path / "f.npz"), str(cat)])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("convlens extract: error: ") and message in line
    assert "see 'convlens extract --help'" in line


def test_an_input_size_for_a_model_file_says_the_file_keeps_its_own(capsys, cat, tmp_path):
    path = tmp_path / "mine.keras"
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(inputs))
    keras.Model(inputs, outputs).save(path)
    argv = ["extract", "--model", str(path), "--preprocess", "tf", "--input-size", "64"]
    status = main([*argv, "--out", str(tmp_path / "f.npz"), str(cat)])
    _, err = capsys.readouterr()
    assert status == 2
    assert "a model file keeps the input size it was saved with" in err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("text", "size"),
    [("300", (300, 300)), ("300,400", (300, 400)), ("224x160", (224, 160)), (96, (96, 96))],
)
def test_input_sizes_are_read_as_height_and_width(text, size):
    assert parse_input_size(text) == size


def test_a_trained_model_keeps_the_resize_it_was_trained_with(capsys, tmp_path, cat):
    data = make_texture_dataset(tmp_path / "textures", 4, 2)
    out = tmp_path / "textures.keras"
    argv = ["train", str(data.train_dir), "--val-dir", str(data.val_dir), "--out", str(out)]
    status = main([*argv, "--input-size", "64", "--epochs", "1", "--resize", "squash"])
    _, err = capsys.readouterr()
    assert status == 0, err
    loaded = load_model_file(out)
    assert (loaded.resize, loaded.resize_fixed) == ("squash", True)
    assert read_metadata(out)["training"]["resize"] == "squash"

    status = main(["classify", "--model", str(out), "--resize", "crop", "--json", str(cat)])
    printed, err = capsys.readouterr()
    assert status == 0, err
    assert (
        "warning: textures.keras was trained on photos fitted by 'squash' and keeps that; "
        "'crop' does not apply to it"
    ) in err
    assert len(json.loads(printed)[0]["predictions"]) == 3
