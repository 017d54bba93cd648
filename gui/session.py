"""The window's state and its requests to the worker: the model, the images, the selection.

No widgets here. The main window forwards user actions to a Session and shows what its
signals report. The Session turns actions into immutable job requests (gui.jobs), decides
which results are still wanted, and drops the rest (DESIGN.md rule 4):

- classification results are kept only if they were computed with the current model
  generation and the image is still listed;
- activations only if they answer the current (image, layer) on the current model.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from core.images import find_images
from core.paths import app_cache_dir
from core.zoo import BUILTIN_NAME
from gui import jobs
from gui.error_dialog import user_message
from gui.image_list import CANCELLED, FAILED, QUEUED, ImageEntry, ImageListModel
from gui.image_loader import ImageLoader
from gui.worker import JobHandle, Worker

# Images per classification job. Small enough that an activation request (higher
# priority) waits at most one chunk behind a long batch; large enough to batch well.
CLASSIFY_CHUNK = 8
LOAD_PRIORITY, INTERACTIVE_PRIORITY, BATCH_PRIORITY = 2, 1, 0
# Pasted images are files in the cache so they can be listed like photos; they are removed
# at start-up once this old (no list outlives its window, and a window rarely runs for days).
PASTED_MAX_AGE_S = 3 * 24 * 3600


@dataclass(frozen=True)
class LoadRequest:
    """What to load: a zoo name or a model file path, and how."""

    key: str = BUILTIN_NAME
    weights: str = "imagenet"
    preprocess: str | None = None
    trust: bool = False

    @property
    def display_name(self) -> str:
        return Path(self.key).name if Path(self.key).suffix else self.key

    def with_options(self, **changes) -> LoadRequest:
        return replace(self, **changes)


class Session(QObject):
    model_loading = Signal(object)  # LoadRequest
    model_loaded = Signal(object)  # jobs.ModelInfo
    model_load_failed = Signal(object, object, str)  # LoadRequest, error, details
    model_load_cancelled = Signal(object)  # LoadRequest
    current_image_changed = Signal(object)  # ImageEntry or None: its result is new
    activations_ready = Signal(object)  # jobs.ActivationResult for the current image and layer
    activations_message = Signal(str)  # why there are no activations to show
    export_finished = Signal(object)  # jobs.ExportResult
    failed = Signal(str, str, str)  # title, message, details: for an error dialog
    task_busy = Signal(str, str, int, int)  # key, text, done, total
    task_done = Signal(str, str)  # key, text

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = Worker(self)
        self.loader = ImageLoader(self)
        self.images = ImageListModel(self)
        self.model: jobs.ModelInfo | None = None
        self.versions: dict[str, str] = {}
        self._generation = 0
        self._loads: dict[int, LoadRequest] = {}
        self._replacing_load = False
        self._classify_jobs: dict[int, tuple[str, ...]] = {}
        self._submitted: set[str] = set()
        self._batch_done = self._batch_total = 0
        self._current: str | None = None
        self._layer: str | None = None
        self._activation_job: JobHandle | None = None
        self.worker.engine_changed.connect(self._on_engine_changed)
        self.worker.partial_result.connect(self._on_partial_result)
        self.worker.job_progressed.connect(self._on_job_progressed)
        self.worker.job_finished.connect(self._on_job_finished)
        self.worker.job_failed.connect(self._on_job_failed)
        self.worker.job_cancelled.connect(self._on_job_cancelled)
        self.loader.thumbnail_ready.connect(self.images.set_thumbnail)
        prune_pasted_images()

    # -- model -----------------------------------------------------------------------------

    def load_model(self, request: LoadRequest) -> JobHandle:
        """Switch model. Work for the old model is cancelled; the images are classified again."""
        self._replacing_load = True  # the loads cancelled here are replaced, not abandoned
        try:
            self.worker.cancel("load")
        finally:
            self._replacing_load = False
        self._cancel_classification(user=False)
        job = self.worker.submit(
            "load",
            jobs.load_model(
                request.key,
                weights=request.weights,
                preprocess=request.preprocess,
                trust=request.trust,
            ),
            model_bound=False,
            priority=LOAD_PRIORITY,
        )
        self._loads[job.id] = request
        self.task_busy.emit("load", f"Loading {request.display_name}…", 0, 0)
        self.model_loading.emit(request)
        return job

    def is_loading(self) -> bool:
        return bool(self.worker.pending("load"))

    # -- images ----------------------------------------------------------------------------

    def add_paths(self, paths: Iterable[str | Path]) -> list[str]:
        """Add image files and folders (searched recursively); returns the new images."""
        new = self.images.add_paths(find_images(paths))
        for path in new:
            self.loader.request_thumbnail(path)
        self._schedule_classification()
        return new

    def add_pasted_image(self, image: QImage) -> str:
        """Keep a clipboard image as a PNG in the app cache, so it is a file like the rest."""
        folder = pasted_folder()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"pasted-{stamp}.png"
        counter = itertools.count(2)
        while path.exists():
            path = folder / f"pasted-{stamp}-{next(counter)}.png"
        # Fast compression: a screenshot pasted must not stall the window.
        if not image.save(str(path), "PNG", 80):
            raise OSError(f"Could not save the pasted image to {path}.")
        self.add_paths([path])
        return str(path)

    def remove(self, paths: Iterable[str]) -> None:
        paths = list(paths)
        self.images.remove_paths(paths)
        self._submitted.difference_update(paths)

    def clear(self) -> None:
        self.worker.cancel("classify")
        self.images.clear()
        self._submitted.clear()

    def classify_remaining(self) -> None:
        """Classify images whose classification was cancelled."""
        self.images.set_state(self.images.paths([CANCELLED]), QUEUED)
        self._schedule_classification()

    def cancel(self, task: str) -> None:
        """The user's Cancel for a task shown in the status bar."""
        if task == "classify":
            self._cancel_classification(user=True)
        else:
            self.worker.cancel(task)

    def select_image(self, path: str | None) -> None:
        self._current = path
        self.current_image_changed.emit(self.images.entry(path) if path else None)
        self._request_activations()

    def current_entry(self) -> ImageEntry | None:
        return self.images.entry(self._current) if self._current else None

    # -- layers and export -----------------------------------------------------------------

    def select_layer(self, layer: str | None) -> None:
        self._layer = layer or None
        self._request_activations()

    def export_features(
        self, paths: list[str], layer: str, pooling: str, destination: Path, overwrite: bool
    ) -> JobHandle:
        job = self.worker.submit(
            "export",
            jobs.export_features(paths, layer, pooling, destination, overwrite),
            priority=INTERACTIVE_PRIORITY,
        )
        self.task_busy.emit("export", f"Exporting features of {len(paths)} images…", 0, len(paths))
        return job

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Cancel all work and end the worker; False if it did not stop in time."""
        self.loader.shutdown()
        return self.worker.shutdown(timeout_s)

    # -- scheduling ------------------------------------------------------------------------

    def _schedule_classification(self) -> None:
        if self.model is None:
            return  # images wait until a model has loaded
        todo = [p for p in self.images.paths([QUEUED]) if p not in self._submitted]
        if not todo:
            return
        if not self._classify_jobs:
            self._batch_done = self._batch_total = 0
        for start in range(0, len(todo), CLASSIFY_CHUNK):
            chunk = tuple(todo[start : start + CLASSIFY_CHUNK])
            job = self.worker.submit(
                "classify", jobs.classify(chunk), supersede=False, priority=BATCH_PRIORITY
            )
            self._classify_jobs[job.id] = chunk
        self._submitted.update(todo)
        self._batch_total += len(todo)
        self._report_batch()

    def _cancel_classification(self, user: bool) -> None:
        pending = [p for chunk in self._classify_jobs.values() for p in chunk]
        self.worker.cancel("classify")
        if user:  # a model switch re-queues them instead
            self.images.set_state([p for p in pending if self._is_queued(p)], CANCELLED)

    def _is_queued(self, path: str) -> bool:
        entry = self.images.entry(path)
        return entry is not None and entry.state == QUEUED

    def _request_activations(self) -> None:
        if self._activation_job is not None and not self._activation_job.done:
            self._activation_job.cancel()
        entry = self.current_entry()
        if self.model is None:
            self.activations_message.emit("Loading the model…")
        elif self._layer is None:
            self.activations_message.emit("Select a layer to see its activations.")
        elif entry is None:
            self.activations_message.emit("Select an image to see its activations.")
        elif entry.state == FAILED:
            self.activations_message.emit(f"This image cannot be read: {entry.error}")
        else:
            self._activation_job = self.worker.submit(
                "activations",
                jobs.activations(entry.path, self._layer),
                priority=INTERACTIVE_PRIORITY,
            )
            self.task_busy.emit("activations", f"Computing activations of {self._layer}…", 0, 0)

    def _report_batch(self) -> None:
        if self._classify_jobs:
            text = f"Classifying {self._batch_done}/{self._batch_total} images…"
            self.task_busy.emit("classify", text, self._batch_done, self._batch_total)

    # -- worker results --------------------------------------------------------------------

    def _on_engine_changed(self, generation: int) -> None:
        # Everything shown was computed with the previous model.
        self._generation = generation
        self._submitted.clear()
        self.images.set_state(self.images.paths(), QUEUED)
        self.current_image_changed.emit(self.current_entry())

    def _on_partial_result(self, job: JobHandle, payload) -> None:
        if job.kind != "classify" or job.generation != self._generation:
            return  # computed with a model that is no longer loaded
        entry = self.images.set_result(payload.path, payload.labels, payload.error)
        self._batch_done += 1
        self._report_batch()
        if entry is not None and entry.path == self._current:
            self.current_image_changed.emit(entry)
            if entry.state == FAILED:
                self._request_activations()

    def _on_job_progressed(self, job: JobHandle, done: int, total: int, message: str) -> None:
        if job.kind in ("load", "export"):
            self.task_busy.emit(job.kind, message, done, total)

    def _on_job_finished(self, job: JobHandle, result) -> None:
        if job.kind == "load":
            self._loads.pop(job.id, None)
            self.model = result
            self.versions = dict(result.versions)
            self.task_done.emit("load", f"{result.name} ready")
            self.model_loaded.emit(result)
            if self._layer and self._layer not in all_layer_paths(result.layers):
                self._layer = None
            self._schedule_classification()
            self._request_activations()
        elif job.kind == "classify":
            self._classify_job_ended(job)
        elif job.kind == "activations":
            if job is self._activation_job:
                self.task_done.emit("activations", "")
                if job.generation == self._generation and (result.path, result.layer) == (
                    self._current,
                    self._layer,
                ):
                    self.activations_ready.emit(result)
        elif job.kind == "export":
            text = f"Exported {result.count} feature vectors to {result.path.name}"
            self.task_done.emit("export", text)
            self.export_finished.emit(result)

    def _on_job_failed(self, job: JobHandle, error: BaseException, details: str) -> None:
        if job.kind == "load":
            request = self._loads.pop(job.id, None)
            self.task_done.emit("load", f"Could not load {request.display_name}")
            self.model_load_failed.emit(request, error, details)
            self._schedule_classification()  # with the model that stays loaded
        elif job.kind == "classify":
            chunk = self._classify_jobs.get(job.id, ())
            for path in chunk:
                if self._is_queued(path):
                    self.images.set_result(path, None, user_message(error))
            self._classify_job_ended(job)
            self.failed.emit("Classification failed", user_message(error), details)
        elif job.kind == "activations":
            if job is self._activation_job:
                self.task_done.emit("activations", "")
                self.activations_message.emit(user_message(error))
        elif job.kind == "export":
            self.task_done.emit("export", "Export failed")
            self.failed.emit("Export failed", user_message(error), details)

    def _on_job_cancelled(self, job: JobHandle) -> None:
        if job.kind == "load":
            request = self._loads.pop(job.id, None)
            if not self._loads and not self._replacing_load:  # not replaced by a newer load
                self.task_done.emit("load", f"Loading {request.display_name} cancelled")
                self.model_load_cancelled.emit(request)
                self._schedule_classification()
        elif job.kind == "classify":
            self._submitted.difference_update(self._classify_jobs.get(job.id, ()))
            self._classify_job_ended(job, cancelled=True)
        elif job.kind == "activations" and job is self._activation_job:
            self.task_done.emit("activations", "")
        elif job.kind == "export":
            self.task_done.emit("export", "Export cancelled; no file was written")

    def _classify_job_ended(self, job: JobHandle, cancelled: bool = False) -> None:
        self._classify_jobs.pop(job.id, None)
        if self._classify_jobs:
            return
        if cancelled:
            self.task_done.emit("classify", "Classification cancelled")
        else:
            failed = len(self.images.paths([FAILED]))
            note = f", {failed} could not be read" if failed else ""
            self.task_done.emit("classify", f"Classified {self._batch_total} images{note}")
        self._batch_done = self._batch_total = 0


def pasted_folder() -> Path:
    return app_cache_dir() / "pasted"


def prune_pasted_images(max_age_s: float = PASTED_MAX_AGE_S) -> list[Path]:
    """Delete the pasted images older than max_age_s; returns the ones deleted."""
    now, removed = time.time(), []
    for path in pasted_folder().glob("pasted-*.png"):
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if now - path.stat().st_mtime > max_age_s:
                path.unlink()
                removed.append(path)
    return removed


def all_layer_paths(nodes: list[dict]) -> list[str]:
    """Every layer path of a layer tree (LayerNode dicts), depth first."""
    found = []
    for node in nodes:
        found.append(node["path"])
        found += all_layer_paths(node.get("children") or [])
    return found
