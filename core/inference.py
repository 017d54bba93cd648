"""Running a loaded model: top-k predictions, layer activations and feature vectors.

Interactive paths call a compiled ``tf.function`` with a batch-agnostic signature instead
of ``model.predict``, which costs several times the forward pass on one image. Sub-models
cut at requested layers are built once per layer set and kept in a small cache.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from core.errors import Cancelled
from core.images import DEFAULT_RESIZE, find_images, fit_to_input, iter_loaded
from core.labels import Label, as_probabilities, top_k
from core.layers import find_layer, layer_tree, symbolic_output
from core.models import LoadedModel
from core.preprocessing import preprocess
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

POOLINGS = ("avg", "max", "flatten", "none")
DEFAULT_BATCH_SIZE = 16
_SUBMODEL_CACHE_SIZE = 8
# Layers that may follow a classifier without changing what it computed.
_HEAD_WRAPPERS = frozenset({"Activation", "Softmax", "Flatten", "Reshape", "Dropout"})


@dataclass
class ImageResult:
    """The outcome for one image of a batch: predictions, or the reason it failed."""

    path: Path
    predictions: list[Label] | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        if self.error is not None:
            return {"path": str(self.path), "error": self.error}
        return {"path": str(self.path), "predictions": [p.to_dict() for p in self.predictions]}


@dataclass
class FeatureSet:
    vectors: np.ndarray
    paths: list[Path]
    failed: list[tuple[Path, str]] = field(default_factory=list)


def _reason(path, error: str | None) -> str | None:
    """An image error without the file name in front: results carry the path already."""
    prefix = f"{path}: "
    return error[len(prefix) :] if error and error.startswith(prefix) else error


def pool_features(maps: np.ndarray, pooling: str) -> np.ndarray:
    """Reduce a (N, ...) layer output to vectors; maps with no spatial axes pass through."""
    if pooling not in POOLINGS:
        raise ValueError(f"Unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}.")
    if maps.ndim <= 2 or pooling == "none":
        return maps
    spatial = tuple(range(1, maps.ndim - 1))
    if pooling == "avg":
        return maps.mean(axis=spatial)
    if pooling == "max":
        return maps.max(axis=spatial)
    return maps.reshape(len(maps), -1)


class Engine:
    """Inference on one LoadedModel. Not thread-safe: one worker thread owns it."""

    def __init__(self, loaded: LoadedModel, resize_mode: str = DEFAULT_RESIZE) -> None:
        self.loaded = loaded
        self.resize_mode = resize_mode
        self._forward = self._compile(loaded.model)
        self._cut_models: OrderedDict[tuple[str, ...], tuple] = OrderedDict()

    @property
    def model(self):
        return self.loaded.model

    def _compile(self, model):
        height, width = self.loaded.input_size
        signature = [tf.TensorSpec([None, height, width, 3], tf.float32)]

        @tf.function(input_signature=signature, reduce_retracing=True)
        def forward(x):
            return model(x, training=False)

        return forward

    # -- inputs ---------------------------------------------------------------------------

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The uint8 picture the network sees: resized and cropped to its input size."""
        return fit_to_input(image, self.loaded.input_size, self.resize_mode)

    def _batch(self, images: Sequence[np.ndarray], prepared: bool = False) -> np.ndarray:
        fitted = images if prepared else [self.prepare(image) for image in images]
        return preprocess(np.stack(fitted), self.loaded.preprocess)

    # -- predictions ----------------------------------------------------------------------

    def scores(self, batch: np.ndarray) -> np.ndarray:
        """Raw model outputs for a preprocessed float32 batch."""
        return np.asarray(self._forward(tf.convert_to_tensor(batch, tf.float32)))

    def classify_arrays(
        self, images: Sequence[np.ndarray], top: int = 5, prepared: bool = False
    ) -> list[list[Label]]:
        probabilities = as_probabilities(self.scores(self._batch(images, prepared)))
        return [
            top_k(p, top, self.loaded.class_names, self.loaded.class_ids) for p in probabilities
        ]

    def _batches(
        self, paths, batch_size, progress, cancel
    ) -> Iterator[list[tuple[Path, np.ndarray | None, str | None]]]:
        """Decoded images in batches; decoding runs ahead in threads while the model works."""
        paths = list(paths)
        pending = []
        done = 0
        for item in iter_loaded(
            paths, self.loaded.input_size, self.resize_mode, cancel=cancel, prefetch=2 * batch_size
        ):
            pending.append(item)
            if len(pending) == batch_size:
                yield pending
                done += len(pending)
                progress(done, len(paths), f"{done}/{len(paths)} images")
                pending = []
        if pending:
            yield pending
            progress(len(paths), len(paths), f"{len(paths)}/{len(paths)} images")

    def classify_paths(
        self,
        paths: Iterable[str | Path],
        top: int = 5,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> Iterator[ImageResult]:
        """Classify images and folders, yielding one result per image in order; bad files fail alone."""
        for batch in self._batches(find_images(paths), batch_size, progress, cancel):
            good = [(path, image) for path, image, error in batch if error is None]
            labels = (
                self.classify_arrays([image for _, image in good], top, prepared=True)
                if good
                else []
            )
            by_path = dict(zip([path for path, _ in good], labels, strict=True))
            for path, _image, error in batch:
                cancel.raise_if_cancelled()
                yield ImageResult(Path(path), by_path.get(path), _reason(path, error))

    # -- layers ---------------------------------------------------------------------------

    def layer_tree(self):
        return layer_tree(self.model)

    def _cut_model(self, layer_paths: tuple[str, ...]):
        """A compiled model from the input to the given layers, cached per layer set."""
        if layer_paths in self._cut_models:
            self._cut_models.move_to_end(layer_paths)
            return self._cut_models[layer_paths]
        outputs = [symbolic_output(self.model, path) for path in layer_paths]
        # .inputs, not .input: a Sequential model only answers the former.
        inputs = self.model.inputs
        cut = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs)
        entry = (cut, self._compile(cut))
        self._cut_models[layer_paths] = entry
        if len(self._cut_models) > _SUBMODEL_CACHE_SIZE:
            self._cut_models.popitem(last=False)
        return entry

    def submodel(self, layer_paths: Sequence[str]):
        """The Keras model from the input to these layers (built once, then reused)."""
        return self._cut_model(tuple(layer_paths))[0]

    def layer_outputs(self, batch: np.ndarray, layer_paths: Sequence[str]) -> dict[str, np.ndarray]:
        """Outputs of several layers for a preprocessed batch, in one forward pass."""
        key = tuple(layer_paths)
        _cut, forward = self._cut_model(key)
        outputs = forward(tf.convert_to_tensor(batch, tf.float32))
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return {path: np.asarray(out) for path, out in zip(key, outputs, strict=True)}

    def activations(
        self, image: np.ndarray, layer_paths: Sequence[str], prepared: bool = False
    ) -> dict[str, np.ndarray]:
        """Each requested layer's output for one image, without the batch axis."""
        outputs = self.layer_outputs(self._batch([image], prepared), layer_paths)
        return {path: out[0] for path, out in outputs.items()}

    def default_feature_layer(self) -> str:
        """The penultimate representation: what feeds the classifier, else the last layer.

        The classifier is a final Dense layer, or (MobileNet, MobileNetV3) a 1×1 Conv2D
        followed by Flatten/Reshape; softmax, reshape and dropout layers around it are skipped.
        """
        layers = [layer for layer in self.model.layers if type(layer).__name__ != "InputLayer"]
        kinds = [type(layer).__name__ for layer in layers]
        i = len(kinds) - 1
        while i > 0 and kinds[i] in _HEAD_WRAPPERS:
            i -= 1
        flattened = any(kind in ("Flatten", "Reshape") for kind in kinds[i + 1 :])
        if i > 0 and (kinds[i] == "Dense" or (kinds[i] == "Conv2D" and flattened)):
            i -= 1
            while i > 0 and kinds[i] == "Dropout":
                i -= 1
            return layers[i].name
        return layers[-1].name

    def default_pooling(self, layer_path: str) -> str:
        shape = symbolic_output(self.model, layer_path).shape
        return "avg" if len(shape) > 2 else "none"

    def feature_metadata(self, layer: str, pooling: str) -> dict:
        """What to store with feature vectors of layer: enough to compute them again."""
        loaded = self.loaded
        return {
            "model": loaded.name,
            "layer": layer,
            "pooling": pooling,
            "preprocessing": loaded.preprocess,
            "input_size": list(loaded.input_size),
            "resize": self.resize_mode,
            "weights": loaded.weights,
        }

    def features(
        self, images: Sequence[np.ndarray], layer: str, pooling: str, prepared: bool = False
    ) -> np.ndarray:
        maps = self.layer_outputs(self._batch(images, prepared), [layer])[layer]
        return pool_features(maps, pooling)

    def extract_features(
        self,
        paths: Iterable[str | Path],
        layer: str | None = None,
        pooling: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> FeatureSet:
        """Feature vectors for every readable image; failures are listed, not fatal."""
        layer = layer or self.default_feature_layer()
        find_layer(self.model, layer)  # a clear KeyError before any work
        pooling = pooling or self.default_pooling(layer)
        vectors, kept, failed = [], [], []
        for batch in self._batches(find_images(paths), batch_size, progress, cancel):
            cancel.raise_if_cancelled()
            good = [(path, image) for path, image, error in batch if error is None]
            failed += [(Path(path), _reason(path, error)) for path, _image, error in batch if error]
            if good:
                vectors.append(
                    self.features([image for _, image in good], layer, pooling, prepared=True)
                )
                kept += [Path(path) for path, _ in good]
        if cancel.cancelled:
            raise Cancelled()
        if not vectors:
            return FeatureSet(np.zeros((0, 0), np.float32), [], failed)
        return FeatureSet(np.concatenate(vectors).astype(np.float32), kept, failed)
