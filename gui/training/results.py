"""The evaluation of a training run: accuracy, confusion matrix, per-class scores, mistakes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import ImageLoadError
from core.io.images import load_thumbnail
from gui.training.plots import ConfusionMatrix
from gui.widgets.image_loader import to_qimage

THUMBNAIL = QSize(48, 48)
MAX_MISCLASSIFIED_SHOWN = 200


class TrainingResults(QWidget):
    """A summary line over tabs; the window may add tabs of its own (``tabs``)."""

    image_clicked = Signal(str)  # a misclassified validation image

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.confusion = ConfusionMatrix()
        self.metrics_table = QTableWidget(0, 4)
        self.metrics_table.setHorizontalHeaderLabels(["class", "images", "precision", "recall"])
        self.metrics_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics_table.verticalHeader().hide()
        self.misclassified_list = QListWidget()
        self.misclassified_list.setIconSize(THUMBNAIL)
        self.misclassified_list.setToolTip("Click an image to open it in the main window")
        self.misclassified_list.itemClicked.connect(
            lambda item: self.image_clicked.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.confusion, "Confusion matrix")
        self.tabs.addTab(self.metrics_table, "Per class")
        self.tabs.addTab(self.misclassified_list, "Misclassified")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs)

    def show_result(self, result) -> None:
        """Show a core.train_config.TrainResult, or nothing (None)."""
        self.misclassified_list.clear()
        if result is None:
            self.summary.setText("")
            self.metrics_table.setRowCount(0)
            self.confusion.set_matrix(self.confusion.matrix[:0, :0], [])
            return
        evaluation = result.evaluation
        best = f" (best epoch {result.best_epoch})" if result.best_epoch else ""
        how = "cached base features" if result.fast_path else "images"
        early = " Stopped early." if result.stopped_early else ""
        notes = "".join(f"\n{note}" for note in result.notes)
        self.summary.setText(
            f"Validation accuracy {evaluation.accuracy:.1%} on {evaluation.count} images"
            f"{best}; trained on {how}.{early}{notes}"
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


def _thumbnail(path: Path) -> QIcon:
    # QImageReader decodes straight to the small size (JPEG draft mode): a list of
    # mistakes from large photos must not stall the window.
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():  # formats Qt has no plugin for (HEIC, AVIF): ConvLens' own reader
        try:
            image = to_qimage(load_thumbnail(path, THUMBNAIL.width()))
        except ImageLoadError:
            pass
    return QIcon(QPixmap.fromImage(image))
