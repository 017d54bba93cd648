"""Classify image files: top-k labels per image, streamed as they are known."""

from __future__ import annotations

from dataclasses import dataclass

from core.models.labels import Label
from core.ops.base import OpContext, Request, operation


@dataclass(frozen=True)
class Classified:
    """One image: its top-k labels, or why it failed (labels None and error None: a model
    without a classifier head, which has nothing to rank)."""

    path: str
    labels: tuple[Label, ...] | None
    error: str | None
    backend: str = "keras"  # what answered: "keras", "onnx", or "converting" (TF meanwhile)
    notice: str | None = None  # why TensorFlow answers for a model meant for ONNX Runtime


@dataclass(frozen=True)
class ClassifyRequest(Request):
    paths: tuple[str, ...]
    top: int = 5
    batch_size: int | None = None  # None: the whole request is one batch
    # Keep the default layer's pooled features (same forward pass) for the feature map.
    keep_features: bool = False


@operation(ClassifyRequest)
def classify(engine, request: ClassifyRequest, ctx: OpContext) -> int:
    """Each image's ``Classified`` goes to ctx.partial in order; returns how many there were."""
    if not engine.loaded.is_classifier:
        for path in request.paths:
            ctx.partial(Classified(path, None, None))
        return len(request.paths)
    count = 0
    features = cache = None
    # The same forward pass on every backend: ONNX Runtime's conversion of the whole model
    # outputs the default feature layer too (AutoBackend.whole_layers), and the first batch
    # through it verifies both outputs against TensorFlow's.
    if request.keep_features:
        from core.explore.cache import feature_cache

        layer = engine.default_feature_layer()
        features, cache = (layer, engine.default_pooling(layer)), feature_cache(ctx.store)
    results = engine.classify_paths(
        request.paths,
        request.top,
        batch_size=request.batch_size or max(1, len(request.paths)),
        progress=ctx.progress,
        cancel=ctx.cancel,
        features=features,
    )
    backend = engine.backend
    for result in results:
        if result.vector is not None:
            cache.put(engine.loaded.name, *features, result.path, result.vector)
        labels = tuple(result.predictions) if result.predictions is not None else None
        status = getattr(backend, "status", backend.name)
        notice = getattr(backend, "notice", None)
        ctx.partial(Classified(str(result.path), labels, result.error, status, notice))
        count += 1
    return count
