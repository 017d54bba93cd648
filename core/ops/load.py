"""Load a model and make it the engine: a zoo name, the built-in model or a model file."""

from __future__ import annotations

import contextlib
import gc
import sys
from dataclasses import dataclass, field

import numpy as np

from core.errors import ModelLoadError
from core.models.options import apply_resize, build_options
from core.models.source import display_name
from core.ops.base import OpContext, Request, operation


class PreprocessingNeeded(ModelLoadError):
    """A model file whose input preprocessing cannot be inferred: the user must choose."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)


@dataclass(frozen=True)
class ModelInfo:
    """What a caller needs to know about the loaded model (never the model itself)."""

    name: str
    source: str  # "builtin", "zoo" or "file"
    path: str | None
    input_size: tuple[int, int]
    resize_mode: str
    resize_fixed: bool  # a trained model keeps the policy it was trained with
    preprocess: str
    weights: str
    class_count: int
    is_classifier: bool
    layers: list[dict]  # core.models.layers.LayerNode.to_dict(), nested models as children
    default_feature_layer: str
    notes: tuple[str, ...] = ()
    versions: dict = field(default_factory=dict)
    backend: str = "keras"
    explain_layer: str | None = None  # Grad-CAM's default: the last conv layer, nested or not
    map_layers: tuple[str, ...] = ()  # every layer with maps (H×W×C) a CAM can be taken at
    class_names: tuple[str, ...] = ()  # of a classifier's outputs, in output order

    @property
    def key(self) -> str:
        """How settings and the model selector name this model: a zoo name or a file path."""
        return self.path if self.source == "file" and self.path else self.name

    @property
    def random_weights(self) -> bool:
        return self.weights == "random"


@dataclass(frozen=True)
class LoadModelRequest(Request):
    key: str  # a zoo name or a model file path
    weights: str = "imagenet"
    preprocess: str | None = None
    trust: bool = False
    input_size: tuple[int, int] | None = None  # zoo models: built headless at this size
    resize: str | None = None  # how photos are fitted; None: the model's own (crop)
    # "keras" (TensorFlow only) or "auto": ONNX Runtime once converted (in the background)
    # and verified, and straight from the ONNX cache, without TensorFlow, when it is there.
    backend: str = "keras"

    needs_engine = False

    @property
    def display_name(self) -> str:
        return display_name(self.key)


def versions() -> dict[str, str]:
    """Versions of the heavy libraries, for Help → About (read without importing them)."""
    from importlib import metadata

    found = {}
    for name, package in (("Keras", "keras"), ("TensorFlow", "tensorflow")):
        for dist in (package, f"{package}-cpu"):
            try:
                found[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    with contextlib.suppress(metadata.PackageNotFoundError):
        found["ONNX Runtime"] = metadata.version("onnxruntime")
    return found


def model_info(engine) -> ModelInfo:
    from core.explain.targets import default_layer, map_layers

    loaded = engine.loaded
    return ModelInfo(
        name=loaded.name,
        source=loaded.source,
        path=str(loaded.path) if loaded.path else None,
        input_size=tuple(loaded.input_size),
        resize_mode=engine.resize_mode,
        resize_fixed=loaded.resize_fixed,
        preprocess=loaded.preprocess,
        weights=loaded.weights,
        class_count=len(loaded.class_names),
        is_classifier=loaded.is_classifier,
        layers=[node.to_dict() for node in engine.layer_tree()],
        default_feature_layer=engine.default_feature_layer(),
        notes=tuple(loaded.notes),
        versions=versions(),
        backend=getattr(engine.backend, "status", engine.backend.name),
        explain_layer=default_layer(engine.layer_tree()),
        map_layers=tuple(map_layers(engine.layer_tree())),
        class_names=tuple(loaded.class_names) if loaded.is_classifier else (),
    )


@operation(LoadModelRequest)
def load_model(engine, request: LoadModelRequest, ctx: OpContext) -> ModelInfo:
    """Load, warm up, and install the new engine; the old one stays if anything fails."""
    # A model built at another input size is not the one the cache knows by its name.
    if request.backend == "auto" and request.input_size is None:
        from core.engine.fast_start import cached_engine

        ctx.progress(0, 0, f"Loading {request.display_name}…")
        cached = cached_engine(request.key, request.weights, request.preprocess, request.trust)
        if cached is not None:  # answers on ONNX Runtime; TensorFlow comes when needed
            apply_resize(cached.loaded, request.resize)
            cached.resize_mode = cached.loaded.resize  # the engine was made before
            return _install(cached, ctx)
    if "keras" not in sys.modules:
        from core.engine.tf_runtime import import_tensorflow_quietly

        ctx.progress(0, 0, "Loading TensorFlow…")
        import_tensorflow_quietly()  # without long stalls of the window's thread
    ctx.progress(0, 0, f"Loading {request.display_name}…")
    loaded = load_with_context(
        request.key, request.weights, request.preprocess, request.trust, ctx, request.input_size
    )
    apply_resize(loaded, request.resize)  # ModelInfo.resize_fixed tells the window why not
    return install_loaded(loaded, ctx, _backend(loaded, request))


def install_loaded(loaded, ctx: OpContext, backend=None) -> ModelInfo:
    """Make an Engine of a LoadedModel (on TensorFlow unless a backend is given), warm it up
    and install it; the old engine stays if the work is cancelled first."""
    from core.engine.engine import Engine

    ctx.progress(0, 0, f"Preparing {loaded.name}…")
    new = Engine(loaded, backend)
    # Trace the compiled forward pass now, so the first photo is classified quickly.
    height, width = loaded.input_size
    new.classify_arrays([np.zeros((height, width, 3), np.uint8)], prepared=True)
    return _install(new, ctx)


def _backend(loaded, request: LoadModelRequest):
    """TensorFlow; with "auto", converted for ONNX Runtime on a thread of its own meanwhile."""
    from core.engine.engine import make_backend

    if request.backend != "auto":
        return make_backend(loaded, "keras")
    from core.engine.onnx_cache import source_key

    # Registered for answering without TensorFlow only when the name alone says which model
    # it is: not for a zoo model built headless at another input size.
    skey = None
    if request.input_size is None:
        skey = source_key(request.key, request.weights, request.preprocess)
    return make_backend(loaded, "auto", source_key=skey, background=True)


def _install(new, ctx: OpContext) -> ModelInfo:
    info = model_info(new)
    ctx.cancel.raise_if_cancelled()  # a cancelled load must not replace the model kept
    if ctx.install_engine is not None:
        ctx.install_engine(new)
    return info


def load_with_context(
    key: str,
    weights: str,
    preprocess: str | None,
    trust: bool,
    ctx: OpContext,
    input_size: tuple[int, int] | None = None,
):
    """core.models.loading.load_model with the op's progress and cancel; PreprocessingNeeded
    when the user must say how the model's inputs are scaled. An input size applies to zoo
    models (built headless); a model file keeps its own, with a note saying so."""
    from core.models import loading

    options, note = {}, None
    if input_size is not None:
        try:
            options = build_options(key, input_size)
            note = (
                f"{display_name(key)} built at {input_size[0]}×{input_size[1]} without its "
                "ImageNet classifier (Model → Input size)."
            )
        except ValueError:
            note = f"{display_name(key)} keeps the input size it was saved with."
    try:
        loaded = loading.load_model(
            key,
            weights=weights,
            preprocess=preprocess,
            trust=trust,
            progress=ctx.progress,
            cancel=ctx.cancel,
            **options,
        )
    except loading.PreprocessingUnknownError as exc:
        raise PreprocessingNeeded(key, str(exc)) from exc
    if note:
        loaded.notes.append(note)
    return loaded


def settle_memory() -> None:
    """Collect the previous model, then exempt the long-lived objects from future collections.

    With TensorFlow loaded a full garbage collection walks some 300,000 objects and holds
    the interpreter for 150 ms or more, on whichever thread happens to trigger it, often
    the GUI thread: a visible freeze. Freezing what exists after a load (TensorFlow, Keras,
    the model) keeps later collections small. Unfreezing first lets the old model go.

    Call it on the thread that owns the Qt objects (the window calls it on the GUI thread once
    a model is loaded): a collection destroys whatever garbage it finds, Qt widgets of closed
    windows included, and a widget destroyed on the worker thread deadlocked against the GUI
    thread (seen in the test suite: QMenu::~QMenu waiting for the GIL inside gc.collect).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
