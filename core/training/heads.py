"""Assembling a transfer-learning classifier: pretrained base, new head, freezing, augmentation.

The classifier is ``image → preprocess → base → head``:

- ``image`` is RGB pixels 0–255 (float32), what ConvLens feeds a model whose preprocessing
  is "none". The base's own preprocessing is built in as a first layer, so the saved
  ``.keras`` and ``.tflite`` files need no outside knowledge: a phone app or a plain
  ``keras.models.load_model`` feeds pixels and gets probabilities.
- ``base`` is the pretrained network without its top, held as ONE nested layer (the
  transfer-learning norm; ``core.models.layers`` shows and reads inside it).
- ``head`` is pooling, an optional Dense+ReLU, dropout and a softmax Dense.

Augmentation layers are not part of the classifier: they wrap it in a separate training
model, so they are active only in training and never end up in a saved file.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from core.errors import ModelLoadError
from core.io.images import DEFAULT_CROP_FRACTION
from core.models.layers import PATH_SEPARATOR, find_layer, is_nested_model, symbolic_output
from core.models.loading import load_model, load_model_file
from core.models.preprocessing import get_preprocessing
from core.models.source import model_source
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress
from core.training.config import TrainConfig, TrainConfigError


@dataclass
class Base:
    """A headless pretrained network and how it wants its input."""

    model: keras.Model
    name: str  # for people: "EfficientNet-Lite0", "my_model.keras cut at block5"
    preprocess: str  # mode of core.models.preprocessing the base was trained with
    input_size: tuple[int, int]
    crop_fraction: float = DEFAULT_CROP_FRACTION  # how its images were cropped in evaluation


@dataclass
class Classifier:
    """The assembled classifier and the parts training needs to reach."""

    model: keras.Model  # image → probabilities; what gets saved
    base: keras.Model  # the nested base layer inside model
    head: list[keras.layers.Layer]  # in order; the first may be the pooling layer
    pooling: str | None  # "avg", "max", "flatten" when head[0] pools, else None
    feature_model: keras.Model  # image → base output after pooling (the fast path's input)


def load_base(
    config: TrainConfig,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> Base:
    """The base a configuration asks for: a zoo/built-in model without its top, or a cut file."""
    size = config.input_shape
    source = model_source(config.model)
    spec = source.spec
    if spec is not None:
        loaded = load_model(
            spec.name,
            include_top=False,
            weights=config.weights,
            input_shape=(*size, 3) if size else None,
            progress=progress,
            cancel=cancel,
        )
        return Base(
            loaded.model, spec.name, loaded.preprocess, loaded.input_size, loaded.crop_fraction
        )
    loaded = load_model_file(source.path, preprocess=config.preprocess)
    if size and size != tuple(loaded.input_size):
        raise TrainConfigError(
            f"{loaded.name} takes {loaded.input_size[0]}×{loaded.input_size[1]} images; "
            "a model file keeps its input size (leave --input-size out)."
        )
    layer = config.cut_layer or default_cut_layer(loaded.model)
    try:
        output = symbolic_output(loaded.model, layer)
    except KeyError as exc:
        raise TrainConfigError(f"{loaded.name} has no layer {layer!r} to cut at.") from exc
    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{Path(config.model).stem}_to_{layer}")
    cut = keras.Model(loaded.model.inputs, output, name=name)
    name = f"{loaded.name} cut at {layer}"
    return Base(cut, name, loaded.preprocess, loaded.input_size, loaded.crop_fraction)


def default_cut_layer(model: keras.Model) -> str:
    """The last layer that still outputs feature maps: everything after it is the old head."""
    for layer in reversed(model.layers):
        shape = symbolic_output(model, layer.name).shape
        if len(shape) == 4:
            return layer.name
    if len(model.layers) < 2:
        raise ModelLoadError(f"{model.name} is too small to cut a base from.")
    return model.layers[-2].name


def preprocessing_layer(mode: str) -> keras.layers.Layer | None:
    """A stock Keras layer doing what core.models.preprocessing does for mode (None for "none")."""
    spec = get_preprocessing(mode)
    if spec.is_identity:
        return None
    if not spec.bgr:
        return keras.layers.Normalization(
            mean=list(spec.mean), variance=[s * s for s in spec.std], name="preprocess"
        )
    # RGB→BGR plus the affine step as one frozen 1×1 convolution: a stock layer, so a plain
    # keras.models.load_model needs no custom objects, and TFLite and ONNX convert it.
    conv = keras.layers.Conv2D(3, 1, name="preprocess_caffe_bgr", trainable=False)
    conv.build((None, None, None, 3))
    std = np.asarray(spec.std, np.float32)
    swap = (np.eye(3, dtype=np.float32)[::-1] / std).reshape(1, 1, 3, 3)
    conv.set_weights([swap, -np.asarray(spec.mean, np.float32) / std])
    return conv


def _pooling_layer(head: str, rank: int) -> keras.layers.Layer | None:
    if rank == 2:
        return None  # the base already gives vectors
    if rank == 4 and head == "avg":
        return keras.layers.GlobalAveragePooling2D(name="head_pool")
    if rank == 4 and head == "max":
        return keras.layers.GlobalMaxPooling2D(name="head_pool")
    return keras.layers.Flatten(name="head_flatten")


def build_classifier(base: Base, config: TrainConfig, num_classes: int) -> Classifier:
    """Put preprocessing, the base and a new head together."""
    height, width = base.input_size
    inputs = keras.Input((height, width, 3), name="image")
    prep = preprocessing_layer(base.preprocess)
    x = prep(inputs) if prep is not None else inputs
    # training=False states the intent; Keras 3 functional models override it during fit
    # (keras-team/keras#20285), so freeze_base() also puts frozen layers in inference mode.
    features = base.model(x, training=False)
    pool = _pooling_layer(config.head, len(features.shape))
    head: list[keras.layers.Layer] = [pool] if pool is not None else []
    if config.dense_units:
        head.append(keras.layers.Dense(config.dense_units, activation="relu", name="head_dense"))
    if config.dropout:
        head.append(keras.layers.Dropout(config.dropout, name="head_dropout"))
    head.append(keras.layers.Dense(num_classes, activation="softmax", name="predictions"))
    x = features
    for layer in head:
        x = layer(x)
    model = keras.Model(inputs, x, name="convlens_classifier")
    pooled = head[0].output if pool is not None else features
    pooling = None
    if pool is not None:
        pooling = "flatten" if isinstance(pool, keras.layers.Flatten) else config.head
    feature_model = keras.Model(inputs, pooled, name="convlens_features")
    return Classifier(model, base.model, head, pooling, feature_model)


def head_model(classifier: Classifier) -> keras.Model:
    """The head alone, from pooled features to probabilities, sharing the classifier's layers."""
    layers = classifier.head[1:] if classifier.pooling else classifier.head
    inputs = keras.Input(classifier.feature_model.output.shape[1:], name="features")
    x = inputs
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x, name="convlens_head")


# -- freezing ----------------------------------------------------------------------------


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if is_nested_model(layer):
            yield from _all_layers(layer)


def _leaves(model, prefix: str = ""):
    """(path, layer) of every layer that is not itself a model, nested ones included."""
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        if is_nested_model(layer):
            yield from _leaves(layer, path + PATH_SEPARATOR)
        else:
            yield path, layer


def trainable_names(base: keras.Model, config: TrainConfig) -> list[str]:
    """The base layers a configuration trains in its first stage.

    Names are top-level layers of the base, or "/"-joined paths into a nested model
    (what the layer tree's checkboxes give); a nested model's name stands for all of it.
    """
    names = [layer.name for layer in base.layers]
    if config.trainable_layers is not None:
        unknown = []
        for path in config.trainable_layers:
            try:
                find_layer(base, path)
            except KeyError:
                unknown.append(path)
        if unknown:
            raise TrainConfigError(f"The base has no layer(s) {', '.join(unknown)}.")
        return list(config.trainable_layers)
    if config.freeze == "all":
        return []
    if config.freeze == "none":
        return names
    last = config.freeze_up_to
    if last not in names:
        raise TrainConfigError(
            f"--freeze up-to:{last}: the base {base.name} has no layer {last!r} "
            "(see 'convlens layers --model …')."
        )
    return names[names.index(last) + 1 :]


def freeze_base(base: keras.Model, train: list[str]) -> None:
    """Train exactly the named layers of base (names or paths, see trainable_names).

    BatchNormalization always stays frozen: a frozen BatchNormalization layer runs in
    inference mode (Keras 3), keeping the pretrained statistics; re-estimating them from
    a small dataset's batches is what usually ruins fine-tuning.
    """
    base.trainable = True  # Keras sets every layer inside too; the leaves are set below
    wanted = set(train)
    for path, layer in _leaves(base):
        inside = any(path == w or path.startswith(w + PATH_SEPARATOR) for w in wanted)
        layer.trainable = inside and not isinstance(layer, keras.layers.BatchNormalization)
    if not wanted:
        base.trainable = False  # so the layer tree shows the whole base as frozen


def top_layer_names(base: keras.Model, count: int) -> list[str]:
    """The last count top-level layers of base (the input layer never counts)."""
    layers = [layer for layer in base.layers if not isinstance(layer, keras.layers.InputLayer)]
    return [layer.name for layer in layers[-count:]] if count else []


@contextlib.contextmanager
def frozen_layers_in_inference(base: keras.Model):
    """Silence dropout in the frozen layers of base while training.

    Keras 3 runs every nested layer in training mode during fit, whatever the base was
    called with. For frozen layers that matters only for dropout (e.g. EfficientNet's
    stochastic depth): the head would learn from noisier features than it will see.
    """
    silenced = []
    for layer in _all_layers(base):
        if "Dropout" in type(layer).__name__ and not layer.trainable and getattr(layer, "rate", 0):
            silenced.append((layer, layer.rate))
            layer.rate = 0.0
    try:
        yield
    finally:
        for layer, rate in silenced:
            layer.rate = rate


# -- augmentation ------------------------------------------------------------------------


def augmentation_layers(names: tuple[str, ...], seed: int) -> list[keras.layers.Layer]:
    """Random image changes, on 0–255 pixels, in a fixed order."""
    makers = {
        "flip": lambda s: keras.layers.RandomFlip("horizontal", seed=s, name="augment_flip"),
        "rotation": lambda s: keras.layers.RandomRotation(
            0.1, fill_mode="reflect", seed=s, name="augment_rotation"
        ),
        "zoom": lambda s: keras.layers.RandomZoom(
            (-0.2, 0.2), fill_mode="reflect", seed=s, name="augment_zoom"
        ),
        "contrast": lambda s: keras.layers.RandomContrast(
            0.2, value_range=(0, 255), seed=s, name="augment_contrast"
        ),
    }
    return [makers[name](seed + i) for i, name in enumerate(makers) if name in names]


def training_model(classifier: keras.Model, augment: tuple[str, ...], seed: int) -> keras.Model:
    """The model fit() trains: the classifier, behind augmentation layers if any are asked for."""
    if not augment:
        return classifier
    inputs = keras.Input(classifier.input_shape[1:], name="image")
    x = inputs
    for layer in augmentation_layers(augment, seed):
        x = layer(x)
    return keras.Model(inputs, classifier(x), name="convlens_training")
