"""What training feeds a model: batches of decoded images, or the base's cached features.

Images are decoded by core.io.images (EXIF orientation, transparency, the same centre crop
as classification), so a model sees in training what it will see in use. Decoded, fitted
images are kept in memory up to a budget, since decoding a JPEG costs more than a small
model's step. Base features are cached for the session per (base, pooling, image file),
so changing the split, the head or the learning rate computes nothing again. Every forward
pass goes through an Engine and its backend, as classification does.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from pathlib import Path

import keras
import numpy as np

from core.engine.cache import BoundedCache
from core.engine.engine import Engine, make_backend
from core.errors import DatasetError
from core.io.images import DEFAULT_CROP_FRACTION, DEFAULT_RESIZE, load_fitted
from core.models.loaded import LoadedModel
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

IMAGE_CACHE_BYTES = 1 << 30
FEATURE_CACHE_BYTES = 512 << 20


def file_key(path: Path) -> tuple[str, int, int]:
    """Identifies an image file's content well enough for a session cache."""
    stat = os.stat(path)
    return (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)


class ImageCache:
    """Fitted uint8 images by file, least recently used out first, up to a byte budget."""

    def __init__(
        self,
        size: tuple[int, int],
        resize: str = DEFAULT_RESIZE,
        crop_fraction: float = DEFAULT_CROP_FRACTION,
        budget: int = IMAGE_CACHE_BYTES,
    ):
        self.fit = (size, resize, crop_fraction)  # as classification fits them
        self._images = BoundedCache(max_bytes=budget)  # thread-safe: PyDataset workers share it

    def get(self, path: Path) -> np.ndarray:
        return self._images.get_or_make(path, lambda: load_fitted(path, *self.fit))


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


def pixel_engine(model: keras.Model, name: str, fit: tuple, backend: str = "keras") -> Engine:
    """An Engine for a model that takes 0–255 pixels (its preprocessing is built in)."""
    size, resize, crop_fraction = fit
    loaded = LoadedModel(
        model=model,
        name=name,
        source="trained",
        input_size=tuple(size),
        preprocess="none",
        class_names=[],
        weights="trained",
        resize=resize,
        crop_fraction=crop_fraction,
    )
    return Engine(loaded, make_backend(loaded, backend))


def predict_images(
    engine: Engine,
    paths: Sequence[Path],
    cache: ImageCache,
    batch_size: int = 32,
    progress: ProgressCallback = no_progress,
    message: str = "Predicting…",
) -> np.ndarray:
    """The engine's outputs for images, in order; images must be readable."""
    outputs = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        outputs.append(engine.scores(engine.preprocess([cache.get(p) for p in chunk])))
        progress(min(start + batch_size, len(paths)), len(paths), message)
    return np.concatenate(outputs) if outputs else np.zeros((0,), np.float32)


# Base features per (base key, image file) for the session: changing the split, the head or
# the learning rate computes nothing again.
SESSION_FEATURES = BoundedCache(max_bytes=FEATURE_CACHE_BYTES)


def base_features(
    engine: Engine,
    paths: Sequence[Path],
    key: Hashable,
    batch_size: int = 32,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    cache: BoundedCache = SESSION_FEATURES,
) -> np.ndarray:
    """(N, ...) outputs of a feature engine (pixels → the head's input) for images, in order.

    Only images not yet in the cache under key are computed; key must identify the
    feature model (base, weights, input size, pooling, resize).
    """
    keys = [(key, file_key(path)) for path in paths]
    found = {k: cache.get(k) for k in keys}
    missing = [path for path, k in zip(paths, keys, strict=True) if found[k] is None]
    message = "Computing base features…"
    done = len(paths) - len(missing)
    progress(done, len(paths), message)
    for batch in engine.batches(missing, batch_size, cancel=cancel):
        for path, _image, error in batch:
            if error is not None:  # datasets are verified first: the file changed since
                raise DatasetError(f"{path}: {error}. Check the dataset again.")
        vectors = engine.scores(engine.preprocess([image for _, image, _ in batch]))
        for (path, _, _), vector in zip(batch, vectors, strict=True):
            k = (key, file_key(path))
            found[k] = vector
            cache.put(k, vector)
        done += len(batch)
        progress(done, len(paths), message)
        cancel.raise_if_cancelled()
    return np.stack([found[k] for k in keys]).astype(np.float32)
