"""Worker jobs of the training window: check a dataset, train, save, export.

Each function returns a ``run(ctx)`` for ``Worker.submit``; the heavy core modules are
imported inside it, on the worker thread, so the GUI never imports TensorFlow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from core.progress import CancelToken
from core.train_config import TrainConfig

# Batch reports closer together than this are dropped (the last of an epoch never is):
# the fast path fits hundreds of tiny batches a second.
BATCH_REPORT_INTERVAL_S = 0.1


class EitherToken(CancelToken):
    """Cancelled as soon as any of its tokens is.

    A training job listens to two: the user's Stop, which ends the run and keeps its
    best weights (the job still returns its result), and the job's own token, which the
    worker sets when the window closes (the result is dropped).
    """

    def __init__(self, *tokens: CancelToken) -> None:
        super().__init__()
        self._tokens = tokens

    def cancel(self) -> None:
        for token in self._tokens:
            token.cancel()

    @property
    def cancelled(self) -> bool:
        return any(token.cancelled for token in self._tokens)

    def raise_if_cancelled(self) -> None:
        for token in self._tokens:
            token.raise_if_cancelled()


def scan(folder: str) -> Callable:
    """Decode every image of a dataset folder once: DatasetInfo with the unreadable ones."""

    def run(ctx):
        from core.datasets import scan_dataset

        return scan_dataset(folder, verify=True, progress=ctx.progress, cancel=ctx.cancel)

    return run


def base_layers(config: TrainConfig) -> Callable:
    """The layer tree of the base a configuration would train on (LayerNode dicts)."""

    def run(ctx) -> list[dict]:
        from core.heads import load_base
        from core.layers import layer_tree

        base = load_base(config, progress=ctx.progress, cancel=ctx.cancel)
        return [node.to_dict() for node in layer_tree(base.model)]

    return run


def train(config: TrainConfig, stop: CancelToken, dataset=None) -> Callable:
    """Train; epochs and batches stream as ("epoch", EpochLog) / ("batch", BatchLog)."""

    def run(ctx):
        from core.training import train as train_model

        last = 0.0

        def on_batch(log) -> None:
            nonlocal last
            now = time.monotonic()
            if log.batch == log.batches or now - last >= BATCH_REPORT_INTERVAL_S:
                last = now
                ctx.partial(("batch", log))

        return train_model(
            config,
            progress=ctx.progress,  # raises Cancelled only for the job's token
            cancel=EitherToken(stop, ctx.cancel),
            on_epoch=lambda log: ctx.partial(("epoch", log)),
            on_batch=on_batch,
            dataset=dataset,
        )

    return run


def save(result, path: str) -> Callable:
    def run(ctx) -> Path:
        from core.training import save_model

        ctx.progress(0, 0, f"Saving {Path(path).name}…")
        return save_model(result, path)

    return run


def export_tflite(result, path: str) -> Callable:
    def run(ctx) -> Path:
        from core.tflite_export import export_tflite as export

        ctx.progress(0, 0, f"Converting to TensorFlow Lite ({Path(path).name})…")
        return export(result.loaded.model, path, result.class_names)

    return run
