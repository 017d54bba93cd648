"""The training window's state and its requests to the worker, as Session is the main window's.

No widgets here. The window forwards the user's actions (a dataset folder, Start, Stop,
Save, Export) to a TrainingController; it turns them into operation requests
(core.ops.training) on the shared worker and reports back through signals the window shows.
"""

from __future__ import annotations

import contextlib
import threading
from functools import partial

from PySide6.QtCore import QObject, Signal

from core.ops.training import (
    BaseLayersRequest,
    ExportTFLiteRequest,
    SaveModelRequest,
    ScanDatasetRequest,
    TrainRequest,
)
from core.progress import CancelToken
from core.training.config import BatchLog, EpochLog, TrainConfig
from core.training.datasets import DatasetInfo, scan_dataset
from gui.app.worker import JobHandle, Worker
from gui.widgets.error_dialog import user_message

TITLES = {
    "scan": "Cannot use this dataset",
    "layers": "Cannot build the base",
    "train": "Training failed",
    "save": "Could not save the model",
    "tflite": "TensorFlow Lite export failed",
}


class TrainingController(QObject):
    dataset_shown = Signal(str, object, str)  # folder, DatasetInfo or None, status text
    dataset_listed = Signal(str)  # a folder's classes are shown; its check has begun
    status = Signal(str)  # one line about what is happening
    progressed = Signal(int, int)  # done, total (0, 0: busy without a measure)
    epoch_logged = Signal(object)  # EpochLog
    batch_logged = Signal(object)  # BatchLog
    trained = Signal(object)  # TrainResult, or None when a new run starts
    base_layers_ready = Signal(list)  # LayerNode dicts of the chosen base
    saved = Signal(str)  # a .keras file just written
    exported = Signal(str)  # a .tflite file just written
    failed = Signal(str, str, str)  # title, message, details
    busy_changed = Signal()  # what the buttons allow may have changed

    def __init__(self, worker: Worker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.dataset: DatasetInfo | None = None  # verified, or only listed until the scan ends
        self.result = None  # core.training.config.TrainResult of the last run
        self.saved_path: str | None = None
        self.saved_result = None  # the result saved_path holds
        self._jobs: dict[int, str] = {}  # job id -> what it does
        self._stop: CancelToken | None = None
        self._layers_key: tuple | None = None  # the base whose layers were asked for
        self.lister = FolderLister(self)
        self.lister.listed.connect(self._on_lister_listed)

    # -- state -------------------------------------------------------------------------------

    def is_listing(self) -> bool:
        return self.lister.busy()

    def is_training(self) -> bool:
        return "train" in self._jobs.values()

    def has_jobs(self) -> bool:
        return bool(self._jobs)

    def unsaved(self) -> bool:
        """A trained model that exists only in memory."""
        return self.result is not None and self.saved_result is not self.result

    # -- dataset -----------------------------------------------------------------------------

    def set_dataset(self, folder: str) -> None:
        """List a dataset folder off the GUI thread, then check its images on the worker."""
        folder = folder.strip()
        if not folder or (self.dataset and str(self.dataset.root) == folder):
            return
        self.dataset = None
        self.dataset_shown.emit(folder, None, "Scanning…")
        self.lister.list(folder)

    def _on_lister_listed(self, folder: str, info: DatasetInfo | None, error) -> None:
        if error is not None:
            self.dataset_shown.emit(folder, None, user_message(error))
            return
        self.dataset = info
        self.dataset_shown.emit(folder, info, "Checking the images…")
        self._run("scan", ScanDatasetRequest(folder), self._on_scanned, kind="train-scan")
        self.dataset_listed.emit(folder)

    def _on_scanned(self, info: DatasetInfo) -> None:
        if self.dataset is not None and str(self.dataset.root) == str(info.root):
            self.dataset = info
            self.dataset_shown.emit(str(info.root), info, "")
            self.status.emit("Ready to train.")

    # -- base layers -------------------------------------------------------------------------

    def request_base_layers(self, config: TrainConfig) -> None:
        """The layers of the base config trains on, for choosing what to train."""
        key = (config.model, config.weights, config.input_size)
        if key == self._layers_key:
            return
        self._layers_key = key
        self._run("layers", BaseLayersRequest(config), self._on_base_layers, kind="train-layers")

    def _on_base_layers(self, layers: list) -> None:
        self.base_layers_ready.emit(layers)
        self.status.emit("Tick the base layers to train (BatchNorm stays frozen).")

    # -- training ----------------------------------------------------------------------------

    def start(self, config: TrainConfig) -> None:
        self.result = None
        self.trained.emit(None)
        self._stop = CancelToken()
        dataset = self.dataset if self.dataset is not None and self.dataset.verified else None
        self._run("train", TrainRequest(config, self._stop, dataset), self._on_trained)
        self.status.emit("Starting…")
        self.progressed.emit(0, 0)

    def stop(self) -> None:
        """Stop after the current batch; the run still returns its best epoch."""
        if self._stop is not None and self.is_training():
            self._stop.cancel()
            self.status.emit("Stopping after this batch…")

    def _on_train_partial(self, log) -> None:
        if isinstance(log, EpochLog):
            self.epoch_logged.emit(log)
        elif isinstance(log, BatchLog):
            self.batch_logged.emit(log)

    def _on_trained(self, result) -> None:
        self.result = result
        self.trained.emit(result)
        self.progressed.emit(1, 1)
        self.status.emit("Stopped: kept the best epoch." if result.cancelled else "Done.")

    # -- saving ------------------------------------------------------------------------------

    def save(self, path: str) -> None:
        if self.result is not None:
            self._run(
                "save", SaveModelRequest(self.result, path), partial(self._on_saved, self.result)
            )

    def export_tflite(self, path: str) -> None:
        if self.result is not None:
            self._run("tflite", ExportTFLiteRequest(self.result, path), self._on_exported)

    def _on_saved(self, result, path) -> None:
        self.saved_path, self.saved_result = str(path), result
        self.status.emit(f"Saved {path}")
        self.saved.emit(str(path))

    def _on_exported(self, path) -> None:
        self.status.emit(f"Exported {path}")
        self.exported.emit(str(path))

    def cancel_all(self) -> None:
        """Cancel this window's jobs (the window is closing)."""
        for job in self.worker.pending():
            if job.id in self._jobs:
                job.cancel()

    # -- running requests --------------------------------------------------------------------

    def _run(self, what: str, request, on_done, kind: str | None = None) -> JobHandle:
        job_id: list[int] = []  # the id is known once submitted; callbacks come later

        def ended():
            self._jobs.pop(job_id[0], None)
            self.busy_changed.emit()

        def done(result):
            on_done(result)
            ended()  # after the result is kept: the buttons depend on both

        def error(exc, details):
            ended()
            if what == "layers":
                self._layers_key = None
            self.status.emit(user_message(exc))
            self.progressed.emit(0, 1)
            self.failed.emit(TITLES[what], user_message(exc), details)

        def cancelled():
            ended()
            self.status.emit("Cancelled.")
            self.progressed.emit(0, 1)

        def progress(done_count, total, message):
            self.status.emit(message)
            self.progressed.emit(done_count, total)

        job = self.worker.run(
            request,
            kind=kind or ("train" if what == "train" else f"train-{what}"),
            on_done=done,
            on_error=error,
            on_cancelled=cancelled,
            on_progress=progress,
            on_partial=self._on_train_partial if what == "train" else None,
        )
        job_id.append(job.id)
        self._jobs[job.id] = what
        self.busy_changed.emit()
        return job


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
