"""Background work of the training window: list a dataset folder, and the worker jobs that
check a dataset, train, save, export.

Each job function returns a ``run(ctx)`` for ``Worker.submit``; the heavy core modules are
imported inside it, on the worker thread, so the GUI never imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from core.datasets import scan_dataset
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


class FolderLister(QObject):
    """Lists a dataset folder (classes and files, nothing decoded) on a short-lived thread.

    Not on the GUI thread: a folder of thousands of photos on a slow or network disk takes
    seconds to list. Not on the worker: it may be busy training for minutes. Only the
    answer for the latest folder asked for is delivered.
    """

    listed = Signal(str, object, object)  # folder, DatasetInfo or None, error or None
    _answered = Signal(str, object, object)  # from the listing thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest: str | None = None
        self._answered.connect(self._on_answered)  # queued: emitted from another thread

    def list(self, folder: str) -> None:
        self._latest = folder
        thread = threading.Thread(
            target=self._run, args=(folder,), name="convlens-dataset-lister", daemon=True
        )
        thread.start()

    def busy(self) -> bool:
        return self._latest is not None

    def _run(self, folder: str) -> None:
        try:
            info, error = scan_dataset(folder, verify=False), None
        except Exception as exc:  # reported to the user, like a worker job's error
            info, error = None, exc
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self._answered.emit(folder, info, error)

    def _on_answered(self, folder: str, info, error) -> None:
        if folder == self._latest:  # else a newer folder was asked for since
            self._latest = None
            self.listed.emit(folder, info, error)


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
