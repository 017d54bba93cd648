"""Feature vectors of images at one layer, streamed to a file; resumable.

Rows go to disk as batches finish (core.io.run_folder's shards beside the destination),
so memory does not grow with the number of images; at the end the shards are streamed
into the destination's format (core.io.writers) under a temporary name and renamed into
place. An interrupted run keeps its shards when asked (the command line does): the same
request with resume=True skips what they hold and gives the same file as an uninterrupted
run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ExportError
from core.ops.base import OpContext, Request, operation

# A shard is written after the batch that takes it past either limit: a few seconds of
# work lost at most, and little memory.
SHARD_IMAGES = 1024
SHARD_BYTES = 32 << 20
# Converting a cut model costs seconds once (then it is cached); ONNX Runtime saves some
# milliseconds per image, so on a first run it pays from a few hundred images on.
ONNX_PAYS_FROM = 200


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    failed: tuple[tuple[str, str], ...]
    shape: tuple[int, ...] = ()  # of one vector
    resumed: int = 0  # images an earlier, interrupted run had done


@dataclass(frozen=True)
class ExtractRequest(Request):
    paths: tuple[str, ...]  # image files and folders
    destination: Path
    layer: str | None = None  # None: the penultimate layer
    pooling: str | None = None  # None: avg for feature maps
    overwrite: bool = False
    batch_size: int = 16
    resume: bool = False  # continue the destination's unfinished run
    restart: bool = False  # discard the destination's unfinished run
    keep_unfinished: bool = False  # on an error or cancel, keep what is done for resume=True
    checkpoint: int = SHARD_IMAGES  # images per shard on disk: what an interruption may lose


class UnfinishedRunError(ExportError):
    """The destination has an unfinished run and the request neither resumes nor restarts it."""


@operation(ExtractRequest)
def extract(engine, request: ExtractRequest, ctx: OpContext) -> ExportResult:
    """Vectors for every readable image, written atomically; unreadable images are listed in
    the file (except .npy) and each goes to ctx.partial as (path, reason)."""
    from core.io.export import check_destination, write_rows
    from core.io.images import count_images, iter_images
    from core.io.run_folder import RunFolder, ShardRows

    destination = Path(request.destination)
    check_destination(destination, request.overwrite)  # before minutes of work
    layer = engine.resolve_layer(request.layer) if request.layer else None
    layer = layer or engine.default_feature_layer()
    pooling = request.pooling or engine.default_pooling(layer)
    _prefer_onnx(engine, request, layer)
    metadata = _plain(engine.feature_metadata(layer, pooling))
    settings = {
        "sources": [str(Path(p).absolute()) for p in request.paths],
        "batch_size": request.batch_size,
        # The runtime is decided on the first batch and does not change the vectors.
        **{key: value for key, value in metadata.items() if key != "backend"},
    }
    run = RunFolder(destination)
    if run.exists() and not (request.resume or request.restart):
        raise UnfinishedRunError(
            f"An unfinished run of {destination.name} is in {run.folder} ({run.done()} images "
            "done). Continue it with --resume, or start again with --restart."
        )
    resuming = run.exists() and request.resume
    if resuming:
        run.check(settings)  # a mismatch keeps the run for a resume with the right options
    ctx.progress(0, 0, "Listing images…")
    total = count_images(request.paths)
    try:
        if not resuming:
            run.start(settings)
        resumed = run.done()
        listing = run.skip_done(iter_images(request.paths))
        _extract_into(engine, run, listing, layer, pooling, request, ctx, resumed, total)
        metadata = _plain(engine.feature_metadata(layer, pooling))  # with the runtime that ran
        rows = ShardRows(run, metadata)
        if rows.layout.rows == 0:
            run.remove()  # nothing worth resuming
            raise ExportError("None of the images could be read, so nothing was written.")
        ctx.progress(total, total, f"Writing {destination.name}…")
        write_rows(destination, rows, request.overwrite)
        failed = tuple((p, e) for c in rows.chunks(vectors=False) for p, e in _failures(c))
    except BaseException:
        if not request.keep_unfinished:
            run.remove()
        raise
    run.remove()
    return ExportResult(destination, rows.layout.rows, failed, rows.layout.shape, resumed)


def _extract_into(engine, run, listing, layer, pooling, request, ctx, done, total) -> None:
    """Run the model over listing, writing a shard every SHARD_IMAGES images or so."""
    paths: list[str] = []
    errors: list[str] = []
    vectors: list[np.ndarray] = []
    size = 0
    for batch in engine.feature_batches(
        listing, layer, pooling, request.batch_size, cancel=ctx.cancel
    ):
        for path, error in zip(batch.paths, batch.errors, strict=True):
            paths.append(str(path))
            errors.append(error or "")
            if error:
                ctx.partial((str(path), error))
        if len(batch.vectors):
            vectors.append(batch.vectors)
            size += batch.vectors.nbytes
        done += len(batch.paths)
        ctx.progress(done, total, f"{done}/{total} images")
        if len(paths) >= request.checkpoint or size >= SHARD_BYTES:
            run.add(paths, errors, _stack(vectors))
            paths, errors, vectors, size = [], [], [], 0
    if paths:
        run.add(paths, errors, _stack(vectors))
    ctx.cancel.raise_if_cancelled()


def _prefer_onnx(engine, request, layer: str) -> None:
    """Run the layer on ONNX Runtime for a large folder, or when --backend onnx asks."""
    use_onnx = getattr(engine.backend, "use_onnx_for_layers", None)
    if use_onnx is None:
        return
    from core.io.images import count_images

    if engine.backend.strict or count_images(request.paths) >= ONNX_PAYS_FROM:
        use_onnx([layer])


def _stack(vectors: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(vectors) if vectors else np.zeros((0,), np.float32)


def _failures(chunk) -> list[tuple[str, str]]:
    return [(p, e) for p, e in zip(chunk.paths, chunk.errors, strict=True) if e]


def _plain(metadata: dict) -> dict:
    from core.io.export import plain_metadata

    return plain_metadata(metadata)
