"""What training feeds a model: batches of decoded images, or the base's cached features.

Images are decoded by core.images (EXIF orientation, transparency, the same centre crop
as classification), so a model sees in training what it will see in use. Decoded, fitted
images are kept in memory up to a budget, since decoding a JPEG costs more than a small
model's step. Base features are cached for the session per (base, pooling, image file),
so changing the split, the head or the learning rate computes nothing again.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

import keras
import numpy as np

from core.errors import DatasetError
from core.images import DEFAULT_RESIZE, iter_loaded, load_fitted
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

IMAGE_CACHE_BYTES = 1 << 30
FEATURE_CACHE_BYTES = 512 << 20


def file_key(path: Path) -> tuple[str, int, int]:
    """Identifies an image file's content well enough for a session cache."""
    stat = os.stat(path)
    return (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)


class ImageCache:
    """Fitted uint8 images by file, up to a byte budget (later images are decoded each time)."""

    def __init__(
        self, size: tuple[int, int], resize: str = DEFAULT_RESIZE, budget: int = IMAGE_CACHE_BYTES
    ):
        self.size = size
        self.resize = resize
        self._budget = budget
        self._images: dict[Path, np.ndarray] = {}
        self._used = 0
        self._lock = threading.Lock()  # PyDataset workers fill it from several threads

    def get(self, path: Path) -> np.ndarray:
        image = self._images.get(path)
        if image is None:
            image = load_fitted(path, self.size, self.resize)  # as classification reads it
            with self._lock:
                if self._used + image.nbytes <= self._budget and path not in self._images:
                    self._images[path] = image
                    self._used += image.nbytes
        return image


class ImageBatches(keras.utils.PyDataset):
    """(pixels 0–255 float32, labels) batches, reshuffled each epoch with a seeded generator."""

    def __init__(
        self,
        paths: Sequence[Path],
        labels: np.ndarray,
        batch_size: int,
        cache: ImageCache,
        shuffle: bool,
        seed: int = 0,
        workers: int = 2,
    ):
        # Threads, not processes: decoding releases the GIL and the cache stays shared.
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=4)
        self.paths = list(paths)
        self.labels = np.asarray(labels, np.int64)
        self.batch_size = batch_size
        self.cache = cache
        self._shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self._order = self._new_order()

    def _new_order(self) -> np.ndarray:
        n = len(self.paths)
        return self._rng.permutation(n) if self._shuffle else np.arange(n)

    def __len__(self) -> int:
        return -(-len(self.paths) // self.batch_size)

    def __getitem__(self, index: int):
        chosen = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        images = np.stack([self.cache.get(self.paths[i]) for i in chosen]).astype(np.float32)
        return images, self.labels[chosen]

    def on_epoch_end(self) -> None:
        self._order = self._new_order()


def compiled_forward(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """model(x, training=False) on a batch, through Keras' compiled predict function.

    predict_on_batch compiles once per model and skips predict()'s per-call machinery.
    """
    return lambda batch: np.asarray(model.predict_on_batch(np.asarray(batch, np.float32)))


def predict_images(
    model: keras.Model,
    paths: Sequence[Path],
    cache: ImageCache,
    batch_size: int = 32,
    progress: ProgressCallback = no_progress,
    message: str = "Predicting…",
) -> np.ndarray:
    """The model's outputs for images, in order; images must be readable."""
    forward = compiled_forward(model)
    outputs = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        outputs.append(forward(np.stack([cache.get(p) for p in chunk]).astype(np.float32)))
        progress(min(start + batch_size, len(paths)), len(paths), message)
    return np.concatenate(outputs) if outputs else np.zeros((0,), np.float32)


class FeatureCache:
    """Base features per (base key), then per image file; kept for the session.

    Bounded by bytes: the least recently used base's features go first.
    """

    def __init__(self, budget: int = FEATURE_CACHE_BYTES):
        self._budget = budget
        self._store: OrderedDict[Hashable, dict[tuple, np.ndarray]] = OrderedDict()

    def table(self, key: Hashable) -> dict[tuple, np.ndarray]:
        """The (file key → features) table of one base, most recently used from now on."""
        if key in self._store:
            self._store.move_to_end(key)
        else:
            self._store[key] = {}
        return self._store[key]

    def trim(self) -> None:
        """Drop whole tables, least recently used first, until the rest fits the budget."""
        while len(self._store) > 1 and self.nbytes > self._budget:
            self._store.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for table in self._store.values() for v in table.values())

    def clear(self) -> None:
        self._store.clear()


SESSION_FEATURES = FeatureCache()


def base_features(
    feature_model: keras.Model,
    paths: Sequence[Path],
    key: Hashable,
    batch_size: int = 32,
    resize: str = DEFAULT_RESIZE,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    cache: FeatureCache = SESSION_FEATURES,
) -> np.ndarray:
    """(N, ...) outputs of feature_model (pixels → the head's input) for images, in order.

    Only images not yet in the cache under key are computed; key must identify the
    feature model (base, weights, input size, pooling).
    """
    table = cache.table(key)
    keys = [file_key(path) for path in paths]
    missing = [i for i, k in enumerate(keys) if k not in table]
    message = "Computing base features…"
    progress(len(paths) - len(missing), len(paths), message)
    if missing:
        forward = compiled_forward(feature_model)
        size = tuple(feature_model.input_shape[1:3])
        todo = [paths[i] for i in missing]
        done = len(paths) - len(missing)
        batch, batch_keys = [], []
        loaded = iter_loaded(todo, size, resize, cancel=cancel, prefetch=2 * batch_size)
        for (_path, image, error), index in zip(loaded, missing, strict=True):
            if error is not None:  # datasets are verified first: the file changed since
                raise DatasetError(f"{error}. Check the dataset again.")
            batch.append(image)
            batch_keys.append(keys[index])
            if len(batch) == batch_size or index == missing[-1]:
                vectors = forward(np.stack(batch).astype(np.float32))
                table.update(zip(batch_keys, vectors, strict=True))
                done += len(batch)
                progress(done, len(paths), message)
                batch, batch_keys = [], []
                cancel.raise_if_cancelled()
    features = np.stack([table[k] for k in keys]).astype(np.float32)
    cache.trim()
    return features
