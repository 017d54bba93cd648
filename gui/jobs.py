"""The model jobs the window runs on the worker: load, classify, activations, export.

Each public function takes an immutable snapshot of a request and returns the callable
``run(ctx)`` that gui.worker executes on its thread. Heavy core modules (TensorFlow,
Keras) are imported inside those callables only, so importing this module stays cheap and
the GUI thread never loads TensorFlow. Results are small light dataclasses.
"""

from __future__ import annotations

import gc
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import ExportError, ModelLoadError
from core.labels import Label

# Recent activations and network inputs kept on the worker, so going back to a layer or
# image already shown costs nothing. Bounded by bytes: early conv layers are megabytes.
_ACTIVATION_CACHE_BYTES = 256 * 1024 * 1024
_INPUT_CACHE_ITEMS = 16


class PreprocessingNeeded(ModelLoadError):
    """A model file whose input preprocessing cannot be inferred: the user must choose."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)


@dataclass(frozen=True)
class ModelInfo:
    """What the GUI needs to know about the loaded model (never the model itself)."""

    name: str
    source: str  # "builtin", "zoo" or "file"
    path: str | None
    input_size: tuple[int, int]
    resize_mode: str
    preprocess: str
    weights: str
    class_count: int
    is_classifier: bool
    layers: list[dict]  # core.layers.LayerNode.to_dict(), nested models as children
    default_feature_layer: str
    notes: tuple[str, ...] = ()
    versions: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """How settings and the model selector name this model: a zoo name or a file path."""
        return self.path if self.source == "file" and self.path else self.name


@dataclass(frozen=True)
class Classified:
    """One image of a batch: its top-k labels, or why it failed."""

    path: str
    labels: tuple[Label, ...] | None
    error: str | None


@dataclass(frozen=True)
class ActivationResult:
    path: str
    layer: str
    maps: np.ndarray  # (H, W, C) or (D,)
    network_input: np.ndarray  # the uint8 picture the network saw

    @property
    def nbytes(self) -> int:
        return self.maps.nbytes + self.network_input.nbytes


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    failed: tuple[tuple[str, str], ...]


class BoundedCache:
    """A least-recently-used mapping bounded by total bytes and item count."""

    def __init__(self, max_bytes: int, max_items: int = 1_000_000) -> None:
        self.max_bytes, self.max_items = max_bytes, max_items
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0

    def get(self, key):
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key][0]

    def put(self, key, value, nbytes: int) -> None:
        if key in self._items:
            self._bytes -= self._items.pop(key)[1]
        self._items[key] = (value, nbytes)
        self._bytes += nbytes
        while self._items and (self._bytes > self.max_bytes or len(self._items) > self.max_items):
            self._bytes -= self._items.popitem(last=False)[1][1]

    def __len__(self) -> int:
        return len(self._items)


def versions() -> dict[str, str]:
    """Versions of the heavy libraries, for Help → About (worker thread only)."""
    import keras
    import tensorflow as tf

    return {"Keras": keras.__version__, "TensorFlow": tf.__version__}


def load_model(
    name_or_path: str,
    *,
    weights: str = "imagenet",
    preprocess: str | None = None,
    trust: bool = False,
) -> Callable:
    """Load a zoo model or model file and make it the worker's engine."""
    display = (
        Path(name_or_path).name if ("/" in name_or_path or "\\" in name_or_path) else name_or_path
    )

    def run(ctx) -> ModelInfo:
        if "keras" not in sys.modules:
            ctx.progress(0, 0, "Loading TensorFlow…")
        from core import models
        from core.inference import Engine

        ctx.progress(0, 0, f"Loading {display}…")
        try:
            loaded = models.load_model(
                name_or_path,
                weights=weights,
                preprocess=preprocess,
                trust=trust,
                progress=ctx.progress,
                cancel=ctx.cancel,
            )
        except models.PreprocessingUnknownError as exc:
            raise PreprocessingNeeded(name_or_path, str(exc)) from exc
        ctx.progress(0, 0, f"Preparing {loaded.name}…")
        engine = Engine(loaded)
        # Trace the compiled forward pass now, so the first photo is classified quickly.
        height, width = loaded.input_size
        engine.classify_arrays([np.zeros((height, width, 3), np.uint8)], prepared=True)
        info = ModelInfo(
            name=loaded.name,
            source=loaded.source,
            path=str(loaded.path) if loaded.path else None,
            input_size=tuple(loaded.input_size),
            resize_mode=engine.resize_mode,
            preprocess=loaded.preprocess,
            weights=loaded.weights,
            class_count=len(loaded.class_names),
            is_classifier=loaded.is_classifier,
            layers=[node.to_dict() for node in engine.layer_tree()],
            default_feature_layer=engine.default_feature_layer(),
            notes=tuple(loaded.notes),
            versions=versions(),
        )
        ctx.set_engine(engine)
        _settle_memory()
        return info

    return run


def _settle_memory() -> None:
    """Collect the previous model, then exempt the long-lived objects from future collections.

    With TensorFlow loaded a full garbage collection walks some 300,000 objects and holds
    the interpreter for 150 ms or more, on whichever thread happens to trigger it, often
    the GUI thread: a visible freeze. Freezing what exists after a load (TensorFlow, Keras,
    the model) keeps later collections small. Unfreezing first lets the old model go.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def classify(paths: Sequence[str], top: int = 5) -> Callable:
    """Classify image files, streaming a ``Classified`` per image as ctx.partial payloads."""
    paths = tuple(str(p) for p in paths)

    def run(ctx) -> int:
        engine = ctx.engine
        if not engine.loaded.is_classifier:
            # A feature extractor (no top): there is nothing to rank, only layers to look at.
            for path in paths:
                ctx.partial(Classified(path, None, None))
            return len(paths)
        count = 0
        for result in engine.classify_paths(paths, top, batch_size=len(paths), cancel=ctx.cancel):
            error = _reason(result.error, result.path) if result.error else None
            labels = tuple(result.predictions) if result.predictions is not None else None
            ctx.partial(Classified(str(result.path), labels, error))
            count += 1
        return count

    return run


def _reason(error: str, path) -> str:
    """core reports "<path>: <reason>"; the list already shows which file it is."""
    prefix = f"{path}: "
    return error[len(prefix) :] if error.startswith(prefix) else error


def _network_input(ctx, path: str) -> np.ndarray:
    from core.images import load_fitted

    cache = ctx.store.setdefault("inputs", BoundedCache(1 << 40, _INPUT_CACHE_ITEMS))
    fitted = cache.get(path)
    if fitted is None:
        # The same decoding as classification (core.images.iter_loaded), pixel for pixel.
        engine = ctx.engine
        fitted = load_fitted(path, engine.loaded.input_size, engine.resize_mode)
        cache.put(path, fitted, fitted.nbytes)
    return fitted


def activations(path: str, layer: str) -> Callable:
    """One layer's output for one image, cached on the worker per (image, layer)."""

    def run(ctx) -> ActivationResult:
        cache = ctx.store.setdefault("activations", BoundedCache(_ACTIVATION_CACHE_BYTES))
        cached = cache.get((path, layer))
        if cached is not None:
            return cached
        fitted = _network_input(ctx, path)
        ctx.cancel.raise_if_cancelled()
        maps = ctx.engine.activations(fitted, [layer], prepared=True)[layer]
        result = ActivationResult(path, layer, np.asarray(maps, np.float32), fitted)
        cache.put((path, layer), result, result.nbytes)
        return result

    return run


def export_features(
    paths: Sequence[str],
    layer: str,
    pooling: str,
    destination: str | Path,
    overwrite: bool = False,
) -> Callable:
    """Feature vectors of images at one layer, written atomically to destination."""
    paths = tuple(str(p) for p in paths)
    destination = Path(destination)

    def run(ctx) -> ExportResult:
        from core.export import export_format, write_features

        export_format(destination)  # a bad suffix fails before minutes of work
        if destination.exists() and not overwrite:
            raise ExportError(f"{destination} already exists; choose another name.")
        engine = ctx.engine
        features = engine.extract_features(
            paths, layer, pooling, progress=ctx.progress, cancel=ctx.cancel
        )
        if not features.paths:
            raise ExportError("None of the images could be read, so nothing was written.")
        metadata = engine.feature_metadata(layer, pooling)
        ctx.progress(len(paths), len(paths), f"Writing {destination.name}…")
        write_features(destination, features.vectors, features.paths, metadata, overwrite)
        failed = tuple((str(p), _reason(e, p)) for p, e in features.failed)
        return ExportResult(destination, len(features.paths), failed)

    return run
