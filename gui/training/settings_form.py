"""The training window's settings column: dataset, base model, head, freezing, training.

A form and nothing more: it turns what the user set into a ``TrainConfig`` and shows a
dataset's listing. The window decides what to do with them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
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
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.models.zoo import BUILTIN_NAME, ZOO
from core.training.config import AUGMENTATIONS, HEADS, TrainConfig
from core.training.datasets import DatasetInfo

FREEZE_CHOICES = [
    ("all", "Freeze the whole base (fastest)"),
    ("none", "Train the whole base"),
    ("up-to", "Freeze up to the layer:"),
    ("choose", "Choose in the base's layer tree"),
]


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


class TrainingSettings(QScrollArea):
    dataset_requested = Signal(str)  # a folder the user chose or typed
    base_changed = Signal()  # model, weights or input size changed
    freeze_mode_changed = Signal(str)  # a key of FREEZE_CHOICES

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self._dataset_group())
        layout.addWidget(self._model_group())
        layout.addWidget(self._training_group())
        layout.addStretch(1)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setMinimumWidth(380)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.update_enabled()

    def _dataset_group(self) -> QGroupBox:
        box = QGroupBox("Dataset: one subfolder of images per class")
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("Choose or drop a folder…")
        self.folder_edit.editingFinished.connect(
            lambda: self.dataset_requested.emit(self.folder_edit.text().strip())
        )
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
        self.validation_note = QLabel()
        self.validation_note.setWordWrap(True)
        layout.addWidget(self.validation_note)
        self._auto_val_dir = ""  # the val/ of a split dataset, filled in for the user
        self.val_dir_edit.textChanged.connect(self._show_validation)
        self._show_validation()
        return box

    def _show_validation(self) -> None:
        """The share applies only without a validation folder; say which one is used."""
        folder = self.val_dir_edit.text().strip()
        self.val_split.setEnabled(not folder)
        if not folder:
            text = "Validation: a share of each class's images."
        elif folder == self._auto_val_dir:
            text = f"Validation: the dataset's own {Path(folder).name}/ folder (the share does not apply)."
        else:
            text = f"Validation: the folder {Path(folder).name}/ (the share does not apply)."
        self.validation_note.setText(text)

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
        self.freeze_combo.currentIndexChanged.connect(self._on_freeze_changed)
        self.model_combo.currentIndexChanged.connect(self.base_changed)
        self.weights_combo.currentIndexChanged.connect(self.base_changed)
        self.input_size.editingFinished.connect(self.base_changed)
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
        self.two_stage.toggled.connect(self.update_enabled)
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

    # -- choosing files ---------------------------------------------------------------------

    def _choose_dataset(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.folder_edit.text())
        if folder:
            self.dataset_requested.emit(folder)

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

    # -- showing ----------------------------------------------------------------------------

    def show_dataset(self, folder: str, info: DatasetInfo | None, status: str = "") -> None:
        """A dataset's classes, counts, warnings and unreadable images (None: nothing usable)."""
        self.folder_edit.setText(folder)
        counts = info.counts if info else {}
        self.class_table.setRowCount(len(counts))
        for row, (name, count) in enumerate(counts.items()):
            self.class_table.setItem(row, 0, QTableWidgetItem(name))
            self.class_table.setItem(row, 1, QTableWidgetItem(str(count)))
        lines = [status] if status else []
        split = info.split if info else None
        if split is not None:
            lines.append(f"{split.describe()}.")
        if self.val_dir_edit.text().strip() == self._auto_val_dir:
            self._auto_val_dir = str(split.val) if split else ""
            self.val_dir_edit.setText(self._auto_val_dir)
        if info is not None:
            lines.insert(0, f"{len(info.classes)} classes, {info.total} images.")
            lines += [f"⚠ {warning}" for warning in info.warnings]
        self.dataset_status.setText("\n".join(lines))
        self.unreadable_list.clear()
        for path, reason in info.unreadable if info else []:
            self.unreadable_list.addItem(f"{path.name}: {reason}")
        self.unreadable_list.setVisible(bool(info and info.unreadable))

    def _on_freeze_changed(self) -> None:
        self.update_enabled()
        self.freeze_mode_changed.emit(self.freeze_combo.currentData())

    def update_enabled(self) -> None:
        self.freeze_layer.setEnabled(self.freeze_combo.currentData() == "up-to")
        self.fine_tune_top.setEnabled(self.two_stage.isChecked())
        self.fine_tune_epochs.setEnabled(self.two_stage.isChecked())

    # -- reading ----------------------------------------------------------------------------

    def base_options(self) -> TrainConfig:
        """Only what decides the base (model, weights, input size)."""
        return TrainConfig(
            data_dir=self.folder_edit.text().strip() or ".",
            model=self.model_combo.currentData() or BUILTIN_NAME,
            weights=self.weights_combo.currentData(),
            input_size=self.input_size.value() or None,
        )

    def config(self, chosen_layers: tuple[str, ...] | None = None) -> TrainConfig:
        """The options as set; chosen_layers when freezing is chosen in the layer tree.

        Raises TrainConfigError naming the first bad option.
        """
        freeze = self.freeze_combo.currentData()
        trainable = None
        if freeze == "up-to":
            freeze = f"up-to:{self.freeze_layer.text().strip()}"
        elif freeze == "choose":
            freeze, trainable = "all", tuple(chosen_layers or ())
        return TrainConfig(
            data_dir=self.folder_edit.text().strip(),
            model=self.model_combo.currentData() or BUILTIN_NAME,
            weights=self.weights_combo.currentData(),
            input_size=self.input_size.value() or None,
            head=self.head_combo.currentData(),
            dense_units=self.dense_units.value(),
            dropout=self.dropout.value(),
            freeze=freeze,
            trainable_layers=trainable,
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
