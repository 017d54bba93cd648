"""A 1-D layer output as a plot: bars (or a line for long vectors) with the five largest
values marked and labelled, by class name where the vector is the model's class scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg

from gui.widgets.colormaps import BACKGROUND

BAR_PLOT_LIMIT = 512  # longer vectors read better as a line than as hair-thin bars
TOP = 5
_BLUE, _RED = (70, 150, 200), (255, 90, 60)


def _fmt(value: float) -> str:
    return f"{value:.3g}"


class VectorPlot(pg.PlotWidget):
    """Plots one vector; ``show_vector`` returns its one-line statistics."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background=BACKGROUND)
        self.setLabel("left", "activation")
        for axis in ("left", "bottom"):  # "(x0.001)" axis scaling confuses more than it helps
            self.getAxis(axis).enableAutoSIPrefix(False)
        self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.8, brush=_BLUE)
        self.line = pg.PlotDataItem(pen=pg.mkPen(_BLUE, width=1))
        self.top_points = pg.ScatterPlotItem(size=8, brush=_RED, pen=None)
        for item in (self.bars, self.line, self.top_points):
            self.addItem(item)
        self.top_labels = []
        for _ in range(TOP):  # created once, moved per vector
            label = pg.TextItem(color=(235, 235, 235), fill=(0, 0, 0, 160), anchor=(0, 1))
            label.setZValue(5)
            self.addItem(label, ignoreBounds=True)
            self.top_labels.append(label)

    def show_vector(self, vector: np.ndarray, names: Sequence[str] | None = None) -> str:
        """Plot vector; names (one per value) label the top values, e.g. class names."""
        indices = np.arange(len(vector))
        bars = len(vector) <= BAR_PLOT_LIMIT
        self.bars.setOpts(x=indices, height=vector, width=0.8)
        self.bars.setVisible(bars)
        self.line.setData(indices, vector)
        self.line.setVisible(not bars)
        top = np.argsort(-vector, kind="stable")[:TOP]
        self.top_points.setData(top, vector[top])
        named = names is not None and len(names) == len(vector)
        self.setLabel("bottom", "class index" if named else "index")
        for slot, label in enumerate(self.top_labels):
            if slot < len(top):
                i = int(top[slot])
                label.setText(f"{names[i]} ({_fmt(float(vector[i]))})" if named else f"#{i}")
                label.setPos(i, float(vector[i]))
            label.setVisible(slot < len(top))
        self.autoRange()
        ranked = ", ".join(f"{names[i] if named else i} ({_fmt(float(vector[i]))})" for i in top)
        return (
            f"min {_fmt(float(vector.min()))} · max {_fmt(float(vector.max()))} · "
            f"mean {_fmt(float(vector.mean()))} · zeros {(vector == 0).mean():.1%} · "
            f"top: {ranked}"
        )

    def top_texts(self) -> list[str]:
        """The labels next to the marked values, largest first."""
        return [label.toPlainText() for label in self.top_labels if label.isVisible()]
