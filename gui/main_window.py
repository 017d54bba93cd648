"""The main window: composes the widgets and wires them to the Session. It computes nothing.

Layout: the image pane on the left; the top-5 panel above the layer tree in the middle;
the activation view on the right; the model selector in the tool bar; what is running,
with a progress bar and Cancel, in the status bar.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow, QSplitter, QWidget

import gui.qt_compat  # noqa: F401  (before any emit: PySide6 6.12 refcount fix)
from core.errors import UnsafeModelError, WeightsUnavailableError
from core.images import IMAGE_SUFFIXES
from core.zoo import BUILTIN_NAME
from gui import about, model_dialogs
from gui.activation_view import ActivationView
from gui.error_dialog import show_error, user_message
from gui.export_dialog import SCOPE_SELECTED, ExportDialog
from gui.image_list import CANCELLED, DONE, FAILED
from gui.image_pane import ImagePane
from gui.jobs import PreprocessingNeeded
from gui.layer_tree_view import LayerTreeView
from gui.menus import build_menus
from gui.model_selector import ModelSelector
from gui.session import LoadRequest, Session, all_layer_paths
from gui.settings import Settings
from gui.task_status import TaskStatus
from gui.top5_panel import Top5Panel

SPLITTERS = ("main", "middle", "images")
# First-start layout of the main splitter: the image pane's share of the width; the layer
# pane gets its table's width within these bounds; the activation view the rest.
IMAGE_PANE_SHARE = 0.16
LAYER_PANE_MIN, LAYER_PANE_MAX_SHARE = 300, 0.43
ACTIVATION_PANE_MIN = 360
IMAGE_FILTER = "Images ({})".format(" ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)))


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, session: Session | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.session = session or Session(self)
        self.setWindowTitle("ConvLens")
        self.setAcceptDrops(True)

        self.model_selector = ModelSelector()
        self.model_selector.set_recent(self.settings.recent_models)
        self.image_pane = ImagePane(self.session.images, self.session.loader)
        self.top5 = Top5Panel()
        self.layer_tree = LayerTreeView()
        self.activation_view = ActivationView()
        self.task_status = TaskStatus()
        self.statusBar().addPermanentWidget(self.task_status, 1)

        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(self.top5)
        middle.addWidget(self.layer_tree)
        middle.setStretchFactor(1, 1)
        middle.setMinimumWidth(280)  # names, types and shapes of layers stay readable
        main = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.image_pane, middle, self.activation_view):
            main.addWidget(widget)
        main.setStretchFactor(2, 1)
        self._layout_pending = True  # first start: proportions are set once the size is known
        # Until the user drags the main splitter (or one was restored), the layer tree's pane
        # follows the width of the model's layer table.
        self._auto_layout = True
        main.splitterMoved.connect(self._on_main_splitter_moved)
        self.worker_stopped = False
        self.splitters = {"main": main, "middle": middle, "images": self.image_pane.splitter}
        self.setCentralWidget(main)

        self.actions = build_menus(self)
        self._wire()
        self._accept_drops_everywhere()
        self._restore_window()

    # -- start and close -------------------------------------------------------------------

    def start(self) -> None:
        """Load the last model used (the built-in one on first start) on the worker."""
        self.load_model(LoadRequest(self.settings.last_model or BUILTIN_NAME))

    def closeEvent(self, event: QCloseEvent) -> None:
        training = getattr(self, "_training_window", None)
        if training is not None and training.isVisible() and not training.close():
            event.ignore()  # the user chose to keep a training run going
            return
        self.settings.set_window_bytes("geometry", self.saveGeometry())
        self.settings.set_window_bytes("state", self.saveState())
        for name, splitter in self.splitters.items():
            self.settings.set_window_bytes(f"splitter/{name}", splitter.saveState())
        self.settings.sync()
        self.worker_stopped = self.session.shutdown(timeout_s=2.0)
        super().closeEvent(event)

    def _restore_window(self) -> None:
        geometry = self.settings.window_bytes("geometry")
        if geometry is None:
            self.resize(1440, 900)
        else:
            self.restoreGeometry(geometry)
        state = self.settings.window_bytes("state")
        if state is not None:
            self.restoreState(state)
        for name, splitter in self.splitters.items():
            saved = self.settings.window_bytes(f"splitter/{name}")
            if saved is not None:
                splitter.restoreState(saved)
                self._layout_pending = self._auto_layout = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._layout_pending:
            self._layout_pending = False
            width = self.splitters["main"].width() or self.width()
            images = int(width * IMAGE_PANE_SHARE)
            layers = self._layer_pane_width(width)
            self.splitters["main"].setSizes([images, layers, width - images - layers])
            self.splitters["middle"].setSizes([self.top5.sizeHint().height(), 10_000])
            height = self.image_pane.splitter.height() or self.height()
            self.image_pane.splitter.setSizes([int(height * 0.45), int(height * 0.55)])

    def _layer_pane_width(self, window_width: int) -> int:
        """Room for every column of the layer table, within a share of the window."""
        wanted = self.layer_tree.content_width()
        return max(LAYER_PANE_MIN, min(wanted, int(window_width * LAYER_PANE_MAX_SHARE)))

    def _fit_layer_pane(self) -> None:
        """Resize the layer pane to the loaded model's table, at the activation view's cost."""
        main = self.splitters["main"]
        if not self._auto_layout or not self.isVisible():
            return
        sizes = main.sizes()
        layers = self._layer_pane_width(sum(sizes))
        spare = sizes[1] + sizes[2] - layers
        if layers != sizes[1] and spare >= ACTIVATION_PANE_MIN:
            main.setSizes([sizes[0], layers, spare])

    def _on_main_splitter_moved(self) -> None:
        self._auto_layout = False

    def _wire(self) -> None:
        session = self.session
        self.model_selector.model_chosen.connect(lambda key: self.load_model(LoadRequest(key)))
        self.model_selector.open_file_requested.connect(self.open_model_file)
        self.image_pane.current_changed.connect(session.select_image)
        self.image_pane.remove_requested.connect(session.remove)
        self.image_pane.clear_requested.connect(session.clear)
        self.image_pane.open_requested.connect(self.open_images)
        self.layer_tree.layer_selected.connect(session.select_layer)
        self.task_status.cancel_requested.connect(session.cancel)
        session.model_loading.connect(self._on_session_model_loading)
        session.model_loaded.connect(self._on_session_model_loaded)
        session.model_load_failed.connect(self._on_session_model_load_failed)
        session.model_load_cancelled.connect(self._on_session_model_load_cancelled)
        session.current_image_changed.connect(self._on_session_current_image_changed)
        session.activations_ready.connect(
            lambda r: self.activation_view.show_activations(r.layer, r.maps, r.network_input)
        )
        session.activations_message.connect(self.activation_view.show_message)
        session.export_finished.connect(self._on_session_export_finished)
        session.failed.connect(lambda title, text, details: show_error(self, title, text, details))
        session.task_busy.connect(self.task_status.busy)
        session.task_done.connect(self.task_status.done)

    # -- drag and drop ---------------------------------------------------------------------

    def _accept_drops_everywhere(self) -> None:
        # Widgets that take drops themselves (pyqtgraph's views) would swallow a drop of
        # photos; we look at their drag events first, so a drop works anywhere on the window.
        for widget in self.findChildren(QWidget):
            if widget.acceptDrops():
                widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and _local_paths(event):
            event.acceptProposedAction()
            return True
        if kind == QEvent.Type.Drop and _local_paths(event):
            self.dropEvent(event)
            return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event) -> None:
        if _local_paths(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if _local_paths(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = _local_paths(event)
        if paths:
            event.acceptProposedAction()
            self.add_images(paths)

    # -- images ----------------------------------------------------------------------------

    def add_images(self, paths: list[str]) -> None:
        new = self.session.add_paths(paths)
        for path in paths:
            folder = path if Path(path).is_dir() else str(Path(path).parent)
            self.settings.add_recent_image_dir(folder)
        if not new:
            self.statusBar().showMessage("No new images found there.", 5000)
        elif self.image_pane.current_path() is None:
            self.image_pane.select_path(new[0])

    def open_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open images", self.settings.last_image_dir, f"{IMAGE_FILTER};;All files (*)"
        )
        if paths:
            self.add_images(paths)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open a folder of images", self.settings.last_image_dir
        )
        if folder:
            self.add_images([folder])

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime else []
        if paths:
            self.add_images(paths)
            return
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self.statusBar().showMessage("The clipboard holds no image.", 5000)
            return
        path = self.session.add_pasted_image(image)
        self.image_pane.select_path(path)

    def remove_selected_images(self) -> None:
        self.session.remove(self.image_pane.selected_paths())

    def toggle_network_view(self, checked: bool) -> None:
        self.image_pane.network_toggle.setChecked(checked)

    def copy_predictions(self) -> None:
        self.top5.copy()
        if self.top5.labels():
            self.statusBar().showMessage("Predictions copied.", 3000)

    # -- model -----------------------------------------------------------------------------

    def load_model(self, request: LoadRequest) -> None:
        self.session.load_model(request)

    def open_model_file(self) -> None:
        start = (
            str(Path(self.settings.recent_models[0]).parent) if self.settings.recent_models else ""
        )
        path = model_dialogs.ask_model_file(self, start or self.settings.last_image_dir)
        if path:
            self.load_model(LoadRequest(path))

    def _on_session_model_loading(self, request: LoadRequest) -> None:
        self.model_selector.set_current(request.key)

    def _on_session_model_loaded(self, info) -> None:
        self.setWindowTitle(f"ConvLens — {info.name}")
        self.settings.last_model = info.key
        if info.source == "file":
            self.settings.add_recent_model(info.key)
            self.model_selector.set_recent(self.settings.recent_models)
        self.model_selector.rebuild()  # newly downloaded weights now show as cached
        self.model_selector.set_current(info.key)
        self.image_pane.set_network_input(info.input_size, info.resize_mode)
        selected = self.layer_tree.selected_layer()
        self.layer_tree.set_layers(info.layers)
        self._fit_layer_pane()
        if selected and selected in all_layer_paths(info.layers):
            self.layer_tree.select_layer(selected)
        self._on_session_current_image_changed(self.session.current_entry())
        for note in info.notes:
            self.statusBar().showMessage(note, 10000)

    def _on_session_model_load_failed(self, request: LoadRequest, error, details: str) -> None:
        retry = None
        if isinstance(error, WeightsUnavailableError):
            action = model_dialogs.ask_weights_action(self, request.display_name, error)
            if action == model_dialogs.RETRY:
                retry = request
            elif action == model_dialogs.CHOOSE_FILE:
                path = model_dialogs.ask_weights_file(self, error.folder)
                retry = request.with_options(weights=path) if path else None
            elif action == model_dialogs.RANDOM:
                retry = request.with_options(weights="random")
        elif isinstance(error, PreprocessingNeeded):
            mode = model_dialogs.ask_preprocessing(self, request.display_name, str(error))
            retry = request.with_options(preprocess=mode) if mode else None
        elif isinstance(error, UnsafeModelError):
            retry = (
                request.with_options(trust=True)
                if model_dialogs.ask_trust(self, str(error))
                else None
            )
        else:
            show_error(self, f"Could not load {request.display_name}", user_message(error), details)
        if retry is not None:
            self.load_model(retry)
        else:
            self._keep_current_model(request)

    def _on_session_model_load_cancelled(self, request: LoadRequest) -> None:
        self._keep_current_model(request)

    def _keep_current_model(self, failed: LoadRequest) -> None:
        model = self.session.model
        self.model_selector.set_current(model.key if model else None)
        if model is None and failed.key != BUILTIN_NAME and not self.session.is_loading():
            # Nothing usable is loaded (e.g. the last model's file is gone): fall back to the
            # built-in model rather than leave an empty window.
            self.load_model(LoadRequest(BUILTIN_NAME))

    # -- predictions -----------------------------------------------------------------------

    def _on_session_current_image_changed(self, entry) -> None:
        model = self.session.model
        if entry is None:
            self.top5.show_message("Select an image to see what the model thinks it is.")
        elif entry.state == DONE and entry.labels:
            self.top5.set_predictions(entry.name, model.name if model else "", entry.labels)
        elif entry.state == DONE:
            self.top5.show_message(
                "This model has no classifier head: look at its layers instead.", entry.name
            )
        elif entry.state == FAILED:
            self.top5.show_message(f"This image could not be read: {entry.error}", entry.name)
        elif entry.state == CANCELLED:
            self.top5.show_message("Not classified: cancelled. F5 classifies it.", entry.name)
        else:
            text = "Classifying…" if model is not None else "Waiting for the model to load…"
            self.top5.show_message(text, entry.name)

    # -- export ----------------------------------------------------------------------------

    def export_features(self) -> None:
        model, paths = self.session.model, self.session.images.paths()
        if model is None or not paths:
            self.statusBar().showMessage(
                "Add images first." if model else "Wait until the model has loaded.", 5000
            )
            return
        current = self.image_pane.current_path()
        dialog = ExportDialog(
            self,
            layers=all_layer_paths(model.layers),
            default_layer=model.default_feature_layer,
            image_count=len(paths),
            has_selection=current is not None,
            start_dir=self.settings.last_export_dir,
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        options = dialog.values()
        self.settings.last_export_dir = str(options.path.parent)
        chosen = [current] if options.scope == SCOPE_SELECTED and current else paths
        self.session.export_features(
            chosen, options.layer, options.pooling, options.path, options.overwrite
        )

    def _on_session_export_finished(self, result) -> None:
        if result.failed:
            details = "\n".join(f"{path}: {reason}" for path, reason in result.failed)
            show_error(
                self,
                "Some images were skipped",
                f"Wrote {result.count} vectors to {result.path}; {len(result.failed)} images "
                "could not be read and were skipped.",
                details,
            )

    def export_activation_png(self) -> None:
        if not self.activation_view.has_grid():
            self.statusBar().showMessage("Select a convolutional layer first.", 5000)
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export activation grid", self.settings.last_export_dir, "PNG image (*.png)"
        )
        if not path:
            return
        path = path if path.lower().endswith(".png") else path + ".png"
        try:
            self.activation_view.export_png(path)
        except Exception as error:  # a full disk, a read-only folder…
            show_error(self, "Export failed", user_message(error))
            return
        self.settings.last_export_dir = str(Path(path).parent)
        self.statusBar().showMessage(f"Saved {path}", 5000)

    # -- help ------------------------------------------------------------------------------

    def show_about(self) -> None:
        about.show_about(self, self.session.versions)

    def show_shortcuts(self) -> None:
        about.show_shortcuts(self)


def _local_paths(event) -> list[str]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
