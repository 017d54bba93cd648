"""The main window: composes the widgets and wires them to the Session. It computes nothing.

Layout: the image pane on the left; the top-5 panel above the layer tree in the middle;
the activation view on the right; the model selector in the tool bar; what is running,
with a progress bar and Cancel, in the status bar.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEvent
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow, QWidget

import gui.app.qt_compat  # noqa: F401  (before any emit: PySide6 6.12 refcount fix)
from core.errors import UnsafeModelError, WeightsUnavailableError
from core.io.images import IMAGE_SUFFIXES
from core.models.zoo import BUILTIN_NAME
from core.ops.load import LoadModelRequest, PreprocessingNeeded
from gui.app.settings import Settings
from gui.main import about, model_dialogs
from gui.main.explaining import Explaining
from gui.main.exploring import Exploring
from gui.main.from_training import TrainedImageOpener
from gui.main.layer_paths import all_layer_paths
from gui.main.layout import WindowLayout
from gui.main.menus import build_menus
from gui.main.runtime import Runtime
from gui.main.save_png import save_png
from gui.main.session import Session
from gui.main.task_status import TaskStatus
from gui.training.window import TrainingWindow
from gui.widgets.activation_view import ActivationView
from gui.widgets.error_dialog import show_error, user_message
from gui.widgets.export_dialog import SCOPE_SELECTED, ExportDialog
from gui.widgets.image_list import CANCELLED, DONE, FAILED
from gui.widgets.image_pane import ImagePane
from gui.widgets.layer_tree_view import LayerTreeView
from gui.widgets.model_selector import RANDOM_BADGE, ModelSelector
from gui.widgets.top5_panel import Top5Panel, top5_warning

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
        self.runtime = Runtime(self)  # ONNX Runtime or TensorFlow: preference, status, export

        self.worker_stopped = False
        self.training_window: TrainingWindow | None = None  # made when first opened
        self.panes = WindowLayout(self)
        self.splitters = self.panes.splitters
        self.explaining = Explaining(self)  # the Explain overlay, its controls and Compare
        self.exploring = Exploring(self)  # the Feature map dock
        self.trained_images = TrainedImageOpener(self)  # training mistakes, with their model

        self.actions = build_menus(self)
        self._wire()
        self._accept_drops_everywhere()
        self.panes.restore(self.settings)

    # -- start and close -------------------------------------------------------------------

    def start(self) -> None:
        """Load the last model used (the built-in one on first start) on the worker."""
        self.load_model(LoadModelRequest(self.settings.last_model or BUILTIN_NAME))

    def closeEvent(self, event: QCloseEvent) -> None:
        training = self.training_window
        if training is not None and training.isVisible() and not training.close():
            event.ignore()  # the user chose to keep a training run going
            return
        self.explaining.close()
        self.exploring.close()
        self.panes.save(self.settings)
        self.settings.sync()
        self.worker_stopped = self.session.shutdown(timeout_s=2.0)
        super().closeEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.panes.first_show()

    def _wire(self) -> None:
        session = self.session
        self.model_selector.model_chosen.connect(lambda key: self.load_model(LoadModelRequest(key)))
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
        session.images_added.connect(self._on_session_images_added)
        session.nothing_added.connect(
            lambda: self.statusBar().showMessage("No new images found there.", 5000)
        )

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
        """Files are listed at once, folders in the background (images_added, nothing_added)."""
        self.session.add_paths(paths)
        for path in paths:
            folder = path if Path(path).is_dir() else str(Path(path).parent)
            self.settings.add_recent_image_dir(folder)

    def _on_session_images_added(self, new: list[str]) -> None:
        if self.image_pane.current_path() is None:
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

    def load_model(self, request: LoadModelRequest) -> None:
        self.session.load_model(self.model_options.apply(request))  # resize, input size

    def open_model_file(self) -> None:
        start = (
            str(Path(self.settings.recent_models[0]).parent) if self.settings.recent_models else ""
        )
        path = model_dialogs.ask_model_file(self, start or self.settings.last_image_dir)
        if path:
            self.load_model(LoadModelRequest(path))

    def _on_session_model_loading(self, request: LoadModelRequest) -> None:
        self.model_selector.set_current(request.key)

    def _on_session_model_loaded(self, info) -> None:
        badge = f"  ·  {RANDOM_BADGE}" if info.random_weights else ""
        self.setWindowTitle(f"ConvLens — {info.name}{badge}")
        if info.source != "trained":  # an unsaved classifier cannot be loaded next time
            self.settings.last_model = info.key
        if info.source == "file":
            self.settings.add_recent_model(info.key)
        # Rebuilt: newly downloaded weights show as cached, entries that failed are gone.
        self.model_selector.set_recent(self.settings.recent_models)
        self.model_selector.set_current(info.key, info.random_weights)
        self.image_pane.set_network_input(info.input_size, info.resize_mode)
        names = [name.replace("_", " ") for name in info.class_names]
        self.activation_view.set_class_names(info.layers[-1]["path"] if names else None, names)
        selected = self.layer_tree.selected_layer()
        self.layer_tree.set_layers(info.layers)
        self.panes.fit_layer_pane()
        if selected and selected in all_layer_paths(info.layers):
            self.layer_tree.select_layer(selected)
        self._on_session_current_image_changed(self.session.current_entry())
        for note in info.notes:
            self.statusBar().showMessage(note, 10000)

    def _on_session_model_load_failed(self, request: LoadModelRequest, error, details: str) -> None:
        retry = None
        if isinstance(error, WeightsUnavailableError):
            action = model_dialogs.ask_weights_action(self, request.display_name, error)
            if action == model_dialogs.RETRY:
                retry = request
            elif action == model_dialogs.CHOOSE_FILE:
                path = model_dialogs.ask_weights_file(self, error.folder)
                retry = replace(request, weights=path) if path else None
            elif action == model_dialogs.RANDOM:
                retry = replace(request, weights="random")
        elif isinstance(error, PreprocessingNeeded):
            mode = model_dialogs.ask_preprocessing(self, request.display_name, str(error))
            retry = replace(request, preprocess=mode) if mode else None
        elif isinstance(error, UnsafeModelError):
            retry = (
                replace(request, trust=True) if model_dialogs.ask_trust(self, str(error)) else None
            )
        else:
            show_error(self, f"Could not load {request.display_name}", user_message(error), details)
        if retry is not None:
            self.load_model(retry)
        else:
            self._keep_current_model(request)

    def _on_session_model_load_cancelled(self, request: LoadModelRequest) -> None:
        self._keep_current_model(request)

    def _keep_current_model(self, failed: LoadModelRequest) -> None:
        model = self.session.model
        # A file that failed to load is not a recent model: the list is the settings' again.
        self.model_selector.set_recent(self.settings.recent_models)
        self.model_selector.set_current(
            model.key if model else None, bool(model and model.random_weights)
        )
        if model is None and failed.key != BUILTIN_NAME and not self.session.is_loading():
            # Nothing usable is loaded (e.g. the last model's file is gone): fall back to the
            # built-in model rather than leave an empty window.
            self.load_model(LoadModelRequest(BUILTIN_NAME))

    # -- predictions -----------------------------------------------------------------------

    def _on_session_current_image_changed(self, entry) -> None:
        model = self.session.model
        if entry is None:
            self.top5.show_message("Select an image to see what the model thinks it is.")
        elif entry.state == DONE and entry.labels:
            self.top5.set_predictions(
                entry.name, model.name if model else "", entry.labels, top5_warning(model)
            )
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
            default_format=self.settings.export_suffix or ".npz",
            suggested_name="features",
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        options = dialog.values()
        self.settings.last_export_dir = str(options.path.parent)
        self.settings.export_suffix = options.format
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
        save_png(self, "Export activation grid", self.activation_view.export_png, "Export failed")

    # -- training ----------------------------------------------------------------------------

    def show_training(self) -> TrainingWindow:
        """Open (or raise) the training window; it shares this window's worker."""
        if self.training_window is None:
            view = TrainingWindow(self.session.worker, self)
            view.image_open_requested.connect(self._on_training_image_open_requested)
            view.model_saved.connect(self._on_training_model_saved)
            view.model_open_requested.connect(self._on_training_model_open_requested)
            self.training_window = view
        view = self.training_window
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def _on_training_image_open_requested(self, path: str) -> None:
        self.trained_images.open(path, self.training_window.result)

    def _on_training_model_saved(self, path: str) -> None:
        self.settings.add_recent_model(path)
        self.model_selector.set_recent(self.settings.recent_models)

    def _on_training_model_open_requested(self, path: str) -> None:
        self.load_model(LoadModelRequest(path))
        self.raise_()

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
