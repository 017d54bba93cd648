"""The model registry: every architecture ConvLens offers and everything known about it.

One ``ModelSpec`` per architecture, in the spirit of timm's ``pretrained_cfg``: input size,
preprocessing (with its constants), the crop fraction used in evaluation, the ImageNet
weights files and their sizes, how outputs are decoded, and the name Keras gives the graph
(to recognise the architecture as the base inside a user's model). Callers ask the spec;
nothing else hard-codes these. Light module: no TensorFlow import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.io.images import DEFAULT_CROP_FRACTION
from core.io.paths import keras_models_dir
from core.models.preprocessing import Preprocessing, get_preprocessing

BUILTIN_NAME = "EfficientNet-Lite0"


@dataclass(frozen=True)
class ModelSpec:
    name: str  # display name, also the CLI name (case-insensitive)
    keras_name: str | None  # constructor in keras.applications; None for the built-in model
    input_size: tuple[int, int]  # (height, width) the ImageNet weights were trained at
    preprocess: str  # a mode of core.models.preprocessing
    weights_file: str | None = None  # Keras' cache file name, with top
    weights_file_notop: str | None = None
    download_mb: int = 0  # size of weights_file, for the model selector
    download_mb_notop: int = 0
    family: str = ""
    graph_pattern: str = ""  # regex matching the name Keras gives the model's graph
    crop_fraction: float = DEFAULT_CROP_FRACTION
    decode: str = "imagenet"  # what the 1000 outputs mean

    @property
    def builtin(self) -> bool:
        return self.keras_name is None

    @property
    def preprocessing(self) -> Preprocessing:
        return get_preprocessing(self.preprocess)

    def weights_filename(self, include_top: bool) -> str | None:
        return self.weights_file if include_top else self.weights_file_notop

    def matches_graph(self, graph_name: str) -> bool:
        return bool(self.graph_pattern) and bool(
            re.match(self.graph_pattern, graph_name, re.IGNORECASE)
        )


_TF = "_weights_tf_dim_ordering_tf_kernels"


def _keras(name, size, preprocess, files, mb, family, graph) -> ModelSpec:
    """A keras.applications architecture; files: (with top, without top) in Keras' cache."""
    top, notop = files
    return ModelSpec(name, name, (size, size), preprocess, top, notop, *mb, family, graph)


def _tf_files(stem: str) -> tuple[str, str]:
    return f"{stem}{_TF}.h5", f"{stem}{_TF}_notop.h5"


_MOBILENET_V2 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224"
_SPECS = [
    ModelSpec(
        BUILTIN_NAME,
        None,
        (224, 224),
        "lite",
        family="EfficientNet-Lite (built-in, offline)",
        graph_pattern=r"^efficientnet_lite",
    ),
    _keras("VGG16", 224, "caffe", _tf_files("vgg16"), (528, 56), "VGG", r"^vgg16"),
    _keras("VGG19", 224, "caffe", _tf_files("vgg19"), (549, 77), "VGG", r"^vgg19"),
    _keras("ResNet50", 224, "caffe", _tf_files("resnet50"), (98, 90), "ResNet", r"^resnet50$"),
    _keras("ResNet101", 224, "caffe", _tf_files("resnet101"), (171, 163), "ResNet", r"^resnet101$"),
    _keras("ResNet50V2", 224, "tf", _tf_files("resnet50v2"), (98, 90), "ResNet", r"^resnet\d+v2"),
    _keras(
        "InceptionV3", 299, "tf", _tf_files("inception_v3"), (92, 84), "Inception", r"^inception_v3"
    ),
    _keras(
        "InceptionResNetV2",
        299,
        "tf",
        _tf_files("inception_resnet_v2"),
        (215, 209),
        "Inception",
        r"^inception_resnet",
    ),
    _keras("Xception", 299, "tf", _tf_files("xception"), (88, 80), "Inception", r"^xception"),
    _keras(
        "MobileNet",
        224,
        "tf",
        ("mobilenet_1_0_224_tf.h5", "mobilenet_1_0_224_tf_no_top.h5"),
        (16, 13),
        "MobileNet",
        r"^mobilenet_",
    ),
    _keras(
        "MobileNetV2",
        224,
        "tf",
        (f"{_MOBILENET_V2}.h5", f"{_MOBILENET_V2}_no_top.h5"),
        (14, 9),
        "MobileNet",
        r"^mobilenetv2_",
    ),
    _keras(
        "MobileNetV3Small",
        224,
        "none",
        (
            "weights_mobilenet_v3_small_224_1.0_float.h5",
            "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
        ),
        (10, 4),
        "MobileNet",
        r"^mobilenetv3",
    ),
    _keras(
        "MobileNetV3Large",
        224,
        "none",
        (
            "weights_mobilenet_v3_large_224_1.0_float.h5",
            "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
        ),
        (22, 12),
        "MobileNet",
        r"^mobilenetv3",
    ),
    _keras(
        "DenseNet121", 224, "torch", _tf_files("densenet121"), (33, 28), "DenseNet", r"^densenet"
    ),
    _keras(
        "EfficientNetB0",
        224,
        "none",
        ("efficientnetb0.h5", "efficientnetb0_notop.h5"),
        (29, 16),
        "EfficientNet",
        r"^efficientnet(?!_lite)",
    ),
    _keras(
        "ConvNeXtTiny",
        224,
        "none",
        ("convnext_tiny.h5", "convnext_tiny_notop.h5"),
        (110, 106),
        "ConvNeXt",
        r"^convnext",
    ),
]
ZOO: dict[str, ModelSpec] = {spec.name.lower(): spec for spec in _SPECS}

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


def spec_for_graph(graph_name: str) -> ModelSpec | None:
    """The architecture whose Keras graph is called graph_name (a base inside a user model)."""
    return next((spec for spec in _SPECS if spec.matches_graph(graph_name)), None)


def weights_cached(spec: ModelSpec, include_top: bool = True) -> bool:
    """Whether the ImageNet weights for this spec are already on disk (built-in: always)."""
    if spec.builtin:
        return True
    filename = spec.weights_filename(include_top)
    return bool(filename) and (keras_models_dir() / filename).is_file()
