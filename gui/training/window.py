"""The training window (Tools → Train a classifier…): transfer learning on labelled folders.

Left, the settings (gui.training.settings_form): a dataset folder, chosen or dropped, the base
model, head, freezing, two stages, augmentation and the training numbers. Right, the run:
live loss and accuracy curves, batch progress with time left, then the evaluation
(gui.training.results). All model work runs on the main window's worker. The window only
holds widgets; its TrainingController (gui.training.controller) keeps the state and runs the
requests, as the main window's Session does.

It talks to the main window through three signals, which the main window wires: open an
image in the main view, a model file was saved (for the recent list), open a model.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.errors import ConvLensError
from core.training.datasets import DatasetInfo
from gui.app.settings import Settings
from gui.training.controller import TrainingController
from gui.training.plots import TrainingCurves
from gui.training.results import TrainingResults
from gui.training.settings_form import TrainingSettings
from gui.widgets.error_dialog import show_error
from gui.widgets.layer_tree_view import LayerTreeView

SAVE, DISCARD = "save", "discard"
SPLIT_NAMES = {"train", "training"}  # a train/val layout's training folder
BASE_LAYERS_HINT = (
    "To pick which base layers train, set Freezing to “Choose in the base's layer tree”: "
    "the base's layers then show here with a checkbox each."
)


class TrainingWindow(QMainWindow):
    image_open_requested = Signal(str)  # a validation image to show in the main view
    model_saved = Signal(str)  # path of a .keras file just written
    model_open_requested = Signal(str)  # path of a .keras file to load in the main window

    def __init__(self, worker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)  # its own window, even with a parent
        self.setWindowTitle("Train a classifier — ConvLens")
        self.setAcceptDrops(True)
        self.controller = TrainingController(worker, self)
        self.worker = worker
        self.app_settings = Settings()
        self._close_after_save = False
        self._discarded = None  # the result the user chose to discard

        self.settings = TrainingSettings()
        self.settings.dataset_requested.connect(self.set_dataset)
        self.settings.base_changed.connect(self._request_base_layers)
        self.settings.freeze_mode_changed.connect(self._on_settings_freeze_mode_changed)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.settings)
        splitter.addWidget(self._run_panel())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([470, 900])
        self.setCentralWidget(splitter)
        self.resize(1280, 860)
        self._wire()
        self._update_buttons()

    # The controller holds the state; these read it for the window's users and tests.
    @property
    def dataset(self) -> DatasetInfo | None:
        return self.controller.dataset

    @property
    def result(self):
        return self.controller.result

    @property
    def saved_path(self) -> str | None:
        return self.controller.saved_path

    @property
    def dataset_listed(self):
        return self.controller.dataset_listed

    def is_listing(self) -> bool:
        return self.controller.is_listing()

    def is_training(self) -> bool:
        return self.controller.is_training()

    def _wire(self) -> None:
        c = self.controller
        c.dataset_shown.connect(self.settings.show_dataset)
        c.status.connect(self.progress_label.setText)
        c.progressed.connect(self._on_controller_progressed)
        c.epoch_logged.connect(self.curves.add_epoch)
        c.batch_logged.connect(self._on_controller_batch_logged)
        c.trained.connect(self.results.show_result)
        c.base_layers_ready.connect(self._on_controller_base_layers_ready)
        c.saved.connect(self._on_controller_saved)
        c.failed.connect(self._on_controller_failed)
        c.busy_changed.connect(self._update_buttons)

    def _run_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch, keeping the best epoch so far")
        self.stop_button.clicked.connect(self.controller.stop)
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(self.save)
        self.tflite_button = QPushButton("Export TFLite…")
        self.tflite_button.clicked.connect(self.export_tflite)
        self.open_button = QPushButton("Open in ConvLens")
        self.open_button.setToolTip("Load the saved model in the main window")
        self.open_button.clicked.connect(lambda: self.model_open_requested.emit(self.saved_path))
        for button in (
            self.start_button,
            self.stop_button,
            self.save_button,
            self.tflite_button,
            self.open_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.progress_label = QLabel("Choose a dataset, then Start.")
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress_bar)
        self.curves = TrainingCurves()
        self.results = TrainingResults()
        self.results.image_clicked.connect(self.image_open_requested)
        self.layer_tree = LayerTreeView()
        self.layer_tree.set_trainable_editable(True)
        self.layer_tree.add_shortcut(self)
        self.base_layers_hint = QLabel(BASE_LAYERS_HINT, wordWrap=True)
        self.base_layers_hint.setStyleSheet("color: palette(placeholder-text); padding: 8px;")
        self.base_layers_page = QWidget()
        page = QVBoxLayout(self.base_layers_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addWidget(self.base_layers_hint)
        page.addWidget(self.layer_tree, 1)
        self.layer_tree.hide()
        self.results.tabs.insertTab(0, self.base_layers_page, "Base layers")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(self.results)
        layout.addWidget(split, 1)
        return panel

    # -- dataset ----------------------------------------------------------------------------

    def set_dataset(self, folder: str) -> None:
        self.controller.set_dataset(folder)

    def dragEnterEvent(self, event) -> None:
        if _dropped_folder(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        folder = _dropped_folder(event)
        if folder:
            event.acceptProposedAction()
            self.set_dataset(folder)

    # -- choosing layers --------------------------------------------------------------------

    def _on_settings_freeze_mode_changed(self, mode: str) -> None:
        choosing = mode == "choose"
        self.layer_tree.setVisible(choosing)
        self.base_layers_hint.setText(
            "Building the base's layers…" if choosing else BASE_LAYERS_HINT
        )
        self.base_layers_hint.setVisible(not choosing or not self.layer_tree.trainable_state())
        if choosing:
            self._request_base_layers()
            self.results.tabs.setCurrentWidget(self.base_layers_page)

    def _request_base_layers(self) -> None:
        """Show the chosen base's layers with freeze checkboxes (built on the worker)."""
        if self.settings.freeze_combo.currentData() != "choose":
            return
        self.layer_tree.clear()
        self.controller.request_base_layers(self.settings.base_options())

    def _on_controller_base_layers_ready(self, layers: list) -> None:
        self.base_layers_hint.hide()
        self.layer_tree.set_layers(layers)
        # Start from a frozen base: the user ticks what to train.
        state = self.layer_tree.trainable_state()
        self.layer_tree.set_trainable_state(dict.fromkeys(state, False))

    def _chosen_layers(self) -> tuple[str, ...]:
        state = self.layer_tree.trainable_state()
        return tuple(path for path, trainable in state.items() if trainable)

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        if self.dataset is None:
            waiting = "Wait until the folder is scanned." if self.is_listing() else None
            self.progress_label.setText(waiting or "Choose a dataset folder first.")
            return
        try:
            config = self.settings.config(self._chosen_layers())
        except ConvLensError as error:
            self.progress_label.setText(str(error))
            return
        self.curves.clear()
        self.controller.start(config)

    def stop(self) -> None:
        self.controller.stop()

    def save(self) -> None:
        path = self._ask_path("Save the model", ".keras", "Keras model (*.keras)")
        if path:
            self.controller.save(path)

    def export_tflite(self) -> None:
        path = self._ask_path("Export TensorFlow Lite", ".tflite", "TFLite (*.tflite)")
        if path:
            self.controller.export_tflite(path)

    def _ask_path(self, title: str, suffix: str, file_filter: str) -> str | None:
        """Where to write the trained model, with the suffix added if the user left it out."""
        if self.result is None:
            return None
        path, _ = QFileDialog.getSaveFileName(
            self, title, self._suggested_name(suffix), file_filter
        )
        if not path:
            return None
        self.app_settings.last_model_save_dir = str(Path(path).parent)
        return path if path.lower().endswith(suffix) else path + suffix

    def _suggested_name(self, suffix: str) -> str:
        """The dataset's name in the folder of the last save (a dataset folder is often
        read-only, and "train" names the layout, not the data)."""
        root = Path(self.settings.folder_edit.text() or "classifier")
        name = (
            root.parent.name if root.name.lower() in SPLIT_NAMES and root.parent.name else root.name
        )
        return str(Path(self.app_settings.last_model_save_dir) / f"{name}{suffix}")

    def _update_buttons(self) -> None:
        training = self.is_training()
        if not self.controller.has_jobs() and self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, 1)  # no "busy" stripes while nothing runs
            self.progress_bar.setValue(0)
        self.start_button.setEnabled(not training)
        self.stop_button.setEnabled(training)
        self.save_button.setEnabled(self.result is not None and not training)
        self.tflite_button.setEnabled(self.result is not None and not training)
        self.open_button.setEnabled(self.saved_path is not None)

    def closeEvent(self, event) -> None:
        # Closing the window abandons a run (nothing would show or save its result): a
        # run may be minutes of work, so ask first.
        if self.is_training() and not ask_stop_training(self):
            event.ignore()
            return
        unsaved = self.controller.unsaved() and self.result is not self._discarded
        if not self.is_training() and unsaved and not self._keep_or_discard():
            event.ignore()
            return
        self.controller.cancel_all()
        super().closeEvent(event)

    def _keep_or_discard(self) -> bool:
        """Ask about the unsaved model: True to close now (discarded); False to stay open
        (cancelled, or saving first: the window closes once the file is written)."""
        answer = ask_unsaved_model(self)
        if answer == DISCARD:
            self._discarded = self.result  # asked once: closing again does not ask
            return True
        if answer == SAVE:
            path = self._ask_path("Save the model", ".keras", "Keras model (*.keras)")
            if path:
                self._close_after_save = True
                self.controller.save(path)
        return False

    def _on_controller_saved(self, path: str) -> None:
        self.model_saved.emit(path)
        if self._close_after_save:
            self._close_after_save = False
            self.close()

    # -- what the controller reports --------------------------------------------------------

    def _on_controller_failed(self, title: str, text: str, details: str) -> None:
        self._close_after_save = False  # a failed save keeps the window (and the model)
        show_error(self, title, text, details)

    def _on_controller_progressed(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)

    def _on_controller_batch_logged(self, log) -> None:
        left = "" if log.seconds_left is None else f" — about {_duration(log.seconds_left)} left"
        stage = " (fine-tuning)" if log.stage == 2 else ""
        self.progress_label.setText(
            f"Epoch {log.epoch}/{log.epochs}{stage}, batch {log.batch}/{log.batches}{left}"
        )
        self.progress_bar.setRange(0, log.batches)
        self.progress_bar.setValue(log.batch)


def ask_unsaved_model(parent: QWidget) -> str | None:
    """Save, Discard or None (Cancel) for a trained model that is not saved yet."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Save the trained model?",
        "The classifier you trained is not saved. Closing discards it.",
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    answer = box.exec()
    box.deleteLater()
    return {QMessageBox.StandardButton.Save: SAVE, QMessageBox.StandardButton.Discard: DISCARD}.get(
        QMessageBox.StandardButton(answer)
    )


def stop_training_box(parent: QWidget) -> QMessageBox:
    """The question asked when the window is closed during a run; Keep training is default."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Training is running",
        "Closing this window stops the training and discards the model. Stop and close?",
        parent=parent,
    )
    box.setInformativeText(
        "To keep the best epoch so far instead, choose Keep training, press Stop, then Save."
    )
    stop = box.addButton("Stop and close", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep training", QMessageBox.ButtonRole.RejectRole)
    stop.setObjectName("stop")
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    return box


def ask_stop_training(parent: QWidget) -> bool:
    """True if the user chooses to stop the run and close the window."""
    box = stop_training_box(parent)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    return clicked is not None and clicked.objectName() == "stop"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _dropped_folder(event) -> str | None:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return None
    folders = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    folders = [f for f in folders if Path(f).is_dir()]
    return folders[0] if folders else None
