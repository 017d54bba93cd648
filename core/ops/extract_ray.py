"""Feature extraction on Ray Data: this machine's cores, or a cluster, unchanged.

The image paths become a dataset; ``map_batches`` runs them through a pool of actors that
each load the model once and hold one Engine (decoding included, as the local run does);
Ray writes the rows as Parquet shards into a folder, which pandas, DuckDB, Spark and
``read_features`` read as one table. The rows and the vectors are the local engine's. Ray
is an optional extra (``pip install 'convlens[ray]'``), imported only when this runs.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ExportError
from core.ops.base import OpContext, Request, operation
from core.ops.extract import ExportResult


@dataclass(frozen=True)
class RayExtractRequest(Request):
    paths: tuple[str, ...]  # image files and folders, readable by every Ray worker
    destination: Path  # a folder of Parquet shards, ending in .parquet
    model: str  # how each worker loads the model: a zoo name or a model file...
    weights: str = "imagenet"
    preprocess: str | None = None
    trust: bool = False
    layer: str | None = None
    pooling: str | None = None
    overwrite: bool = False
    batch_size: int = 16
    address: str | None = None  # an existing cluster; None starts Ray on this machine
    workers: int | None = None  # actors (model copies); None: one per CPU Ray has


class FeatureActor:
    """One model per Ray actor, loaded once: paths in, Parquet rows out."""

    def __init__(self, request: RayExtractRequest, layer: str, pooling: str, metadata: dict):
        from core.engine.engine import Engine
        from core.io.writers import Layout, parquet_schema
        from core.models.loading import load_model

        self.engine = Engine(
            load_model(
                request.model,
                weights=request.weights,
                preprocess=request.preprocess,
                trust=request.trust,
            )
        )
        self.layer, self.pooling, self.batch_size = layer, pooling, request.batch_size
        shape = tuple(metadata["shape"])
        self.schema = parquet_schema(Layout(0, 0, shape, 1, metadata))

    def __call__(self, batch: dict[str, np.ndarray]):
        from core.io.writers import parquet_table

        paths, errors, vectors = [], [], []
        for part in self.engine.feature_batches(
            [str(p) for p in batch["path"]], self.layer, self.pooling, self.batch_size
        ):
            paths += [str(p) for p in part.paths]
            errors += [e or "" for e in part.errors]
            if len(part.vectors):
                vectors.append(part.vectors)
        width = self.schema.field("vector").type.list_size
        stacked = np.concatenate(vectors) if vectors else np.zeros((0, width), np.float32)
        return parquet_table(self.schema, paths, errors, stacked)


@operation(RayExtractRequest)
def extract_on_ray(engine, request: RayExtractRequest, ctx: OpContext) -> ExportResult:
    """Vectors of every readable image as Parquet shards written by Ray (atomically: a
    temporary folder beside the destination, renamed at the end)."""
    try:
        import ray
    except ImportError:
        raise ExportError(
            "Ray is not installed. Install it with: pip install 'convlens[ray]'"
        ) from None
    from core.io.export import plain_metadata
    from core.io.images import iter_images

    destination = Path(request.destination)
    if destination.exists() and not request.overwrite:
        raise ExportError(f"{destination} already exists. Choose another name or --overwrite.")
    layer = engine.resolve_layer(request.layer) if request.layer else None
    layer = layer or engine.default_feature_layer()
    pooling = request.pooling or engine.default_pooling(layer)
    # The shape of one vector, from a blank picture (also checks the layer works).
    blank = np.zeros((*engine.loaded.input_size, 3), np.uint8)
    shape = engine.features([blank], layer, pooling, prepared=True).shape[1:]
    metadata = {**plain_metadata(engine.feature_metadata(layer, pooling)), "shape": list(shape)}

    ctx.progress(0, 0, "Listing images…")
    # Absolute paths: workers need not share the driver's working directory.
    items = [{"path": str(Path(path).absolute())} for path in iter_images(request.paths)]
    ctx.cancel.raise_if_cancelled()
    started = not ray.is_initialized()
    if started:
        ctx.progress(0, 0, f"Starting Ray{' at ' + request.address if request.address else ''}…")
        ray.init(address=request.address, include_dashboard=False, log_to_driver=False)
    partial = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.part")
    try:
        workers = request.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        ctx.progress(0, len(items), f"Extracting on Ray with {workers} workers…")
        dataset = ray.data.from_items(items).map_batches(
            FeatureActor,
            fn_constructor_args=(request, layer, pooling, metadata),
            compute=ray.data.ActorPoolStrategy(size=workers),
            batch_size=max(request.batch_size, 64),
            batch_format="numpy",
            num_cpus=1,
        )
        dataset.write_parquet(str(partial))
        count, failed = _summary(partial)
        if count == 0:
            raise ExportError("None of the images could be read, so nothing was written.")
        if destination.exists():  # overwrite: the old result goes only once the new is whole
            shutil.rmtree(destination) if destination.is_dir() else destination.unlink()
        os.replace(partial, destination)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
        if started:
            ray.shutdown()
    ctx.progress(len(items), len(items), f"{len(items)}/{len(items)} images")
    return ExportResult(destination, count, failed, tuple(shape))


def _summary(folder: Path) -> tuple[int, tuple[tuple[str, str], ...]]:
    """(vectors written, failures) of a folder of shards, reading its path and error columns."""
    import pyarrow.parquet as pq

    table = pq.read_table(folder, columns=["path", "error"]).to_pylist()
    failed = tuple((row["path"], row["error"]) for row in table if row["error"])
    return len(table) - len(failed), failed
