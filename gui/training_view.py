"""The training window (Tools → Train a classifier…): transfer learning on labelled folders.

Left, the choices: a dataset folder (chosen or dropped; class counts, warnings, unreadable
images), the base model and input size, the head, freezing, two-stage fine-tuning,
augmentation and the training numbers. Right, the run: live loss and accuracy curves,
batch progress with time left, then the evaluation (confusion matrix, per-class precision
and recall, misclassified images). All model work runs on the main window's worker; this
window only submits jobs (gui.training_jobs) and shows what comes back.

It talks to the main window through three signals, wired by ``show_for``: open an image
in the main view, a model file was saved (for the recent list), open a model.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.datasets import DatasetInfo, scan_dataset
from core.errors import ConvLensError
from core.progress import CancelToken
from core.train_config import AUGMENTATIONS, HEADS, TrainConfig
from core.zoo import BUILTIN_NAME, ZOO
from gui import training_jobs
from gui.error_dialog import show_error, user_message
from gui.layer_tree_view import LayerTreeView
from gui.training_plots import ConfusionMatrix, TrainingCurves

FREEZE_CHOICES = [
    ("all", "Freeze the whole base (fastest)"),
    ("none", "Train the whole base"),
    ("up-to", "Freeze up to the layer:"),
    ("choose", "Choose in the base's layer tree"),
]
THUMBNAIL = QSize(48, 48)
MAX_MISCLASSIFIED_SHOWN = 200


def _spin(low, high, value, step=1, special=None) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    if special:
        box.setSpecialValueText(special)
    return box


def _double(low, high, value, step, decimals) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    return box


class TrainingWindow(QMainWindow):
    image_open_requested = Signal(str)  # a validation image to show in the main view
    model_saved = Signal(str)  # path of a .keras file just written
    model_open_requested = Signal(str)  # path of a .keras file to load in the main window

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

        settings = QWidget()
        form = QVBoxLayout(settings)
        form.addWidget(self._dataset_group())
        form.addWidget(self._model_group())
        form.addWidget(self._training_group())
        form.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(380)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
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

    # -- building ---------------------------------------------------------------------------

    def _dataset_group(self) -> QGroupBox:
        box = QGroupBox("Dataset: one subfolder of images per class")
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("Choose or drop a folder…")
        self.folder_edit.editingFinished.connect(lambda: self.set_dataset(self.folder_edit.text()))
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_dataset)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(choose)
        layout.addLayout(row)
        self.class_table = QTableWidget(0, 2)
        self.class_table.setHorizontalHeaderLabels(["class", "images"])
        self.class_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.class_table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.class_table.verticalHeader().hide()
        self.class_table.setMaximumHeight(150)
        layout.addWidget(self.class_table)
        self.dataset_status = QLabel("No dataset chosen.")
        self.dataset_status.setWordWrap(True)
        layout.addWidget(self.dataset_status)
        self.unreadable_list = QListWidget()
        self.unreadable_list.setMaximumHeight(80)
        self.unreadable_list.hide()
        layout.addWidget(self.unreadable_list)
        validation = QFormLayout()
        self.val_split = _double(0.05, 0.5, 0.2, 0.05, 2)
        validation.addRow("Validation share", self.val_split)
        val_row = QHBoxLayout()
        self.val_dir_edit = QLineEdit()
        self.val_dir_edit.setPlaceholderText("(optional) a separate validation folder")
        val_choose = QPushButton("…")
        val_choose.clicked.connect(self._choose_val_dir)
        val_row.addWidget(self.val_dir_edit, 1)
        val_row.addWidget(val_choose)
        validation.addRow("or folder", val_row)
        layout.addLayout(validation)
        return box

    def _model_group(self) -> QGroupBox:
        box = QGroupBox("Model")
        form = QFormLayout(box)
        self.model_combo = QComboBox()
        for spec in ZOO.values():
            self.model_combo.addItem(spec.name, spec.name)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_file = QPushButton("File…")
        model_file.setToolTip("Use a .keras/.h5 model of your own as the base")
        model_file.clicked.connect(self._choose_model_file)
        model_row.addWidget(model_file)
        form.addRow("Base", model_row)
        self.weights_combo = QComboBox()
        self.weights_combo.addItem("pretrained (ImageNet)", "imagenet")
        self.weights_combo.addItem("random (no transfer)", "none")
        form.addRow("Weights", self.weights_combo)
        self.input_size = _spin(0, 1024, 0, 32, special="the base's own")
        form.addRow("Input size", self.input_size)
        self.head_combo = QComboBox()
        for key, text in HEADS.items():
            self.head_combo.addItem(text, key)
        form.addRow("Head pooling", self.head_combo)
        self.dense_units = _spin(0, 4096, 0, 64, special="none")
        form.addRow("Hidden Dense units", self.dense_units)
        self.dropout = _double(0.0, 0.9, 0.2, 0.05, 2)
        form.addRow("Dropout", self.dropout)
        self.freeze_combo = QComboBox()
        for key, text in FREEZE_CHOICES:
            self.freeze_combo.addItem(text, key)
        self.freeze_layer = QLineEdit()
        self.freeze_layer.setPlaceholderText("layer name, e.g. block6a_expand_conv")
        self.freeze_combo.currentIndexChanged.connect(self._on_freeze_combo_changed)
        self.model_combo.currentIndexChanged.connect(self._request_base_layers)
        self.weights_combo.currentIndexChanged.connect(self._request_base_layers)
        self.input_size.editingFinished.connect(self._request_base_layers)
        form.addRow("Freezing", self.freeze_combo)
        form.addRow("", self.freeze_layer)
        stage = QHBoxLayout()
        self.two_stage = QCheckBox("then fine-tune the top")
        self.fine_tune_top = _spin(1, 1000, 20)
        self.fine_tune_epochs = _spin(1, 1000, 5)
        stage.addWidget(self.two_stage)
        stage.addWidget(self.fine_tune_top)
        stage.addWidget(QLabel("layers"))
        stage.addStretch(1)
        self.two_stage.toggled.connect(self._update_buttons)
        form.addRow("Two stages", stage)
        form.addRow("Fine-tuning epochs (lr/10)", self.fine_tune_epochs)
        augment = QGridLayout()
        self.augment_boxes = {}
        for i, (name, tip) in enumerate(AUGMENTATIONS.items()):
            check = QCheckBox(name)
            check.setToolTip(tip)
            augment.addWidget(check, i // 2, i % 2)
            self.augment_boxes[name] = check
        form.addRow("Augmentation", augment)
        for combo in (self.model_combo, self.weights_combo, self.head_combo, self.freeze_combo):
            # Long entries must not widen the whole settings column; the list shows them.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(16)
        return box

    def _training_group(self) -> QGroupBox:
        box = QGroupBox("Training")
        form = QFormLayout(box)
        self.epochs = _spin(1, 1000, 10)
        form.addRow("Epochs", self.epochs)
        self.lr = _double(1e-6, 1.0, 1e-3, 1e-4, 6)
        form.addRow("Learning rate", self.lr)
        self.batch_size = _spin(1, 1024, 32)
        form.addRow("Batch size", self.batch_size)
        self.patience = _spin(0, 100, 3, special="off")
        self.patience.setToolTip("Stop after this many epochs without a better validation loss")
        form.addRow("Early stopping patience", self.patience)
        self.seed = _spin(0, 2**31 - 1, 0)
        form.addRow("Seed", self.seed)
        return box

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
        self.confusion = ConfusionMatrix()
        self.metrics_table = QTableWidget(0, 4)
        self.metrics_table.setHorizontalHeaderLabels(["class", "images", "precision", "recall"])
        self.metrics_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics_table.verticalHeader().hide()
        self.misclassified_list = QListWidget()
        self.misclassified_list.setIconSize(THUMBNAIL)
        self.misclassified_list.setToolTip("Click an image to open it in the main window")
        self.misclassified_list.itemClicked.connect(
            lambda item: self.image_open_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.evaluation_label = QLabel("")
        self.evaluation_label.setWordWrap(True)
        self.layer_tree = LayerTreeView()
        self.layer_tree.set_trainable_editable(True)
        tabs = QTabWidget()
        tabs.addTab(self.layer_tree, "Base layers")
        tabs.addTab(self.confusion, "Confusion matrix")
        tabs.addTab(self.metrics_table, "Per class")
        tabs.addTab(self.misclassified_list, "Misclassified")
        self.evaluation_tabs = tabs
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.evaluation_label)
        lower_layout.addWidget(tabs)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(lower)
        layout.addWidget(split, 1)
        return panel

    # -- dataset ----------------------------------------------------------------------------

    def _choose_dataset(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.folder_edit.text())
        if folder:
            self.set_dataset(folder)

    def _choose_val_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Validation folder")
        if folder:
            self.val_dir_edit.setText(folder)

    def _choose_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Base model", "", "Keras models (*.keras *.h5 *.hdf5)"
        )
        if path:
            self.set_base_model(path)

    def set_base_model(self, name_or_path: str) -> None:
        if self.model_combo.findData(name_or_path) < 0:
            self.model_combo.addItem(Path(name_or_path).name, name_or_path)
        self.model_combo.setCurrentIndex(self.model_combo.findData(name_or_path))

    def set_dataset(self, folder: str) -> None:
        """List a dataset folder at once, then check its images on the worker."""
        folder = folder.strip()
        if not folder or (self.dataset and str(self.dataset.root) == folder):
            return
        self.folder_edit.setText(folder)
        try:
            self.dataset = scan_dataset(folder, verify=False)
        except ConvLensError as error:
            self.dataset = None
            self._show_dataset(None, str(error))
            return
        self._show_dataset(self.dataset, "Checking the images…")
        job = self.worker.submit("train-scan", training_jobs.scan(folder), model_bound=False)
        self._jobs[job.id] = "scan"
        self._update_buttons()

    def _show_dataset(self, info: DatasetInfo | None, status: str = "") -> None:
        counts = info.counts if info else {}
        self.class_table.setRowCount(len(counts))
        for row, (name, count) in enumerate(counts.items()):
            self.class_table.setItem(row, 0, QTableWidgetItem(name))
            self.class_table.setItem(row, 1, QTableWidgetItem(str(count)))
        lines = [status] if status else []
        if info is not None:
            lines.insert(0, f"{len(info.classes)} classes, {info.total} images.")
            lines += [f"⚠ {warning}" for warning in info.warnings]
        self.dataset_status.setText("\n".join(lines))
        self.unreadable_list.clear()
        for path, reason in info.unreadable if info else []:
            self.unreadable_list.addItem(f"{path.name}: {reason}")
        self.unreadable_list.setVisible(bool(info and info.unreadable))

    def dragEnterEvent(self, event) -> None:
        if _dropped_folder(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        folder = _dropped_folder(event)
        if folder:
            event.acceptProposedAction()
            self.set_dataset(folder)

    # -- choosing layers ----------------------------------------------------------------------

    def _base_options(self) -> TrainConfig:
        return TrainConfig(
            data_dir=".",
            model=self.model_combo.currentData() or BUILTIN_NAME,
            weights=self.weights_combo.currentData(),
            input_size=self.input_size.value() or None,
        )

    def _on_freeze_combo_changed(self) -> None:
        if self.freeze_combo.currentData() == "choose":
            self._request_base_layers()
            self.evaluation_tabs.setCurrentWidget(self.layer_tree)
        self._update_buttons()

    def _request_base_layers(self) -> None:
        """Show the chosen base's layers with freeze checkboxes (built on the worker)."""
        if self.freeze_combo.currentData() != "choose":
            return
        options = self._base_options()
        key = (options.model, options.weights, options.input_size)
        if key == self._layers_key:
            return
        self._layers_key = key
        self.layer_tree.clear()
        job = self.worker.submit(
            "train-layers", training_jobs.base_layers(options), model_bound=False
        )
        self._jobs[job.id] = "layers"

    # -- running ----------------------------------------------------------------------------

    def config(self) -> TrainConfig:
        """The options as shown; TrainConfigError names the first bad one."""
        freeze, chosen = self.freeze_combo.currentData(), None
        if freeze == "up-to":
            freeze = f"up-to:{self.freeze_layer.text().strip()}"
        elif freeze == "choose":
            freeze = "all"
            state = self.layer_tree.trainable_state()
            chosen = tuple(path for path, trainable in state.items() if trainable)
        return TrainConfig(
            data_dir=self.folder_edit.text().strip(),
            model=self.model_combo.currentData() or BUILTIN_NAME,
            weights=self.weights_combo.currentData(),
            input_size=self.input_size.value() or None,
            head=self.head_combo.currentData(),
            dense_units=self.dense_units.value(),
            dropout=self.dropout.value(),
            freeze=freeze,
            trainable_layers=chosen,
            fine_tune_top=self.fine_tune_top.value() if self.two_stage.isChecked() else 0,
            fine_tune_epochs=self.fine_tune_epochs.value(),
            epochs=self.epochs.value(),
            lr=self.lr.value(),
            batch_size=self.batch_size.value(),
            val_split=self.val_split.value(),
            val_dir=self.val_dir_edit.text().strip() or None,
            augment=tuple(name for name, box in self.augment_boxes.items() if box.isChecked()),
            seed=self.seed.value(),
            patience=self.patience.value(),
        ).validated()

    def start(self) -> None:
        if self.dataset is None:
            self.progress_label.setText("Choose a dataset folder first.")
            return
        try:
            config = self.config()
        except ConvLensError as error:
            self.progress_label.setText(str(error))
            return
        self.result, self.saved_path = None, None
        self.curves.clear()
        self._show_evaluation(None)
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
        if self.result is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the model", self._suggested_name(".keras"), "Keras model (*.keras)"
        )
        if path:
            path = path if path.lower().endswith(".keras") else path + ".keras"
            job = self.worker.submit(
                "train-save", training_jobs.save(self.result, path), model_bound=False
            )
            self._jobs[job.id] = "save"

    def export_tflite(self) -> None:
        if self.result is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export TensorFlow Lite", self._suggested_name(".tflite"), "TFLite (*.tflite)"
        )
        if path:
            path = path if path.lower().endswith(".tflite") else path + ".tflite"
            job = self.worker.submit(
                "train-tflite", training_jobs.export_tflite(self.result, path), model_bound=False
            )
            self._jobs[job.id] = "tflite"

    def _suggested_name(self, suffix: str) -> str:
        root = Path(self.folder_edit.text() or "classifier")
        return str(root.parent / f"{root.name}_classifier{suffix}")

    def _update_buttons(self) -> None:
        training = self.is_training()
        self.start_button.setEnabled(not training)
        self.stop_button.setEnabled(training)
        self.save_button.setEnabled(self.result is not None and not training)
        self.tflite_button.setEnabled(self.result is not None and not training)
        self.open_button.setEnabled(self.saved_path is not None)
        self.freeze_layer.setEnabled(self.freeze_combo.currentData() == "up-to")
        self.fine_tune_top.setEnabled(self.two_stage.isChecked())
        self.fine_tune_epochs.setEnabled(self.two_stage.isChecked())

    def closeEvent(self, event) -> None:
        # Closing the window abandons a run: nothing would show or save its result.
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
                self._show_dataset(result)
                self.progress_label.setText("Ready to train.")
        elif what == "train":
            self.result = result
            self._show_evaluation(result)
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

    # -- evaluation -------------------------------------------------------------------------

    def _show_evaluation(self, result) -> None:
        self.misclassified_list.clear()
        if result is None:
            self.evaluation_label.setText("")
            self.metrics_table.setRowCount(0)
            self.confusion.set_matrix(self.confusion.matrix[:0, :0], [])
            return
        evaluation = result.evaluation
        best = f" (best epoch {result.best_epoch})" if result.best_epoch else ""
        how = "cached base features" if result.fast_path else "images"
        notes = "".join(f"\n{note}" for note in result.notes)
        self.evaluation_label.setText(
            f"Validation accuracy {evaluation.accuracy:.1%} on {evaluation.count} images"
            f"{best}; trained on {how}.{' Stopped early.' if result.stopped_early else ''}{notes}"
        )
        self.confusion.set_matrix(evaluation.confusion, evaluation.class_names)
        names = evaluation.class_names
        self.metrics_table.setRowCount(len(names))
        for row, name in enumerate(names):
            cells = [
                name,
                str(int(evaluation.confusion[row].sum())),
                _percent(evaluation.precision[row]),
                _percent(evaluation.recall[row]),
            ]
            for col, text in enumerate(cells):
                self.metrics_table.setItem(row, col, QTableWidgetItem(text))
        for wrong in evaluation.misclassified[:MAX_MISCLASSIFIED_SHOWN]:
            item = QListWidgetItem(
                _thumbnail(wrong.path),
                f"{wrong.path.name}: {wrong.true_label} taken for {wrong.predicted_label} "
                f"({wrong.probability:.0%})",
            )
            item.setData(Qt.ItemDataRole.UserRole, str(wrong.path))
            item.setToolTip(str(wrong.path))
            self.misclassified_list.addItem(item)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _thumbnail(path: Path) -> QIcon:
    # QImageReader decodes straight to the small size (JPEG draft mode): a list of
    # mistakes from large photos must not stall the window.
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio))
    return QIcon(QPixmap.fromImage(reader.read()))


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
