"""The window's runtime: ONNX Runtime or TensorFlow, the preference, and Export as ONNX.

Composes three things the main window shows: the Model → Runtime menu (remembered in the
settings), the status bar's "Runtime:" label (what answered the last photo, with the
reason in its tooltip when TensorFlow stands in), and File → Export model as ONNX….
With "ONNX Runtime when verified" the model answers on TensorFlow while it converts and
switches when the conversion is verified; with a conversion cached it answers without
TensorFlow, which is then loaded in the background once classification is idle.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu

from core.ops.backend import PrepareTensorFlowRequest
from core.ops.export_onnx import ExportOnnxRequest
from gui.widgets.error_dialog import user_message

STATUS_TEXT = {
    "onnx": "ONNX Runtime",
    "keras": "TensorFlow",
    "converting": "TensorFlow (converting for ONNX Runtime…)",
}
PREFERENCES = {"auto": "&ONNX Runtime when verified (faster)", "tf": "&TensorFlow only"}
SESSION_BACKEND = {"auto": "auto", "tf": "keras"}
EXPORT_TASK = "export-onnx"
# TensorFlow is imported once classification has been quiet this long, and the user has not
# scrolled the list or changed photo meanwhile. Importing it while photos are classified on
# ONNX Runtime stalled the window for up to 0.5 s, while the list scrolled (its thumbnails
# decoding) up to 117 ms: three busy threads on two cores (bench/gui_responsiveness.py).
# Alone it stays near 30 ms.
TENSORFLOW_AFTER_IDLE_MS = 1500


class Runtime(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.settings = window.settings
        self.preference = self.settings.backend
        self.session.backend = SESSION_BACKEND[self.preference]
        self.label = QLabel()
        self.label.setObjectName("runtime_label")
        window.statusBar().addPermanentWidget(self.label)
        self.status: str | None = None
        self.notice: str | None = None
        self.actions: dict[str, QAction] = {}
        self._tensorflow_asked = False
        self._tensorflow_timer = QTimer(self, singleShot=True, interval=TENSORFLOW_AFTER_IDLE_MS)
        self._tensorflow_timer.timeout.connect(self._prepare_tensorflow_when_idle)
        for busy in (
            window.image_pane.list.verticalScrollBar().valueChanged,
            self.session.current_image_changed,
        ):
            busy.connect(self._postpone_tensorflow)
        self.session.model_loaded.connect(self._on_session_model_loaded)
        self.session.image_classified.connect(self._on_session_image_classified)

    # -- preference ------------------------------------------------------------------------

    def add_menu(self, menu: QMenu) -> QMenu:
        """Model → Runtime, one checkable entry per preference."""
        submenu = menu.addMenu("&Runtime")
        group = QActionGroup(submenu)
        group.setExclusive(True)
        for value, text in PREFERENCES.items():
            action = QAction(text, submenu, checkable=True)
            action.setChecked(value == self.preference)
            action.triggered.connect(lambda _checked=False, v=value: self.set_preference(v))
            group.addAction(action)
            submenu.addAction(action)
            self.actions[value] = action
        return submenu

    def set_preference(self, value: str) -> None:
        """Remember it and load the current model again on that runtime."""
        self.actions[value].setChecked(True)
        if value == self.preference:
            return
        self.preference = self.settings.backend = value
        self.session.backend = SESSION_BACKEND[value]
        if self.session.last_load is not None:
            self.session.load_model(self.session.last_load)

    # -- what answered ---------------------------------------------------------------------

    def _on_session_model_loaded(self, info) -> None:
        self._tensorflow_asked = False
        self._tensorflow_timer.stop()
        self._show(info.backend, None)

    def _on_session_image_classified(self, result) -> None:
        self._show(result.backend, result.notice)
        if result.backend == "onnx" and not self._tensorflow_asked:
            # Answered without TensorFlow: bring it in for layers and explanations, once the
            # photos are classified (a layer asked for sooner loads it there and then).
            self._tensorflow_timer.start()

    def _postpone_tensorflow(self, *_args) -> None:
        if self._tensorflow_timer.isActive():
            self._tensorflow_timer.start()  # from now again

    def _prepare_tensorflow_when_idle(self) -> None:
        if self._tensorflow_asked:
            return
        if self.session.is_classifying():
            self._tensorflow_timer.start()
            return
        self._tensorflow_asked = True
        self.session.worker.run(PrepareTensorFlowRequest(), kind="prepare-tensorflow")

    def _show(self, status: str, notice: str | None) -> None:
        if (status, notice) == (self.status, self.notice):
            return
        if notice and notice != self.notice:
            self.window.statusBar().showMessage(notice, 15000)
        self.status, self.notice = status, notice
        self.label.setText(f"Runtime: {STATUS_TEXT.get(status, status)}")
        self.label.setToolTip(notice or "What runs the model (Model → Runtime)")

    # -- export ----------------------------------------------------------------------------

    def export_onnx(self) -> None:
        model = self.session.model
        if model is None:
            self.window.statusBar().showMessage("Wait until the model has loaded.", 5000)
            return
        suggested = Path(self.settings.last_export_dir) / f"{Path(model.name).stem}.onnx"
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export model as ONNX", str(suggested), "ONNX models (*.onnx)"
        )
        if not path:
            return
        path = Path(path) if path.lower().endswith(".onnx") else Path(f"{path}.onnx")
        self.settings.last_export_dir = str(path.parent)
        busy = self.session.task_busy
        self.session.worker.run(
            ExportOnnxRequest(path, overwrite=True),  # the dialog asked before replacing
            kind=EXPORT_TASK,
            on_done=self._on_export_done,
            on_error=self._on_export_failed,
            on_cancelled=lambda: self.session.task_done.emit(
                EXPORT_TASK, "ONNX export cancelled; no file was written"
            ),
            on_progress=lambda done, total, text: busy.emit(EXPORT_TASK, text, done, total),
        )
        busy.emit(EXPORT_TASK, f"Exporting {model.name} as ONNX…", 0, 0)

    def _on_export_done(self, result) -> None:
        size = result.size_bytes / 1e6
        self.session.task_done.emit(
            EXPORT_TASK,
            f"Exported {result.path.name} ({size:.1f} MB), checked against TensorFlow",
        )

    def _on_export_failed(self, error, details: str) -> None:
        self.session.task_done.emit(EXPORT_TASK, "ONNX export failed")
        self.session.failed.emit("ONNX export failed", user_message(error), details)
