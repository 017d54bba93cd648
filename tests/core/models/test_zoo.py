"""The model registry: names, input sizes, and the exact weights files Keras asks for."""

from __future__ import annotations

import pytest

from core.models.zoo import BUILTIN_NAME, ZOO, get_spec, weights_cached

REQUIRED = [
    "VGG16", "VGG19", "ResNet50", "ResNet50V2", "ResNet101", "InceptionV3", "Xception",
    "MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large", "DenseNet121",
    "EfficientNetB0", "ConvNeXtTiny",
]  # fmt: skip
# Without the top, Keras builds at any size above a minimum and still names the weights
# file of the default size (with a warning for MobileNet*), so build small to stay cheap.
SMALL_NOTOP = {"InceptionV3": 75, "Xception": 71, "MobileNet": 224, "MobileNetV2": 224}


class Requested(Exception):
    """Raised by the recorder once Keras has named its weights file: nothing is loaded."""


def test_zoo_offers_every_required_architecture_and_the_builtin_model():
    for name in REQUIRED:
        spec = get_spec(name)
        assert spec is not None and spec.name == name and spec.keras_name == name
    assert get_spec(BUILTIN_NAME).builtin


@pytest.mark.parametrize("spelling", ["mobilenetv2", "MOBILENETV2", " MobileNetV2 "])
def test_names_are_case_insensitive(spelling):
    assert get_spec(spelling).name == "MobileNetV2"


@pytest.mark.parametrize(
    "alias", ["builtin", "built-in", "efficientnet-lite0", "EfficientNetLite0"]
)
def test_builtin_model_aliases(alias):
    assert get_spec(alias).name == BUILTIN_NAME


def test_unknown_name_is_none():
    assert get_spec("AlexNet") is None


def test_default_input_sizes():
    sizes = {spec.name: spec.input_size for spec in ZOO.values()}
    assert sizes["InceptionV3"] == sizes["Xception"] == (299, 299)
    assert all(
        sizes[name] == (224, 224) for name in REQUIRED if name not in ("InceptionV3", "Xception")
    )


@pytest.mark.parametrize("include_top", [True, False], ids=["top", "notop"])
@pytest.mark.parametrize("name", REQUIRED)
def test_weights_file_names_are_what_keras_requests(monkeypatch, name, include_top):
    import keras
    from keras.src.utils import file_utils

    requests = []

    def record(fname=None, origin=None, file_hash=None, cache_subdir="datasets", **_):
        requests.append((fname, origin, cache_subdir))
        raise Requested

    monkeypatch.setattr(file_utils, "get_file", record)
    spec = get_spec(name)
    options = {}
    if not include_top:
        side = SMALL_NOTOP.get(name, 32)
        options["input_shape"] = (side, side, 3)
    with pytest.raises(Requested):
        getattr(keras.applications, spec.keras_name)(
            include_top=include_top, weights="imagenet", **options
        )
    [(fname, origin, subdir)] = requests
    assert fname == spec.weights_filename(include_top)
    assert origin.endswith("/" + fname)
    assert subdir == "models"


def test_weights_cached_looks_in_the_keras_cache(keras_home):
    spec = get_spec("VGG16")
    assert not weights_cached(spec, True)
    keras_home.mkdir(parents=True)
    (keras_home / spec.weights_file_notop).write_bytes(b"weights")
    assert weights_cached(spec, False)
    assert not weights_cached(spec, True)
    assert weights_cached(get_spec(BUILTIN_NAME))
