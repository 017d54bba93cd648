"""Transfer-learning operations: check a dataset, show a base's layers, train, save, export.

None of them needs the loaded engine: training builds its own model from the config.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.ops.base import OpContext, Request, operation
from core.progress import CancelToken, EitherToken
from core.training.config import TrainConfig

# Batch reports closer together than this are dropped (the last of an epoch never is):
# the fast path fits hundreds of tiny batches a second.
BATCH_REPORT_INTERVAL_S = 0.1


@dataclass(frozen=True)
class ScanDatasetRequest(Request):
    """Decode every image of a dataset folder once: DatasetInfo with the unreadable ones."""

    folder: str
    needs_engine = False


@dataclass(frozen=True)
class BaseLayersRequest(Request):
    """The layer tree (LayerNode dicts) of the base a configuration would train on."""

    config: TrainConfig
    needs_engine = False


@dataclass(frozen=True, eq=False)
class TrainRequest(Request):
    """Train; each EpochLog and (throttled) BatchLog goes to ctx.partial."""

    config: TrainConfig
    stop: CancelToken  # the user's Stop: ends the run, which still returns its best epoch
    dataset: Any = None  # an already verified DatasetInfo of config.data_dir
    needs_engine = False


@dataclass(frozen=True, eq=False)
class SaveModelRequest(Request):
    result: Any  # core.training.config.TrainResult
    path: str
    needs_engine = False


@dataclass(frozen=True, eq=False)
class ExportTFLiteRequest(Request):
    result: Any  # core.training.config.TrainResult
    path: str
    needs_engine = False


@operation(ScanDatasetRequest)
def scan(engine, request: ScanDatasetRequest, ctx: OpContext):
    from core.training.datasets import scan_dataset

    return scan_dataset(request.folder, verify=True, progress=ctx.progress, cancel=ctx.cancel)


@operation(BaseLayersRequest)
def base_layers(engine, request: BaseLayersRequest, ctx: OpContext) -> list[dict]:
    from core.models.layers import layer_tree
    from core.training.heads import load_base

    base = load_base(request.config, progress=ctx.progress, cancel=ctx.cancel)
    return [node.to_dict() for node in layer_tree(base.model)]


@operation(TrainRequest)
def train(engine, request: TrainRequest, ctx: OpContext):
    from core.training.trainer import train as train_model

    last = 0.0

    def on_batch(log) -> None:
        nonlocal last
        now = time.monotonic()
        if log.batch == log.batches or now - last >= BATCH_REPORT_INTERVAL_S:
            last = now
            ctx.partial(log)

    return train_model(
        request.config,
        progress=ctx.progress,  # raises Cancelled only for the job's own token
        cancel=EitherToken(request.stop, ctx.cancel),
        on_epoch=ctx.partial,
        on_batch=on_batch,
        dataset=request.dataset,
    )


@operation(SaveModelRequest)
def save(engine, request: SaveModelRequest, ctx: OpContext) -> Path:
    from core.training.trainer import save_model

    ctx.progress(0, 0, f"Saving {Path(request.path).name}…")
    return save_model(request.result, request.path)


@operation(ExportTFLiteRequest)
def export_tflite(engine, request: ExportTFLiteRequest, ctx: OpContext) -> Path:
    from core.models.tflite_export import export_tflite as export

    ctx.progress(0, 0, f"Converting to TensorFlow Lite ({Path(request.path).name})…")
    result = request.result
    return export(result.loaded.model, request.path, result.class_names)
