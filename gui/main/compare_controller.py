"""Compare with another model: its state and requests to the worker. No widgets here.

While the compare window is open, each change of image, model, class or method asks the
worker for a ``CompareRequest``. The operation keeps the second model loaded in an engine of
its own, so the window's model is never replaced. A result that no longer answers what is
wanted (another image or model by now) is dropped.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from core.errors import UnsafeModelError, WeightsUnavailableError
from core.explain import DEFAULT_METHOD
from core.explain.overlay import DEFAULT_OPACITY
from core.ops.compare import CompareRequest, CompareResult
from core.ops.load import PreprocessingNeeded
from gui.app.worker import JobHandle, Worker
from gui.main.session import INTERACTIVE_PRIORITY
from gui.widgets.error_dialog import user_message

TASK = "compare"
# Errors the user can answer (other weights, the preprocessing, trust): the window asks.
ANSWERABLE = (WeightsUnavailableError, PreprocessingNeeded, UnsafeModelError)


class CompareController(QObject):
    result_ready = Signal(object)  # CompareResult for the current image and second model
    cleared = Signal()
    status_changed = Signal(str)
    load_failed = Signal(object, object, str)  # CompareRequest, error, details
    task_busy = Signal(str, str, int, int)
    task_done = Signal(str, str)

    def __init__(self, worker: Worker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.active = False  # the compare window is open
        self.request: CompareRequest | None = None  # the model and how to load it
        self.path: str | None = None
        self.class_index: int | None = None
        self.method = DEFAULT_METHOD
        self.opacity = DEFAULT_OPACITY
        self.result: CompareResult | None = None
        self._job: JobHandle | None = None

    # -- what the user does ----------------------------------------------------------------

    def set_active(self, active: bool) -> None:
        self.active = active
        if active:
            self._request()
        else:
            self._cancel()

    def set_model(self, key: str, weights: str = "imagenet") -> None:
        """Compare with this model (a zoo name or a model file)."""
        self.request = CompareRequest("", key, weights)
        self.class_index = None
        self._forget()
        self._request()

    def retry(self, changes: dict) -> None:
        """Load the second model again with other weights, preprocessing or trust."""
        if self.request is not None:
            self.request = replace(self.request, **changes)
            self._request()

    def set_image(self, path: str | None) -> None:
        if path != self.path:
            self.path = path
            self.class_index = None
            self._forget()
            self._request()

    def set_class(self, class_index: int) -> None:
        self.class_index = class_index
        self._request()

    def set_method(self, method: str) -> None:
        if method != self.method:
            self.method = method
            self._request()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = opacity
        if self.result is not None:
            explanation = self.result.explanation.with_opacity(opacity)
            self.result = replace(self.result, explanation=explanation)
            self.result_ready.emit(self.result)

    # -- requests --------------------------------------------------------------------------

    def _request(self) -> None:
        self._cancel()
        if not self.active or self.request is None:
            if self.active:
                self.status_changed.emit("Choose a model to compare with.")
            return
        if self.path is None:
            self.status_changed.emit("Select an image in the main window.")
            return
        request = replace(
            self.request,
            path=self.path,
            class_index=self.class_index,
            method=self.method,
            opacity=self.opacity,
        )
        self._job = self.worker.run(
            request,
            kind=TASK,
            priority=INTERACTIVE_PRIORITY,
            on_done=self._on_compared,
            on_error=lambda error, details: self._on_failed(request, error, details),
            on_cancelled=lambda: self._on_cancelled(request),
            on_progress=lambda done, total, text: self.task_busy.emit(TASK, text, done, total),
        )
        self.task_busy.emit(TASK, f"Comparing with {request.display_name}…", 0, 0)
        self.status_changed.emit(f"Computing with {request.display_name}…")

    def _cancel(self) -> None:
        if self._job is not None and not self._job.done:
            self._job.cancel()
        self._job = None

    def _on_compared(self, result: CompareResult) -> None:
        self.task_done.emit(TASK, "")
        asked = result.request
        current = self.request
        if (
            current is None
            or (asked.model, asked.weights) != (current.model, current.weights)
            or asked.path != self.path
            or asked.method != self.method
            or self.class_index not in (None, result.explanation.label.index)
        ):
            return  # answers an older question
        self.result = result
        self.status_changed.emit("")
        self.result_ready.emit(result)

    def _on_cancelled(self, request: CompareRequest) -> None:
        self.task_done.emit(TASK, "")
        if self._job is not None and self._job.request is request:  # the user's Cancel
            self._job = None
            self.status_changed.emit("Cancelled.")

    def _on_failed(self, request: CompareRequest, error, details: str) -> None:
        self.task_done.emit(TASK, "")
        self.status_changed.emit(user_message(error))
        if isinstance(error, ANSWERABLE):
            self.load_failed.emit(request, error, details)

    def _forget(self) -> None:
        self.result = None
        self.cleared.emit()
