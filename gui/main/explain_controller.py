"""The Explain overlay's state and its requests to the worker. No widgets here.

What is explained: the current image, the class clicked in the top-5 (else the top class),
with the chosen method and layer. Each change asks the worker for an ``ExplainRequest``;
a newer request supersedes a pending one, a running one is asked to stop, and a result that
no longer answers what is wanted is dropped (DESIGN.md rule 4). The worker's operation
caches maps, so going back to a class or image already shown is immediate. Opacity and
"What the network sees" only change how the last result is drawn, on this thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from core.errors import ConvLensError
from core.explain import DEFAULT_METHOD, METHODS
from core.explain.overlay import DEFAULT_OPACITY, blend
from core.ops.explain import ExplainRequest, ExplainResult
from gui.app.worker import JobHandle, Worker
from gui.main.session import INTERACTIVE_PRIORITY
from gui.widgets.error_dialog import user_message
from gui.widgets.image_list import FAILED, display_name

TASK = "explain"  # the worker kind and the status bar's task key


@dataclass(frozen=True)
class Shown:
    """An overlay ready for the image pane."""

    path: str
    image: QImage
    caption: str
    pixelated: bool


def to_qimage(pixels: np.ndarray) -> QImage:
    """A uint8 (H, W, 3) array as a QImage that owns its pixels."""
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    image = QImage(pixels.data, width, height, pixels.strides[0], QImage.Format.Format_RGB888)
    return image.copy()


def describe(result: ExplainResult) -> str:
    """'Grad-CAM of “tabby” (16.5%) at top_activation'."""
    title = METHODS[result.method].title
    where = f" at {result.layer}" if result.layer else ""
    name = display_name(result.label)
    return f"{title} of “{name}” ({result.label.probability:.1%}){where}"


class ExplainController(QObject):
    enabled_changed = Signal(bool)
    overlay_ready = Signal(object)  # Shown
    overlay_cleared = Signal()
    highlight_changed = Signal(object)  # the output index explained, or None
    result_changed = Signal(object)  # ExplainResult or None
    status_changed = Signal(str)
    failed = Signal(str, str, str)  # title, message, details
    task_busy = Signal(str, str, int, int)
    task_done = Signal(str, str)

    def __init__(self, worker: Worker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.enabled = False
        self.method = DEFAULT_METHOD
        self.layer: str | None = None  # None: the model's last conv layer
        self.class_index: int | None = None  # None: the top class
        self.opacity = DEFAULT_OPACITY
        self.network_view = False
        self.model = None  # core.ops.load.ModelInfo
        self.result: ExplainResult | None = None
        self._entry = None  # gui.widgets.image_list.ImageEntry of the current image
        self._job: JobHandle | None = None

    # -- what the user does ----------------------------------------------------------------

    def set_enabled(self, enabled: bool) -> None:
        if enabled == self.enabled:
            return
        self.enabled = enabled
        self.enabled_changed.emit(enabled)
        if enabled:
            self._request()
        else:
            self._cancel()
            self._forget()
            self.status_changed.emit("")

    def toggle(self) -> None:
        self.set_enabled(not self.enabled)

    def explain_class(self, class_index: int) -> None:
        """Explain this output unit of the current image (turns Explain on)."""
        self.class_index = class_index
        if not self.enabled:
            self.set_enabled(True)
        else:
            self._request()

    def set_method(self, name: str) -> None:
        if name in METHODS and name != self.method:
            self.method = name
            self._request()

    def set_layer(self, layer: str | None) -> None:
        if layer != self.layer:
            self.layer = layer
            if METHODS[self.method].needs_layer:
                self._request()

    def set_opacity(self, opacity: float) -> None:
        self.opacity = opacity
        if self.result is not None:
            self.result = self.result.with_opacity(opacity)
            self._show()

    def set_network_view(self, network: bool) -> None:
        self.network_view = network
        if self.result is not None:
            self._show()

    # -- what the window tells it ----------------------------------------------------------

    def on_model_loaded(self, info) -> None:
        self.model = info
        if self.layer not in info.map_layers:
            self.layer = None
        self.class_index = None  # another model has other classes
        self._forget()
        self._request()

    def on_current_image_changed(self, entry) -> None:
        previous = self._entry.path if self._entry is not None else None
        self._entry = entry
        path = entry.path if entry is not None else None
        if path != previous:
            self.class_index = None
            self._forget()
            self._request()
        elif entry is not None and entry.state == FAILED:
            self._request()  # says why there is nothing to explain

    def export_png(self, path: str | Path) -> Path:
        """Write the overlay as shown to a PNG file (atomically); ExportError if it cannot."""
        from PIL import Image

        from core.io.atomic import atomic_path

        if self.result is None:
            raise ConvLensError("There is no explanation to save yet.")
        path = Path(path)
        with atomic_path(path) as partial:
            Image.fromarray(self._pixels()).save(partial, format="PNG")
        return path

    # -- requests and results --------------------------------------------------------------

    def _request(self) -> None:
        self._cancel()
        if not self.enabled:
            return
        entry, model = self._entry, self.model
        reason = None
        if model is None:
            reason = "Waiting for the model to load…"
        elif entry is None:
            reason = "Select an image to explain what the model sees in it."
        elif entry.state == FAILED:
            reason = f"This image cannot be read: {entry.error}"
        elif not model.is_classifier:
            reason = "This model has no classifier head: there is no class to explain."
        if reason is not None:
            self.status_changed.emit(reason)
            return
        title = METHODS[self.method].title
        request = ExplainRequest(
            entry.path, self.class_index, self.method, self.layer, opacity=self.opacity
        )
        self._job = self.worker.run(
            request,
            kind=TASK,
            priority=INTERACTIVE_PRIORITY,
            on_done=self._on_explained,
            on_error=self._on_failed,
            on_cancelled=lambda: self._on_cancelled(request),
            on_progress=lambda done, total, text: self.task_busy.emit(TASK, text, done, total),
        )
        self.task_busy.emit(TASK, f"Explaining with {title}…", 0, 0)
        self.status_changed.emit(f"Computing {title}…")

    def _cancel(self) -> None:
        if self._job is not None and not self._job.done:
            self._job.cancel()
        self._job = None

    def _wanted(self, result: ExplainResult) -> bool:
        """Whether result answers what is asked for now."""
        return (
            self.enabled
            and self._entry is not None
            and result.path == self._entry.path
            and result.method == self.method
            and self.class_index in (None, result.label.index)
            and (not METHODS[self.method].needs_layer or self.layer in (None, result.layer))
        )

    def _on_explained(self, result: ExplainResult) -> None:
        self.task_done.emit(TASK, "")
        if not self._wanted(result):
            return
        self.result = result.with_opacity(self.opacity)
        self._show()
        self.result_changed.emit(self.result)

    def _on_cancelled(self, request: ExplainRequest) -> None:
        self.task_done.emit(TASK, "")
        if self._job is not None and self._job.request is request:  # the user's Cancel
            self._job = None
            self.status_changed.emit("Cancelled. Choose a class, method or layer to try again.")

    def _on_failed(self, error, details: str) -> None:
        self.task_done.emit(TASK, "")
        message = user_message(error)
        self.status_changed.emit(message)
        if not isinstance(error, ConvLensError):  # a bug, not a request that cannot be met
            self.failed.emit("Could not explain the prediction", message, details)

    def _forget(self) -> None:
        self.result = None
        self.overlay_cleared.emit()
        self.highlight_changed.emit(None)
        self.result_changed.emit(None)

    # -- drawing ---------------------------------------------------------------------------

    def _pixels(self) -> np.ndarray:
        result = self.result
        if self.network_view:
            return blend(result.network_input, result.heatmap, self.opacity)
        return result.overlay

    def _show(self) -> None:
        result = self.result
        text = describe(result)
        self.overlay_ready.emit(
            Shown(result.path, to_qimage(self._pixels()), text, self.network_view)
        )
        self.highlight_changed.emit(result.label.index)
        name = display_name(result.label)
        self.status_changed.emit(
            f"Bright: what made the model say “{name}”. Click a top-5 label for another class."
        )
