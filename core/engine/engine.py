"""Running a loaded model: top-k predictions, layer activations and feature vectors.

The Engine is what stays the same whatever runs the network: decoding and fitting images
(as the model's spec says), preprocessing, batching, top-k, pooling and the layer tree's
questions. The forward passes themselves belong to a backend (core.engine.backends). This
module imports no TensorFlow: the Keras backend is imported only when it is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.engine.pooling import POOLINGS, default_pooling, pool_features
from core.errors import Cancelled
from core.io.images import find_images, fit_to_input, iter_loaded
from core.models.labels import Label, as_probabilities, top_k
from core.models.layers import all_nodes, resolve_layer
from core.models.loaded import LoadedModel
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

__all__ = ["POOLINGS", "Engine", "FeatureBatch", "FeatureSet", "ImageResult", "pool_features"]

DEFAULT_BATCH_SIZE = 16
# Layers that may follow a classifier without changing what it computed.
_HEAD_WRAPPERS = frozenset({"Activation", "Softmax", "Flatten", "Reshape", "Dropout"})


@dataclass
class ImageResult:
    """The outcome for one image of a batch: predictions, or the reason it failed."""

    path: Path
    predictions: list[Label] | None = None
    error: str | None = None
    vector: np.ndarray | None = None  # pooled features, when asked for with the labels

    def to_dict(self) -> dict:
        if self.error is not None:
            return {"path": str(self.path), "error": self.error}
        return {"path": str(self.path), "predictions": [p.to_dict() for p in self.predictions]}


@dataclass
class FeatureBatch:
    """Consecutive images: all their paths and errors (None when read), the read ones' vectors."""

    paths: list[Path]
    errors: list[str | None]
    vectors: np.ndarray  # one row per image whose error is None, in order


@dataclass
class FeatureSet:
    vectors: np.ndarray
    paths: list[Path]
    failed: list[tuple[Path, str]] = field(default_factory=list)


def reason(path, error: str | None) -> str | None:
    """An image error without the file name in front: results carry the path already."""
    prefix = f"{path}: "
    return error[len(prefix) :] if error and error.startswith(prefix) else error


BACKEND_CHOICES = ("auto", "onnx", "tf")  # as the command line and the window offer them


def make_backend(loaded: LoadedModel, name: str = "keras", **options):
    """The backend called name for a loaded model: "keras" (or "tf"), or "auto" / "onnx"
    (ONNX Runtime once converted and verified; options: core.engine.backends.auto_backend)."""
    if name not in ("keras", "tf", "auto", "onnx"):
        raise ValueError(f"Unknown backend {name!r}.")
    from core.engine.backends.keras_backend import KerasBackend

    keras = KerasBackend(loaded.model)
    if name in ("keras", "tf"):
        return keras
    from core.engine.backends.auto_backend import AutoBackend

    return AutoBackend(loaded, keras, strict=name == "onnx", **options)


class Engine:
    """Inference on one LoadedModel. Not thread-safe: one worker thread owns it."""

    def __init__(self, loaded: LoadedModel, backend=None, resize_mode: str | None = None) -> None:
        self.loaded = loaded
        self.backend = backend if backend is not None else make_backend(loaded)
        self.resize_mode = resize_mode or loaded.resize
        self._tree = None

    @property
    def model(self):
        return self.loaded.model

    # -- inputs ---------------------------------------------------------------------------

    @property
    def fit(self) -> tuple[tuple[int, int], str, float]:
        """(input size, resize mode, crop fraction): how images become network inputs."""
        return self.loaded.input_size, self.resize_mode, self.loaded.crop_fraction

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The uint8 picture the network sees: resized and cropped to its input size."""
        return fit_to_input(image, *self.fit)

    def preprocess(self, fitted: Sequence[np.ndarray]) -> np.ndarray:
        """Fitted uint8 images as the float32 batch the network takes."""
        return self.loaded.preprocessing.apply(np.stack(fitted))

    def _batch(self, images: Sequence[np.ndarray], prepared: bool = False) -> np.ndarray:
        return self.preprocess(images if prepared else [self.prepare(image) for image in images])

    def batches(
        self,
        paths: Iterable[str | Path],
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> Iterator[list[tuple[Path, np.ndarray | None, str | None]]]:
        """Fitted images in batches of (path, image or None, error or None); decoding runs
        ahead in threads while the model works. paths may be a generator (then progress
        has no total)."""
        total = len(paths) if isinstance(paths, Sized) else 0
        pending = []
        done = 0
        size, mode, crop = self.fit
        loaded = iter_loaded(
            paths, size, mode, cancel=cancel, prefetch=2 * batch_size, crop_fraction=crop
        )
        for path, image, error in loaded:
            pending.append((Path(path), image, reason(path, error)))
            if len(pending) == batch_size:
                yield pending
                done += len(pending)
                progress(done, total, f"{done}/{total} images")
                pending = []
        if pending:
            yield pending
            progress(total, total, f"{total}/{total} images")

    # -- predictions ----------------------------------------------------------------------

    def scores(self, batch: np.ndarray) -> np.ndarray:
        """Raw model outputs for a preprocessed float32 batch."""
        return self.backend.predict(batch)

    def classify_arrays(
        self, images: Sequence[np.ndarray], top: int = 5, prepared: bool = False
    ) -> list[list[Label]]:
        probabilities = as_probabilities(self.scores(self._batch(images, prepared)))
        return [
            top_k(p, top, self.loaded.class_names, self.loaded.class_ids) for p in probabilities
        ]

    def classify_paths(
        self,
        paths: Iterable[str | Path],
        top: int = 5,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken = NEVER_CANCELLED,
        features: tuple[str, str] | None = None,
    ) -> Iterator[ImageResult]:
        """Classify images and folders, yielding one result per image in order; bad files fail alone.

        features: (layer, pooling) whose vectors come with the labels, from the same pass.
        """
        for batch in self.batches(find_images(paths), batch_size, progress, cancel):
            good = [(path, image) for path, image, error in batch if error is None]
            images = [image for _, image in good]
            vectors = [None] * len(good)
            if not good:
                labels = []
            elif features is None:
                labels = self.classify_arrays(images, top, prepared=True)
            else:
                labels, vectors = self.classify_with_features(images, *features, top)
            found = {
                path: (label, vector)
                for (path, _), label, vector in zip(good, labels, vectors, strict=True)
            }
            for path, _image, error in batch:
                cancel.raise_if_cancelled()
                label, vector = found.get(path, (None, None))
                yield ImageResult(path, label, error, vector)

    def classify_with_features(
        self, images: Sequence[np.ndarray], layer: str, pooling: str, top: int = 5
    ) -> tuple[list[list[Label]], np.ndarray]:
        """Top-k labels and pooled features of fitted images in one forward pass."""
        output = self.output_layer()
        outputs = self.layer_outputs(self._batch(images, prepared=True), [output, layer])
        probabilities = as_probabilities(outputs[output])
        labels = [
            top_k(p, top, self.loaded.class_names, self.loaded.class_ids) for p in probabilities
        ]
        return labels, pool_features(outputs[layer], pooling).astype(np.float32)

    def output_layer(self) -> str:
        """The path of the layer whose output is the model's (the last top-level layer)."""
        return [node for node in self.layer_tree() if node.class_name != "InputLayer"][-1].path

    # -- layers ---------------------------------------------------------------------------

    def layer_tree(self) -> list:
        if self._tree is None:
            self._tree = self.backend.layer_tree()
        return self._tree

    def resolve_layer(self, name: str) -> str:
        """The full path of a layer given by path or, when unique, by its bare name."""
        return resolve_layer(self.layer_tree(), name)

    def layer_outputs(self, batch: np.ndarray, layer_paths: Sequence[str]) -> dict[str, np.ndarray]:
        """Outputs of several layers for a preprocessed batch, in one forward pass."""
        return self.backend.layer_outputs(batch, layer_paths)

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
        layers = [node for node in self.layer_tree() if node.class_name != "InputLayer"]
        kinds = [node.class_name for node in layers]
        i = len(kinds) - 1
        while i > 0 and kinds[i] in _HEAD_WRAPPERS:
            i -= 1
        flattened = any(kind in ("Flatten", "Reshape") for kind in kinds[i + 1 :])
        if i > 0 and (kinds[i] == "Dense" or (kinds[i] == "Conv2D" and flattened)):
            i -= 1
            while i > 0 and kinds[i] == "Dropout":
                i -= 1
            return layers[i].path
        return layers[-1].path

    def default_pooling(self, layer_path: str) -> str:
        """avg for a layer with spatial axes, none for vectors; KeyError for an unknown layer."""
        path = self.resolve_layer(layer_path)
        node = next(node for node in all_nodes(self.layer_tree()) if node.path == path)
        return default_pooling(node.output_shape)

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
            "crop_fraction": loaded.crop_fraction,
            "weights": loaded.weights,
            "backend": self.backend_for([layer]),
        }

    def backend_for(self, layer_paths: Sequence[str]) -> str:
        """The runtime that computes these layers: "keras" or "onnx"."""
        name_for = getattr(self.backend, "name_for", None)
        return name_for(layer_paths) if name_for else self.backend.name

    def features(
        self, images: Sequence[np.ndarray], layer: str, pooling: str, prepared: bool = False
    ) -> np.ndarray:
        maps = self.layer_outputs(self._batch(images, prepared), [layer])[layer]
        return pool_features(maps, pooling)

    def feature_batches(
        self,
        paths: Iterable[str | Path],
        layer: str,
        pooling: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> Iterator[FeatureBatch]:
        """Feature vectors of image files (not folders), batch by batch as they are computed,
        so nothing accumulates however many images there are."""
        for batch in self.batches(paths, batch_size, cancel=cancel):
            cancel.raise_if_cancelled()
            good = [image for _path, image, error in batch if error is None]
            vectors = (
                self.features(good, layer, pooling, prepared=True).astype(np.float32, copy=False)
                if good
                else np.zeros((0,), np.float32)
            )
            yield FeatureBatch(
                [path for path, _, _ in batch], [error for _, _, error in batch], vectors
            )

    def extract_features(
        self,
        paths: Iterable[str | Path],
        layer: str | None = None,
        pooling: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> FeatureSet:
        """Feature vectors for every readable image, in memory; failures are listed, not
        fatal. (The extract operation streams feature_batches to disk instead.)"""
        layer = self.resolve_layer(layer) if layer else self.default_feature_layer()
        pooling = pooling or self.default_pooling(layer)
        images = find_images(paths)
        vectors, kept, failed = [], [], []
        for batch in self.feature_batches(images, layer, pooling, batch_size, cancel):
            failed += [(p, e) for p, e in zip(batch.paths, batch.errors, strict=True) if e]
            kept += [p for p, e in zip(batch.paths, batch.errors, strict=True) if not e]
            if len(batch.vectors):
                vectors.append(batch.vectors)
            progress(
                len(kept) + len(failed),
                len(images),
                f"{len(kept) + len(failed)}/{len(images)} images",
            )
        if cancel.cancelled:
            raise Cancelled()
        if not vectors:
            return FeatureSet(np.zeros((0, 0), np.float32), [], failed)
        return FeatureSet(np.concatenate(vectors).astype(np.float32), kept, failed)
