"""The training window (Tools → Train a classifier…): transfer learning on labelled folders.

Left, the settings (gui.training_settings): a dataset folder, chosen or dropped, the base
model, head, freezing, two stages, augmentation and the training numbers. Right, the run:
live loss and accuracy curves, batch progress with time left, then the evaluation
(gui.training_results). All model work runs on the main window's worker; this window only
submits jobs (gui.training_jobs) and shows what comes back.

It talks to the main window through three signals, wired by ``show_for``: open an image
in the main view, a model file was saved (for the recent list), open a model.
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

from core.datasets import DatasetInfo
from core.errors import ConvLensError
from core.progress import CancelToken
from gui import training_jobs
from gui.error_dialog import show_error, user_message
from gui.layer_tree_view import LayerTreeView
from gui.training_plots import TrainingCurves
from gui.training_results import TrainingResults
from gui.training_settings import TrainingSettings


class TrainingWindow(QMainWindow):
    image_open_requested = Signal(str)  # a validation image to show in the main view
    model_saved = Signal(str)  # path of a .keras file just written
    model_open_requested = Signal(str)  # path of a .keras file to load in the main window
    dataset_listed = Signal(str)  # a dataset folder's classes are shown; its check has begun

    def __init__(self, worker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)  # its own window, even with a parent
        self.setWindowTitle("Train a classifier — ConvLens")
        self.setAcceptDrops(True)
        self.worker = worker
        self.dataset: DatasetInfo | None = None  # verified, or only listed until the scan ends
        self.result = None  # core.train_config.TrainResult of the last run
        self.saved_path: str | None = None
        self._jobs: dict[int, str] = {}  # job id -> what it does
        self._stop: CancelToken | None = None
        self._layers_key: tuple | None = None  # the base whose layers the tree shows
        self.lister = training_jobs.FolderLister(self)
        self.lister.listed.connect(self._on_lister_listed)

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

        worker.job_progressed.connect(self._on_worker_job_progressed)
        worker.partial_result.connect(self._on_worker_partial_result)
        worker.job_finished.connect(self._on_worker_job_finished)
        worker.job_failed.connect(self._on_worker_job_failed)
        worker.job_cancelled.connect(self._on_worker_job_cancelled)
        self._update_buttons()

    def _run_panel(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current batch, keeping the best epoch so far")
        self.stop_button.clicked.connect(self.stop)
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
        self.results.tabs.insertTab(0, self.layer_tree, "Base layers")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(self.results)
        layout.addWidget(split, 1)
        return panel

    # -- dataset ----------------------------------------------------------------------------

    def set_dataset(self, folder: str) -> None:
        """List a dataset folder off the GUI thread, then check its images on the worker."""
        folder = folder.strip()
        if not folder or (self.dataset and str(self.dataset.root) == folder):
            return
        self.dataset = None
        self.settings.show_dataset(folder, None, "Scanning…")
        self.lister.list(folder)

    def is_listing(self) -> bool:
        """A dataset folder is being listed (its classes are not shown yet)."""
        return self.lister.busy()

    def _on_lister_listed(self, folder: str, info: DatasetInfo | None, error) -> None:
        if error is not None:
            self.settings.show_dataset(folder, None, user_message(error))
            return
        self.dataset = info
        self.settings.show_dataset(folder, info, "Checking the images…")
        job = self.worker.submit("train-scan", training_jobs.scan(folder), model_bound=False)
        self._jobs[job.id] = "scan"
        self._update_buttons()
        self.dataset_listed.emit(folder)

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
        if mode == "choose":
            self._request_base_layers()
            self.results.tabs.setCurrentWidget(self.layer_tree)

    def _request_base_layers(self) -> None:
        """Show the chosen base's layers with freeze checkboxes (built on the worker)."""
        if self.settings.freeze_combo.currentData() != "choose":
            return
        options = self.settings.base_options()
        key = (options.model, options.weights, options.input_size)
        if key == self._layers_key:
            return
        self._layers_key = key
        self.layer_tree.clear()
        job = self.worker.submit(
            "train-layers", training_jobs.base_layers(options), model_bound=False
        )
        self._jobs[job.id] = "layers"

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
        self.result, self.saved_path = None, None
        self.curves.clear()
        self.results.show_result(None)
        self._stop = CancelToken()
        dataset = self.dataset if self.dataset.verified else None
        job = self.worker.submit(
            "train", training_jobs.train(config, self._stop, dataset), model_bound=False
        )
        self._jobs[job.id] = "train"
        self.progress_label.setText("Starting…")
        self.progress_bar.setRange(0, 0)
        self._update_buttons()

    def stop(self) -> None:
        """Stop after the current batch; the run still returns its best epoch."""
        if self._stop is not None:
            self._stop.cancel()
            self.progress_label.setText("Stopping after this batch…")

    def is_training(self) -> bool:
        return "train" in self._jobs.values()

    def save(self) -> None:
        self._write_result("Save the model", ".keras", "Keras model (*.keras)", "save")

    def export_tflite(self) -> None:
        self._write_result("Export TensorFlow Lite", ".tflite", "TFLite (*.tflite)", "tflite")

    def _write_result(self, title: str, suffix: str, file_filter: str, kind: str) -> None:
        """Ask where to write the trained model, then write it on the worker."""
        if self.result is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, title, self._suggested_name(suffix), file_filter
        )
        if not path:
            return
        path = path if path.lower().endswith(suffix) else path + suffix
        job_function = training_jobs.save if kind == "save" else training_jobs.export_tflite
        job = self.worker.submit(
            f"train-{kind}", job_function(self.result, path), model_bound=False
        )
        self._jobs[job.id] = kind

    def _suggested_name(self, suffix: str) -> str:
        root = Path(self.settings.folder_edit.text() or "classifier")
        return str(root.parent / f"{root.name}_classifier{suffix}")

    def _update_buttons(self) -> None:
        training = self.is_training()
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
        for job in self.worker.pending():
            if job.id in self._jobs:
                job.cancel()
        super().closeEvent(event)

    # -- worker results ---------------------------------------------------------------------

    def _on_worker_job_progressed(self, job, done: int, total: int, message: str) -> None:
        if job.id not in self._jobs:
            return
        self.progress_label.setText(message)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)

    def _on_worker_partial_result(self, job, payload) -> None:
        if self._jobs.get(job.id) != "train":
            return
        kind, log = payload
        if kind == "epoch":
            self.curves.add_epoch(log)
            return
        left = "" if log.seconds_left is None else f" — about {_duration(log.seconds_left)} left"
        stage = " (fine-tuning)" if log.stage == 2 else ""
        self.progress_label.setText(
            f"Epoch {log.epoch}/{log.epochs}{stage}, batch {log.batch}/{log.batches}{left}"
        )
        self.progress_bar.setRange(0, log.batches)
        self.progress_bar.setValue(log.batch)

    def _on_worker_job_finished(self, job, result) -> None:
        what = self._jobs.pop(job.id, None)
        if what == "scan":
            if self.dataset is not None and str(self.dataset.root) == str(result.root):
                self.dataset = result
                self.settings.show_dataset(str(result.root), result)
                self.progress_label.setText("Ready to train.")
        elif what == "train":
            self.result = result
            self.results.show_result(result)
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1)
            self.progress_label.setText(
                "Stopped: kept the best epoch." if result.cancelled else "Done."
            )
        elif what == "layers":
            self.layer_tree.set_layers(result)
            # Start from a frozen base: the user ticks what to train.
            state = self.layer_tree.trainable_state()
            self.layer_tree.set_trainable_state(dict.fromkeys(state, False))
            self.progress_label.setText("Tick the base layers to train (BatchNorm stays frozen).")
        elif what == "save":
            self.saved_path = str(result)
            self.progress_label.setText(f"Saved {result}")
            self.model_saved.emit(str(result))
        elif what == "tflite":
            self.progress_label.setText(f"Exported {result}")
        self._update_buttons()

    def _on_worker_job_failed(self, job, error, details: str) -> None:
        what = self._jobs.pop(job.id, None)
        if what is None:
            return
        if what == "layers":
            self._layers_key = None
        titles = {
            "layers": "Cannot build the base",
            "scan": "Cannot use this dataset",
            "train": "Training failed",
            "save": "Could not save the model",
            "tflite": "TensorFlow Lite export failed",
        }
        self.progress_label.setText(user_message(error))
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._update_buttons()
        show_error(self, titles[what], user_message(error), details)

    def _on_worker_job_cancelled(self, job) -> None:
        what = self._jobs.pop(job.id, None)
        if what is not None:
            self.progress_label.setText("Cancelled.")
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
            self._update_buttons()


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


def show_for(window) -> TrainingWindow:
    """Open (or raise) the training window of a gui.main_window.MainWindow."""
    view = getattr(window, "_training_window", None)
    if view is None:
        view = TrainingWindow(window.session.worker, window)
        view.image_open_requested.connect(lambda path: _open_image(window, path))
        view.model_saved.connect(lambda path: _remember_model(window, path))
        view.model_open_requested.connect(lambda path: _open_model(window, path))
        window._training_window = view
    view.show()
    view.raise_()
    view.activateWindow()
    return view


def _open_image(window, path: str) -> None:
    window.add_images([path])
    window.image_pane.select_path(path)
    window.raise_()
    window.activateWindow()


def _remember_model(window, path: str) -> None:
    window.settings.add_recent_model(path)
    window.model_selector.set_recent(window.settings.recent_models)


def _open_model(window, path: str) -> None:
    from gui.session import LoadRequest

    window.load_model(LoadRequest(path))
    window.raise_()
