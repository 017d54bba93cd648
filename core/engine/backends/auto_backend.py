"""ONNX Runtime where a conversion verifies, TensorFlow everywhere else.

``AutoBackend`` stands in front of a ``KerasBackend``. The first time a forward pass is
needed (the whole model for predictions; a layer set only when asked to with
``use_onnx_for_layers``, as folder extraction does) it converts that pass with tf2onnx
through the cache, runs the first batch through both runtimes and compares: more than
1e-4 apart (probabilities for a classifier), or another top-5 order, and that pass stays on
TensorFlow for good, with the reason in ``notice``. So does a model tf2onnx cannot
convert. Everything else (other layer sets, gradients) is TensorFlow's.

``background=True`` (the window) converts on a thread of its own while TensorFlow answers,
and switches at the next batch after it is ready. ``strict=True`` (``--backend onnx``)
raises ``OnnxUnavailable`` instead of falling back. With a verified model from the cache
and no Keras model yet (``keras_loader``), nothing here imports TensorFlow until a layer
or a gradient is asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np

from core.engine.backends.onnx_backend import OnnxBackend
from core.errors import ConvLensError
from core.models.labels import as_probabilities
from core.progress import ProgressCallback, no_progress

TOLERANCE = 1e-4
_WHOLE = None  # the key of the whole model's forward pass among the layer sets


class OnnxUnavailable(ConvLensError):
    """--backend onnx, but the model cannot run on ONNX Runtime (the reason says why)."""


def difference(
    reference: np.ndarray, candidate: np.ndarray, classifier: bool
) -> tuple[float, str | None]:
    """(max abs difference, why they are not the same answer or None)."""
    if classifier:
        reference, candidate = as_probabilities(reference), as_probabilities(candidate)
        scale = 1.0
    else:  # feature maps: float32 rounding grows with the values' magnitude
        scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
    diff = float(np.abs(reference - candidate).max(initial=0.0))
    if diff > TOLERANCE * scale:
        return (
            diff,
            f"ONNX Runtime's outputs differ from TensorFlow's by {diff:.1e} (over {TOLERANCE:.0e})",
        )
    if classifier:
        k = min(5, reference.shape[-1])
        ours = np.argsort(-reference, axis=-1, kind="stable")[:, :k]
        theirs = np.argsort(-candidate, axis=-1, kind="stable")[:, :k]
        # Swaps between exactly tied classes are not a different answer.
        tied = np.take_along_axis(reference, ours, -1) == np.take_along_axis(reference, theirs, -1)
        if not tied.all():
            return diff, "ONNX Runtime changes the top-5 order"
    return diff, None


class AutoBackend:
    """Runs each forward pass on ONNX Runtime once it is converted and verified."""

    def __init__(
        self,
        loaded,
        keras=None,
        *,
        keras_loader: Callable[[], object] | None = None,
        onnx: OnnxBackend | None = None,
        source_key: str | None = None,
        strict: bool = False,
        background: bool = False,
    ) -> None:
        self.loaded = loaded
        self._keras = keras
        self._keras_loader = keras_loader
        self.source_key = source_key
        self.strict = strict
        self.background = background
        self.notice: str | None = None  # one line: why TensorFlow answers
        self.progress: ProgressCallback = no_progress  # told when a conversion starts
        self._routes: dict = {}  # layer set (None: whole model) → OnnxBackend, or None: TF
        self._pending: dict = {}  # layer set → Future of its cache entry
        self._entries: dict = {}  # layer set → its cache entry, converted, not yet verified
        self._wanted: set = set()
        self._whole_layers: tuple[str, ...] | None = onnx.layer_paths if onnx else None
        self._lock = threading.Lock()
        self._keras_future: Future | None = None
        if onnx is not None:
            self._routes[_WHOLE] = onnx

    # -- what runs ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return "onnx" if self._routes.get(_WHOLE) is not None else "keras"

    @property
    def status(self) -> str:
        """ "onnx", "keras", or "converting" (TensorFlow answers while it converts)."""
        if self.name == "onnx":
            return "onnx"
        converting = _WHOLE in self._pending or _WHOLE in self._entries
        return "converting" if converting and _WHOLE not in self._routes else "keras"

    def load_keras_in_background(self) -> None:
        """Import TensorFlow and load the Keras model on a thread of its own, so that the
        first layer or explanation asked for does not wait for it (the window, after its
        first answer)."""
        with self._lock:
            if self._keras is None and self._keras_future is None and self._keras_loader:
                self._keras_future = _in_thread(self._keras_loader, "convlens-tf-loader")

    def name_for(self, layer_paths: Sequence[str]) -> str:
        """What computed these layers' outputs: "onnx" or "keras"."""
        key = tuple(layer_paths)
        key = _WHOLE if key == self.whole_layers else key
        return "onnx" if self._routes.get(key) is not None else "keras"

    @property
    def keras(self):
        """The KerasBackend, made on first use where the model came from the ONNX cache."""
        with self._lock:
            if self._keras is None:
                future, self._keras_future = self._keras_future, None
                self._keras = future.result() if future else self._keras_loader()
        return self._keras

    @property
    def keras_requested(self) -> bool:
        """Whether the Keras model is loaded or loading."""
        return self._keras is not None or self._keras_future is not None

    @property
    def keras_loaded(self) -> bool:
        """Whether the Keras model is there (loaded, or loaded in the background)."""
        future = self._keras_future
        if self._keras is not None:
            return True
        return future is not None and future.done() and future.exception() is None

    def predict(self, batch: np.ndarray) -> np.ndarray:
        onnx = self._onnx_for(_WHOLE, batch)
        if onnx is not None:
            return onnx.predict(batch)
        return self.keras.predict(batch)

    def use_onnx_for_layers(self, layer_paths: Sequence[str]) -> None:
        """Convert the cut at these layers too (worth it for a folder; not for one image)."""
        self._wanted.add(tuple(layer_paths))

    @property
    def whole_layers(self) -> tuple[str, ...]:
        """What the whole model's conversion outputs: the model's output, then its default
        feature layer (the window classifies and keeps features in one pass)."""
        if self._whole_layers is None:
            from core.engine.engine import Engine

            probe = Engine(self.loaded, self)  # its layer questions only
            layers = (probe.output_layer(), probe.default_feature_layer())
            self._whole_layers = tuple(dict.fromkeys(layers))
        return self._whole_layers

    def layer_outputs(self, batch: np.ndarray, layer_paths: Sequence[str]) -> dict[str, np.ndarray]:
        key = tuple(layer_paths)
        if key == self.whole_layers:
            onnx = self._onnx_for(_WHOLE, batch)
            if onnx is not None:
                return onnx.layer_outputs(batch, key)
        elif key in self._wanted:
            onnx = self._onnx_for(key, batch)
            if onnx is not None:
                return onnx.layer_outputs(batch, key)
        return self.keras.layer_outputs(batch, layer_paths)

    def layer_tree(self) -> list:
        whole = self._routes.get(_WHOLE)
        if self._keras is None and whole is not None:
            return whole.layer_tree()
        return self.keras.layer_tree()

    def gradients(self):
        return self.keras.gradients()

    def submodel(self, layer_paths: Sequence[str]):
        return self.keras.submodel(layer_paths)

    def wait_converted(self, timeout: float | None = None) -> bool:
        """Wait for background conversions; True when none is still running."""
        for future in list(self._pending.values()):
            try:
                future.exception(timeout)
            except TimeoutError:
                return False
        return True

    # -- converting and verifying ---------------------------------------------------------

    def _onnx_for(self, key, batch: np.ndarray) -> OnnxBackend | None:
        if key in self._routes:
            return self._routes[key]
        entry = self._entries.get(key)
        if entry is None:
            entry = self._convert(key)
            if entry is None:
                return None  # converting in the background, or fell back
        return self._verify(key, entry, batch)

    def _layers(self, key) -> tuple[str, ...]:
        return self.whole_layers if key is _WHOLE else key

    def _forward(self, key):
        """The compiled cut at the key's layers, and the model that keys it in the cache (the
        whole model: a cut model's generated name differs from one build to the next)."""
        _cut, forward = self.keras._cut_model(self._layers(key))
        # Traced here, on the thread that owns the model: tf2onnx (maybe on a thread of its
        # own) then reads the traced graph and never calls the Keras model itself.
        forward.get_concrete_function()
        return forward, self.keras.model

    def _convert(self, key):
        from core.engine import onnx_convert

        forward, model = self._forward(key)
        description = None
        if key is _WHOLE:
            from core.engine.onnx_cache import describe_loaded

            description = describe_loaded(self.loaded, self.keras.layer_tree())

        def convert():
            return onnx_convert.converted(forward, model, self._layers(key), description)

        if not self.background:
            what = self.loaded.name if key is _WHOLE else "the layers"
            self.progress(0, 0, f"Converting {what} for ONNX Runtime (once: it is cached)…")
            try:
                self._entries[key] = convert()
            except onnx_convert.ConversionFailed as exc:
                self._fall_back(key, str(exc))
                return None
            return self._entries[key]
        future = self._pending.get(key)
        if future is None:
            self._pending[key] = _in_thread(convert)
            return None
        if not future.done():
            return None
        del self._pending[key]
        try:
            self._entries[key] = future.result()
        except Exception as exc:  # ConversionFailed, or anything the thread met
            self._fall_back(key, str(exc))
            return None
        return self._entries[key]

    def _verify(self, key, entry, batch: np.ndarray) -> OnnxBackend | None:
        from core.engine import onnx_cache

        self._entries.pop(key, None)
        try:
            onnx = OnnxBackend(entry.model_source, self._layers(key), self._stored_tree(key))
        except Exception as exc:  # an entry onnxruntime cannot open: convert again next time
            onnx_cache.remove_entry(entry.key)
            self._fall_back(key, f"ONNX Runtime cannot open the converted model ({exc})")
            return None
        if entry.status != onnx_cache.VERIFIED:
            layers = self._layers(key)
            reference = self.keras.layer_outputs(batch, layers)
            candidate = onnx.layer_outputs(batch, layers)
            # The model's own output compared as probabilities; feature maps by magnitude.
            classifier = [key is _WHOLE and self.loaded.is_classifier] + [False] * len(layers)
            checks = [
                difference(reference[p], candidate[p], c)
                for p, c in zip(layers, classifier, strict=False)
            ]
            diff = max(d for d, _ in checks)
            problem = next((why for _, why in checks if why), None)
            if problem is not None:
                onnx_cache.update_entry(entry, status=onnx_cache.FAILED, reason=problem)
                self._fall_back(key, problem)
                return None
            entry = onnx_cache.update_entry(entry, status=onnx_cache.VERIFIED, max_abs_diff=diff)
        if key is _WHOLE:
            onnx_cache.link_source(self.source_key, entry.key)
        self._routes[key] = onnx
        return onnx

    def _stored_tree(self, key):
        return self.keras.layer_tree() if key is _WHOLE else None

    def _fall_back(self, key, reason: str) -> None:
        self._routes[key] = None
        what = "its layers" if key is not _WHOLE else self.loaded.name
        if self.strict:
            raise OnnxUnavailable(f"{what} cannot run on ONNX Runtime: {reason}. Use --backend tf.")
        self.notice = f"TensorFlow runs {what}: {reason}."


def _in_thread(work: Callable[[], object], name: str = "convlens-onnx-conversion") -> Future:
    """Run work on a thread of its own; its Future holds the result.

    Not a daemon thread: Python waits for it at exit before it runs any atexit handler or
    tears anything down. A daemon thread still inside TensorFlow or ONNX Runtime at exit
    aborted the process ("terminate called…", status 134); one still loading a model with
    h5py after h5py's own atexit clean-up crashed it in HDF5's exit handler (SIGSEGV).
    """
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to whoever reads the future
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=False).start()
    return future
