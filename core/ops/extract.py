"""Feature vectors of images at one layer, written to a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import ExportError
from core.ops.base import OpContext, Request, operation

# Converting a cut model costs seconds once (then it is cached); ONNX Runtime saves some
# milliseconds per image, so on a first run it pays from a few hundred images on.
ONNX_PAYS_FROM = 200


def _prefer_onnx(engine, request, layer: str) -> None:
    """Run the layer on ONNX Runtime for a large folder, or when --backend onnx asks."""
    use_onnx = getattr(engine.backend, "use_onnx_for_layers", None)
    if use_onnx is None:
        return
    from core.io.images import find_images

    if engine.backend.strict or len(find_images(request.paths)) >= ONNX_PAYS_FROM:
        use_onnx([layer])


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    failed: tuple[tuple[str, str], ...]
    shape: tuple[int, ...] = ()  # of one vector


@dataclass(frozen=True)
class ExtractRequest(Request):
    paths: tuple[str, ...]  # image files and folders
    destination: Path
    layer: str | None = None  # None: the penultimate layer
    pooling: str | None = None  # None: avg for feature maps
    overwrite: bool = False
    batch_size: int = 16


@operation(ExtractRequest)
def extract(engine, request: ExtractRequest, ctx: OpContext) -> ExportResult:
    """Vectors for every readable image, written atomically; unreadable images are listed,
    and each goes to ctx.partial as (path, reason), also when none could be read."""
    from core.io.export import check_destination, write_features

    destination = Path(request.destination)
    check_destination(destination, request.overwrite)  # before minutes of work
    layer = engine.resolve_layer(request.layer) if request.layer else None
    layer = layer or engine.default_feature_layer()
    pooling = request.pooling or engine.default_pooling(layer)
    _prefer_onnx(engine, request, layer)
    features = engine.extract_features(
        request.paths,
        layer,
        pooling,
        batch_size=request.batch_size,
        progress=ctx.progress,
        cancel=ctx.cancel,
    )
    failed = tuple((str(path), error) for path, error in features.failed)
    for item in failed:  # before the error below, which alone would not say why
        ctx.partial(item)
    if not features.paths:
        raise ExportError("None of the images could be read, so nothing was written.")
    ctx.progress(len(features.paths), len(features.paths), f"Writing {destination.name}…")
    write_features(
        destination,
        features.vectors,
        features.paths,
        engine.feature_metadata(layer, pooling),
        request.overwrite,
    )
    return ExportResult(destination, len(features.paths), failed, features.vectors.shape[1:])
