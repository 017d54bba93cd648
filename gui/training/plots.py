"""The training window's plots: loss and accuracy curves, and the confusion-matrix heatmap."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

TRAIN_PEN = pg.mkPen("#1f77b4", width=2)
VAL_PEN = pg.mkPen("#ff7f0e", width=2)


class TrainingCurves(QWidget):
    """Loss and accuracy per epoch, training and validation, appended as epochs finish."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget(title="Loss")
        self.accuracy_plot = pg.PlotWidget(title="Accuracy")
        self.curves = {}
        for plot, metric in ((self.loss_plot, "loss"), (self.accuracy_plot, "accuracy")):
            plot.setBackground("w")
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setLabel("bottom", "epoch")
            for axis in ("left", "bottom"):  # no "(x0.001)" scaling of small numbers
                plot.getAxis(axis).enableAutoSIPrefix(False)
            # Loss falls to the bottom right, accuracy rises to the top right: each legend
            # sits in the corner its curves leave free.
            plot.addLegend(offset=(-10, 10) if metric == "loss" else (-10, -10))
            self.curves[metric] = plot.plot([], [], pen=TRAIN_PEN, symbol="o", name="training")
            self.curves[f"val_{metric}"] = plot.plot(
                [], [], pen=VAL_PEN, symbol="o", symbolBrush=VAL_PEN.color(), name="validation"
            )
        self.accuracy_plot.setYRange(0, 1.02)
        self._stage_lines: list[pg.InfiniteLine] = []
        self._history: list = []
        self._set_epoch_axis(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.accuracy_plot)

    def clear(self) -> None:
        self._history = []
        for curve in self.curves.values():
            curve.setData([], [])
        for line in self._stage_lines:
            line.getViewBox().removeItem(line)
        self._stage_lines = []
        self._set_epoch_axis(1)

    def _set_epoch_axis(self, last: int) -> None:
        """Whole epochs only (no 1.5, 2.5), about ten ticks at most; empty plots 0…1."""
        step = max(1, -(-last // 10))
        ticks = [[(e, str(e)) for e in range(1, last + 1, step)]]
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(0.5, last + 0.5, padding=0.02)
        if not self._history:
            self.loss_plot.setYRange(0, 1)

    def add_epoch(self, log) -> None:
        """Append one core.train_config.EpochLog."""
        if self._history and log.stage != self._history[-1].stage:
            # Mark where fine-tuning starts: the curves often jump there.
            for plot in (self.loss_plot, self.accuracy_plot):
                line = pg.InfiniteLine(log.epoch - 0.5, pen=pg.mkPen("#888", style=2))
                plot.addItem(line)
                self._stage_lines.append(line)
        self._history.append(log)
        epochs = [entry.epoch for entry in self._history]
        self._set_epoch_axis(max(epochs))
        self.loss_plot.enableAutoRange(axis="y")
        for metric in self.curves:
            values = [getattr(entry, metric) for entry in self._history]
            if all(v is not None for v in values):
                self.curves[metric].setData(epochs, values)

    def points(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """The plotted (epochs, values) of a metric: "loss", "val_accuracy", …"""
        x, y = self.curves[metric].getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)


class ConfusionMatrix(pg.PlotWidget):
    """A heatmap of validation counts: rows are true classes, columns predicted ones."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, title="Confusion matrix (validation)")
        self.setBackground("w")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-L12"))  # white to blue: counts, not signs
        self.addItem(self.image)
        self.getViewBox().invertY(True)
        self.getViewBox().setAspectLocked(True)
        self.setMouseEnabled(x=False, y=False)
        self.setLabel("left", "true class")
        self.setLabel("bottom", "predicted class")
        self._texts: list[pg.TextItem] = []
        self.matrix = np.zeros((0, 0), dtype=np.int64)

    def set_matrix(self, matrix: np.ndarray, class_names: list[str]) -> None:
        self.matrix = np.asarray(matrix)
        n = len(class_names)
        for text in self._texts:
            self.removeItem(text)
        self._texts = []
        # Each row scaled by its class's size, so a small class's mistakes still show.
        if n == 0:
            self.image.clear()
            return
        rows = self.matrix.sum(axis=1, keepdims=True)
        share = np.divide(self.matrix, np.maximum(rows, 1), dtype=np.float64)
        self.image.setImage(share, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(0, 0, n, n))
        ticks = [[(i + 0.5, name) for i, name in enumerate(class_names)]]
        self.getAxis("bottom").setTicks(ticks)
        self.getAxis("left").setTicks(ticks)
        for (row, col), count in np.ndenumerate(self.matrix):
            color = "w" if share[row, col] > 0.6 else "k"
            text = pg.TextItem(str(count), color=color, anchor=(0.5, 0.5))
            text.setPos(col + 0.5, row + 0.5)
            self.addItem(text)
            self._texts.append(text)
        self.getViewBox().setRange(QRectF(0, 0, max(n, 1), max(n, 1)), padding=0.02)

    def cell_texts(self) -> list[str]:
        return [text.toPlainText() for text in self._texts]
