"""The model registry: every architecture ConvLens offers and what each needs.

Each spec carries its own input size and preprocessing (as timm's registry does), so no
caller hard-codes them. Light module: no TensorFlow import.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.paths import keras_models_dir

BUILTIN_NAME = "EfficientNet-Lite0"


@dataclass(frozen=True)
class ModelSpec:
    name: str  # display name, also the CLI name (case-insensitive)
    keras_name: str | None  # constructor in keras.applications; None for the built-in model
    input_size: tuple[int, int]  # (height, width) the ImageNet weights were trained at
    preprocess: str  # a key of core.preprocessing.PREPROCESS_MODES
    weights_file: str | None = None  # Keras' cache file name, with top
    weights_file_notop: str | None = None
    download_mb: int = 0  # size of weights_file, for the model selector
    download_mb_notop: int = 0
    family: str = ""

    @property
    def builtin(self) -> bool:
        return self.keras_name is None

    def weights_filename(self, include_top: bool) -> str | None:
        return self.weights_file if include_top else self.weights_file_notop


def _spec(name, keras_name, size, preprocess, top, notop, mb, mb_notop, family):
    return ModelSpec(name, keras_name, (size, size), preprocess, top, notop, mb, mb_notop, family)


_TF = "_weights_tf_dim_ordering_tf_kernels"

ZOO: dict[str, ModelSpec] = {
    s.name.lower(): s
    for s in [
        ModelSpec(
            BUILTIN_NAME, None, (224, 224), "lite", family="EfficientNet-Lite (built-in, offline)"
        ),
        _spec(
            "VGG16", "VGG16", 224, "caffe", f"vgg16{_TF}.h5", f"vgg16{_TF}_notop.h5", 528, 56, "VGG"
        ),
        _spec(
            "VGG19", "VGG19", 224, "caffe", f"vgg19{_TF}.h5", f"vgg19{_TF}_notop.h5", 549, 77, "VGG"
        ),
        _spec(
            "ResNet50",
            "ResNet50",
            224,
            "caffe",
            f"resnet50{_TF}.h5",
            f"resnet50{_TF}_notop.h5",
            98,
            90,
            "ResNet",
        ),
        _spec(
            "ResNet101",
            "ResNet101",
            224,
            "caffe",
            f"resnet101{_TF}.h5",
            f"resnet101{_TF}_notop.h5",
            171,
            163,
            "ResNet",
        ),
        _spec(
            "ResNet50V2",
            "ResNet50V2",
            224,
            "tf",
            f"resnet50v2{_TF}.h5",
            f"resnet50v2{_TF}_notop.h5",
            98,
            90,
            "ResNet",
        ),
        _spec(
            "InceptionV3",
            "InceptionV3",
            299,
            "tf",
            f"inception_v3{_TF}.h5",
            f"inception_v3{_TF}_notop.h5",
            92,
            84,
            "Inception",
        ),
        _spec(
            "Xception",
            "Xception",
            299,
            "tf",
            f"xception{_TF}.h5",
            f"xception{_TF}_notop.h5",
            88,
            80,
            "Inception",
        ),
        _spec(
            "MobileNet",
            "MobileNet",
            224,
            "tf",
            "mobilenet_1_0_224_tf.h5",
            "mobilenet_1_0_224_tf_no_top.h5",
            16,
            13,
            "MobileNet",
        ),
        _spec(
            "MobileNetV2",
            "MobileNetV2",
            224,
            "tf",
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
            14,
            9,
            "MobileNet",
        ),
        _spec(
            "MobileNetV3Small",
            "MobileNetV3Small",
            224,
            "none",
            "weights_mobilenet_v3_small_224_1.0_float.h5",
            "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
            10,
            4,
            "MobileNet",
        ),
        _spec(
            "MobileNetV3Large",
            "MobileNetV3Large",
            224,
            "none",
            "weights_mobilenet_v3_large_224_1.0_float.h5",
            "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
            22,
            12,
            "MobileNet",
        ),
        _spec(
            "DenseNet121",
            "DenseNet121",
            224,
            "torch",
            f"densenet121{_TF}.h5",
            f"densenet121{_TF}_notop.h5",
            33,
            28,
            "DenseNet",
        ),
        _spec(
            "EfficientNetB0",
            "EfficientNetB0",
            224,
            "none",
            "efficientnetb0.h5",
            "efficientnetb0_notop.h5",
            29,
            16,
            "EfficientNet",
        ),
        _spec(
            "ConvNeXtTiny",
            "ConvNeXtTiny",
            224,
            "none",
            "convnext_tiny.h5",
            "convnext_tiny_notop.h5",
            110,
            106,
            "ConvNeXt",
        ),
    ]
}

# Accepted spellings besides the display names.
_ALIASES = {
    "builtin": BUILTIN_NAME,
    "built-in": BUILTIN_NAME,
    "efficientnet-lite0": BUILTIN_NAME,
    "efficientnetlite0": BUILTIN_NAME,
}


def get_spec(name: str) -> ModelSpec | None:
    """The spec for a zoo name, case-insensitive; None if it is not a zoo name."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key).lower()
    return ZOO.get(key)


def weights_cached(spec: ModelSpec, include_top: bool = True) -> bool:
    """Whether the ImageNet weights for this spec are already on disk (built-in: always)."""
    if spec.builtin:
        return True
    filename = spec.weights_filename(include_top)
    return bool(filename) and (keras_models_dir() / filename).is_file()
