"""The window's state and its requests to the worker: the model, the images, the selection.

No widgets here. The main window forwards user actions to a Session and shows what its
signals report. The Session turns actions into typed operation requests (core.ops), hands
each to the worker with the callbacks that handle its answer, and drops what is no longer
wanted (DESIGN.md rule 4):

- classification results are kept only if the image is still listed (the worker already
  drops results computed with a model that has since been replaced);
- activations only if they answer the current (image, layer).
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from core.io.images import find_images
from core.ops.activations import ActivationsRequest
from core.ops.classify import ClassifyRequest
from core.ops.extract import ExtractRequest
from core.ops.load import LoadModelRequest, ModelInfo, settle_memory
from gui.app.worker import JobHandle, Worker
from gui.main.batch_summary import classified_summary
from gui.main.chunk_sizes import CHUNKS_IN_FLIGHT, FORWARD_BATCH, ChunkSizes
from gui.main.feature_export import start_export
from gui.main.image_listing import FolderLister
from gui.main.layer_paths import all_layer_paths
from gui.main.pasted_images import prune_pasted_images, save_pasted_image
from gui.widgets.error_dialog import user_message
from gui.widgets.image_list import CANCELLED, FAILED, QUEUED, ImageEntry, ImageListModel
from gui.widgets.image_loader import ImageLoader

LOAD_PRIORITY, INTERACTIVE_PRIORITY, BATCH_PRIORITY = 2, 1, 0


class Session(QObject):
    model_loading = Signal(object)  # LoadModelRequest
    model_loaded = Signal(object)  # core.ops.load.ModelInfo
    model_load_failed = Signal(object, object, str)  # LoadModelRequest, error, details
    model_load_cancelled = Signal(object)  # LoadModelRequest
    current_image_changed = Signal(object)  # ImageEntry or None: its result is new
    activations_ready = Signal(object)  # ActivationResult for the current image and layer
    activations_message = Signal(str)  # why there are no activations to show
    export_finished = Signal(object)  # core.ops.extract.ExportResult
    failed = Signal(str, str, str)  # title, message, details: for an error dialog
    task_busy = Signal(str, str, int, int)  # key, text, done, total
    task_done = Signal(str, str)  # key, text
    image_classified = Signal(object)  # core.ops.classify.Classified, as each arrives
    images_added = Signal(list)  # paths newly listed, in order (a folder: several times)
    nothing_added = Signal()  # what was dropped or opened held no new image

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = Worker(self)
        self.loader = ImageLoader(self)
        self.images = ImageListModel(self)
        self.model: ModelInfo | None = None
        self.backend = "keras"  # what loads run on: "auto" (ONNX Runtime when verified) or "keras"
        self.last_load: LoadModelRequest | None = None
        self.versions: dict[str, str] = {}
        self._replacing_load = False
        self._classify_chunks: dict[int, tuple[str, ...]] = {}  # chunk id -> its images
        self._to_classify: deque[str] = deque()  # submitted to no worker job yet
        self.lister = FolderLister(self)
        self._listings: dict[int, int] = {}  # listing id -> new images it found so far
        self._chunk_ids = itertools.count(1)
        self._chunk_sizes = ChunkSizes()
        self._submitted: set[str] = set()
        self._batch_done = self._batch_total = self._batch_failed = 0
        self._current: str | None = None
        self._layer: str | None = None
        self._activation_job: JobHandle | None = None
        self.worker.engine_changed.connect(self._on_worker_engine_changed)
        self.loader.thumbnail_ready.connect(self.images.set_thumbnail)
        self.images.thumbnail_needed.connect(self.loader.request_thumbnail)
        self.lister.found.connect(self._on_lister_found)
        self.lister.finished.connect(self._on_lister_finished)
        prune_pasted_images()

    # -- model -----------------------------------------------------------------------------

    def load_model(self, request: LoadModelRequest) -> JobHandle:
        """Switch model. Work for the old model is cancelled; the images are classified again."""
        self._replacing_load = True  # the loads cancelled here are replaced, not abandoned
        try:
            self.worker.cancel("load")
        finally:
            self._replacing_load = False
        self._cancel_classification(user=False)
        if isinstance(request, LoadModelRequest):  # a just-trained model has no backend choice
            request = replace(request, backend=self.backend)
        self.last_load = request
        job = self.worker.run(
            request,
            kind="load",
            priority=LOAD_PRIORITY,
            on_done=self._on_model_loaded,
            on_error=partial(self._on_model_load_failed, request),
            on_cancelled=partial(self._on_model_load_cancelled, request),
            on_progress=lambda done, total, text: self.task_busy.emit("load", text, done, total),
        )
        self.task_busy.emit("load", f"Loading {request.display_name}…", 0, 0)
        self.model_loading.emit(request)
        return job

    def is_loading(self) -> bool:
        return bool(self.worker.pending("load"))

    def is_classifying(self) -> bool:
        return bool(self._classify_chunks or self._to_classify)

    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.model = info
        self.versions = dict(info.versions)
        self.task_done.emit("load", f"{info.name} ready")
        self.model_loaded.emit(info)
        # After the views are updated; on the GUI thread, as Qt objects die (settle_memory).
        QTimer.singleShot(0, settle_memory)
        if self._layer and self._layer not in all_layer_paths(info.layers):
            self._layer = None
        self._schedule_classification()
        self._request_activations()

    def _on_model_load_failed(self, request: LoadModelRequest, error, details: str) -> None:
        self.task_done.emit("load", f"Could not load {request.display_name}")
        self.model_load_failed.emit(request, error, details)
        self._schedule_classification()  # with the model that stays loaded

    def _on_model_load_cancelled(self, request: LoadModelRequest) -> None:
        if self._replacing_load:
            return  # a newer load replaces it
        self.task_done.emit("load", f"Loading {request.display_name} cancelled")
        self.model_load_cancelled.emit(request)
        self._schedule_classification()

    def _on_worker_engine_changed(self, generation: int) -> None:
        # Everything shown was computed with the previous model.
        self._submitted.clear()
        self._to_classify.clear()
        self.images.set_state(self.images.paths(), QUEUED)
        self.current_image_changed.emit(self.current_entry())

    # -- images ----------------------------------------------------------------------------

    def add_paths(self, paths: Iterable[str | Path]) -> list[str]:
        """Add image files at once, and folders (searched recursively) as a background thread
        lists them; returns the new images among the files. images_added reports them all."""
        paths = [str(p) for p in paths]
        folders = [p for p in paths if os.path.isdir(p)]
        files = [p for p in paths if p not in folders]
        new = self._add_found(find_images(files)) if files else []
        if folders:
            self._listings[self.lister.list(folders)] = len(new)
        elif not new:
            self.nothing_added.emit()
        return new

    def is_listing(self) -> bool:
        return bool(self._listings)

    def wait_until_idle(self, timeout: float | None = None) -> None:
        """Block, turning the event loop, until the folders are listed and the worker is
        idle; TimeoutError if that takes longer than timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.lister.deliver_until(lambda: not self._listings, deadline)
        self.worker.wait_until_idle(None if deadline is None else deadline - time.monotonic())

    def _add_found(self, paths) -> list[str]:
        new = self.images.add_paths(paths)
        if new:
            self.images_added.emit(new)
            self._schedule_classification()
        return new

    def _on_lister_found(self, listing: int, paths: list) -> None:
        if listing in self._listings:  # not cleared meanwhile
            self._listings[listing] += len(self._add_found(paths))

    def _on_lister_finished(self, listing: int, _count: int) -> None:
        if self._listings.pop(listing, None) == 0:
            self.nothing_added.emit()

    def add_pasted_image(self, image: QImage) -> str:
        """Keep a clipboard image as a PNG in the app cache, so it is a file like the rest."""
        path = save_pasted_image(image)
        self.add_paths([path])
        return str(path)

    def remove(self, paths: Iterable[str]) -> None:
        paths = list(paths)
        self.images.remove_paths(paths)
        self._submitted.difference_update(paths)

    def clear(self) -> None:
        self.lister.cancel()
        self._listings.clear()
        self._to_classify.clear()
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

    # -- classification --------------------------------------------------------------------

    def _schedule_classification(self) -> None:
        if self.model is None:
            return  # images wait until a model has loaded
        todo = [p for p in self.images.paths([QUEUED]) if p not in self._submitted]
        if not todo:
            return
        if not self._classify_chunks and not self._to_classify:
            self._batch_done = self._batch_total = self._batch_failed = 0
            self._chunk_sizes.batch_started()
        self._to_classify.extend(todo)
        self._submitted.update(todo)
        self._batch_total += len(todo)
        self._submit_chunks()
        self._report_batch()

    def _submit_chunks(self) -> None:
        while self._to_classify and len(self._classify_chunks) < CHUNKS_IN_FLIGHT:
            count = min(self._chunk_sizes.size, len(self._to_classify))
            chunk = tuple(self._to_classify.popleft() for _ in range(count))
            chunk_id = next(self._chunk_ids)
            self._classify_chunks[chunk_id] = chunk
            self.worker.run(
                ClassifyRequest(
                    chunk, batch_size=FORWARD_BATCH, keep_features=True
                ),  # for the Feature map
                kind="classify",
                supersede=False,
                priority=BATCH_PRIORITY,
                on_partials=self._on_images_classified,
                on_done=lambda _count, c=chunk_id: self._classify_chunk_ended(c),
                on_error=lambda error, details, c=chunk_id: self._on_classify_failed(
                    c, error, details
                ),
                on_cancelled=lambda c=chunk_id: self._on_classify_cancelled(c),
            )

    def _cancel_classification(self, user: bool) -> None:
        waiting = list(self._to_classify)
        self._to_classify.clear()  # before the cancels below, so nothing more is submitted
        self._submitted.difference_update(waiting)
        pending = [p for chunk in self._classify_chunks.values() for p in chunk] + waiting
        submitted = bool(self._classify_chunks)  # their ends report the batch (maybe at once)
        self.worker.cancel("classify")
        if user:  # a model switch re-queues them instead
            self.images.set_state([p for p in pending if self._is_queued(p)], CANCELLED)
        if waiting and not submitted:
            self._classify_chunk_ended(None)

    def _is_queued(self, path: str) -> bool:
        entry = self.images.entry(path)
        return entry is not None and entry.state == QUEUED

    def _on_images_classified(self, results: list) -> None:
        """A bunch of results from a classification job, in order."""
        entries = self.images.set_results((r.path, r.labels, r.error) for r in results)
        for result, entry in zip(results, entries, strict=True):
            self.image_classified.emit(result)
            self._batch_done += 1
            self._batch_failed += result.error is not None
            if entry is not None and entry.path == self._current:
                self.current_image_changed.emit(entry)
                if entry.state == FAILED:
                    self._request_activations()
        self._report_batch()

    def _on_classify_failed(self, chunk_id: int, error, details: str) -> None:
        for path in self._classify_chunks.get(chunk_id, ()):
            if self._is_queued(path):
                self.images.set_result(path, None, user_message(error))
                self._batch_done += 1
                self._batch_failed += 1
        self._classify_chunk_ended(chunk_id)
        self.failed.emit("Classification failed", user_message(error), details)

    def _on_classify_cancelled(self, chunk_id: int) -> None:
        self._submitted.difference_update(self._classify_chunks.get(chunk_id, ()))
        self._classify_chunk_ended(chunk_id)

    def _report_batch(self) -> None:
        if self._classify_chunks or self._to_classify:
            text = f"Classifying {self._batch_done}/{self._batch_total} images…"
            self.task_busy.emit("classify", text, self._batch_done, self._batch_total)

    def _classify_chunk_ended(self, chunk_id: int | None) -> None:
        self._chunk_sizes.chunk_ended(len(self._classify_chunks.pop(chunk_id, ())))
        self._submit_chunks()
        if self._classify_chunks:
            return
        # Counted from the results that came back: when Cancel stops a batch, the chunk
        # running at the time still ends normally, after the ones that never started.
        skipped = self._batch_total - self._batch_done
        self.task_done.emit(
            "classify", classified_summary(self._batch_done, self._batch_failed, skipped)
        )
        self._batch_done = self._batch_total = self._batch_failed = 0

    # -- layers and activations ------------------------------------------------------------

    def select_layer(self, layer: str | None) -> None:
        self._layer = layer or None
        self._request_activations()

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
            request = ActivationsRequest(entry.path, self._layer)
            self._activation_job = self.worker.run(
                request,
                kind="activations",
                priority=INTERACTIVE_PRIORITY,
                on_done=self._on_activations_done,
                on_error=self._on_activations_failed,
                on_cancelled=lambda: self.task_done.emit("activations", ""),
            )
            self.task_busy.emit("activations", f"Computing activations of {self._layer}…", 0, 0)

    def _on_activations_done(self, result) -> None:
        self.task_done.emit("activations", "")
        if (result.path, result.layer) == (self._current, self._layer):
            self.activations_ready.emit(result)

    def _on_activations_failed(self, error, details: str) -> None:
        self.task_done.emit("activations", "")
        self.activations_message.emit(user_message(error))

    # -- export ----------------------------------------------------------------------------

    def export_features(
        self, paths: list[str], layer: str, pooling: str, destination: Path, overwrite: bool
    ) -> JobHandle:
        request = ExtractRequest(tuple(paths), Path(destination), layer, pooling, overwrite)
        return start_export(self, request, INTERACTIVE_PRIORITY)

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Cancel all work and end the worker; False if it did not stop in time."""
        self.lister.cancel()
        self.loader.shutdown()
        return self.worker.shutdown(timeout_s)
