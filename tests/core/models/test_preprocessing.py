"""Each preprocessing mode feeds a network exactly what its Keras family's preprocess_input does."""

from __future__ import annotations

import numpy as np
import pytest

from core.models.preprocessing import PREPROCESS_MODES, preprocess
from core.models.zoo import ZOO


@pytest.fixture(scope="module")
def batch():
    return np.random.default_rng(1).integers(0, 256, (2, 8, 6, 3), dtype=np.uint8)


# The keras.applications module holding each zoo architecture's preprocess_input.
KERAS_MODULES = {
    "VGG16": "vgg16",
    "VGG19": "vgg19",
    "ResNet50": "resnet50",
    "ResNet101": "resnet",
    "ResNet50V2": "resnet_v2",
    "InceptionV3": "inception_v3",
    "Xception": "xception",
    "MobileNet": "mobilenet",
    "MobileNetV2": "mobilenet_v2",
    "MobileNetV3Small": "mobilenet_v3",
    "MobileNetV3Large": "mobilenet_v3",
    "DenseNet121": "densenet",
    "EfficientNetB0": "efficientnet",
    "ConvNeXtTiny": "convnext",
}


def test_every_mode_but_lite_is_used_by_a_keras_family():
    used = {ZOO[name.lower()].preprocess for name in KERAS_MODULES}
    assert used == set(PREPROCESS_MODES) - {"lite"}


@pytest.mark.parametrize("name", sorted(KERAS_MODULES))
def test_spec_mode_equals_the_keras_family_preprocess_input(batch, name):
    import keras

    module = getattr(keras.applications, KERAS_MODULES[name])
    expected = module.preprocess_input(batch.astype(np.float32).copy())
    got = preprocess(batch, ZOO[name.lower()].preprocess)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


def test_lite_mode_centres_pixels_as_efficientnet_lite_was_trained():
    x = np.array([[[[0, 127, 255]]]], dtype=np.uint8)
    np.testing.assert_allclose(preprocess(x, "lite"), [[[[-127 / 128, 0.0, 1.0]]]])


def test_caffe_mode_swaps_to_bgr():
    red = np.zeros((1, 1, 1, 3), np.uint8)
    red[..., 0] = 255
    out = preprocess(red, "caffe")[0, 0, 0]
    assert out[2] == pytest.approx(255 - 123.68)  # red ends up last, minus the red mean


def test_preprocessing_does_not_change_the_callers_pixels(batch):
    before = batch.copy()
    for mode in PREPROCESS_MODES:
        preprocess(batch, mode)
    np.testing.assert_array_equal(batch, before)


def test_unknown_mode_is_refused_with_the_choices(batch):
    with pytest.raises(ValueError, match="caffe"):
        preprocess(batch, "imagenet")
