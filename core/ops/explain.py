"""Explain one image's prediction: a heatmap of what made the model say a class.

The result holds the map over the network's input, the method's raw map, the fitted input
and an overlay on the photo (the map placed where the network's input lies in it). Maps are
cached per (image, class, method, layer, options) in the op's store, which lives as long as
the engine: clicking back to a class already shown costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from core.engine.cache import BoundedCache
from core.errors import ExplainError
from core.explain import DEFAULT_METHOD, ExplainOptions, Target, get_method
from core.explain.base import not_spatial_message
from core.explain.overlay import DEFAULT_OPACITY, compose
from core.explain.targets import default_layer, has_maps
from core.models.labels import Label, as_probabilities, top_k
from core.models.layers import all_nodes
from core.ops.activations import network_input
from core.ops.base import OpContext, Request, operation

EXPLANATION_CACHE_BYTES = 64 * 1024 * 1024
PHOTO_CACHE_ITEMS = 8
OVERLAY_SIZE = 1024  # the longer side of the photo the overlay is drawn on


@dataclass(frozen=True)
class ExplainRequest(Request):
    path: str
    class_index: int | None = None  # the output unit to explain; None: the top class
    method: str = DEFAULT_METHOD
    layer: str | None = None  # CAM methods: None takes the last conv layer
    options: ExplainOptions = field(default_factory=ExplainOptions)
    opacity: float = DEFAULT_OPACITY
    overlay_size: int = OVERLAY_SIZE


@dataclass(frozen=True)
class ExplainResult:
    path: str
    method: str  # core.explain method name
    layer: str | None  # the CAM's layer (full path); None for pixel methods
    label: Label  # the class explained, with its probability
    score: str  # what was explained: "logit", "output" or "probability"
    heatmap: np.ndarray  # (H, W) float32 in [0, 1] over the network input
    raw: np.ndarray  # the method's own map, before upsampling and scaling
    network_input: np.ndarray  # the uint8 picture the network saw
    photo: np.ndarray  # the photo (at most overlay_size on its longer side)
    box: tuple[float, float, float, float]  # where the network input lies in photo
    overlay: np.ndarray  # uint8 RGB: the heatmap over photo at opacity
    opacity: float
    options: ExplainOptions = field(default_factory=ExplainOptions)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.heatmap, self.raw, self.network_input, self.overlay))

    def with_opacity(self, opacity: float) -> ExplainResult:
        """The same explanation drawn at another opacity."""
        if opacity == self.opacity:
            return self
        overlay = compose(self.photo, self.heatmap, self.box, opacity)
        return replace(self, overlay=overlay, opacity=opacity)


def explain_layer(engine, method, layer: str | None) -> str | None:
    """The layer a CAM method explains: the one asked for (by path or unique name), else the
    model's last conv layer; None for methods without a layer."""
    if not method.needs_layer:
        return None
    tree = engine.layer_tree()
    if layer is None:
        path = default_layer(tree)
        if path is None:
            raise ExplainError(
                f"{engine.loaded.name} has no layer with maps (height × width × channels) for "
                f"{method.title}. Use Integrated Gradients, SmoothGrad or occlusion instead."
            )
        return path
    try:
        path = engine.resolve_layer(layer)
    except KeyError as exc:
        raise ExplainError(exc.args[0]) from exc
    node = next(node for node in all_nodes(tree) if node.path == path)
    if not has_maps(node):
        raise ExplainError(not_spatial_message(path, node.output_shape or (), method.title))
    return path


def _probabilities(engine, path: str, batch: np.ndarray, store: dict) -> np.ndarray:
    cache = store.setdefault("explain_probabilities", BoundedCache(max_items=PHOTO_CACHE_ITEMS))
    return cache.get_or_make(path, lambda: as_probabilities(engine.scores(batch))[0])


def _photo(path: str, size: int, fit, store: dict):
    """The photo at most size pixels on its longer side, and the network input's box in it."""
    from core.io.images import fit_box, load_thumbnail

    def make():
        photo = load_thumbnail(path, size)
        box = fit_box((photo.shape[1], photo.shape[0]), *fit)
        return photo, box

    cache = store.setdefault("explain_photos", BoundedCache(max_items=PHOTO_CACHE_ITEMS))
    return cache.get_or_make((path, size, fit), make)


def explain_label(engine, probabilities: np.ndarray, class_index: int) -> Label:
    """The class at class_index as a Label with its probability."""
    loaded = engine.loaded
    count = len(probabilities)
    if not 0 <= class_index < count:
        raise ExplainError(f"{loaded.name} has {count} classes; there is no class {class_index}.")
    ranked = top_k(probabilities, count, loaded.class_names, loaded.class_ids)
    return next(label for label in ranked if label.index == class_index)


@operation(ExplainRequest)
def explain(engine, request: ExplainRequest, ctx: OpContext) -> ExplainResult:
    if not engine.loaded.is_classifier:
        raise ExplainError(
            f"{engine.loaded.name} has no classifier head: there is no class to explain."
        )
    method = get_method(request.method)
    request.options.check()
    layer = explain_layer(engine, method, request.layer)
    fitted = network_input(engine, request.path, ctx.store)
    batch = engine.preprocess([fitted])
    probabilities = _probabilities(engine, request.path, batch, ctx.store)
    class_index = (
        int(np.argmax(probabilities)) if request.class_index is None else request.class_index
    )
    label = explain_label(engine, probabilities, class_index)
    cache = ctx.store.setdefault("explanations", BoundedCache(EXPLANATION_CACHE_BYTES))
    key = (request.path, class_index, method.name, layer, request.options, request.overlay_size)
    cached = cache.get(key)
    if cached is not None:
        return cached.with_opacity(request.opacity)
    ctx.cancel.raise_if_cancelled()
    units = int(np.prod(engine.loaded.output_shape[1:]))
    target = Target.for_class(class_index, units)
    attribution = method.explain(
        engine, batch, target, layer, request.options, ctx.progress, ctx.cancel
    )
    photo, box = _photo(request.path, request.overlay_size, engine.fit, ctx.store)
    result = ExplainResult(
        path=request.path,
        method=method.name,
        layer=layer,
        label=label,
        score=attribution.score,
        heatmap=attribution.heatmap,
        raw=attribution.raw,
        network_input=fitted,
        photo=photo,
        box=box,
        overlay=compose(photo, attribution.heatmap, box, request.opacity),
        opacity=request.opacity,
        options=request.options,
    )
    cache.put(key, result)
    return result
