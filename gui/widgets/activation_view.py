"""A layer's activations: a paged grid of channel maps, a channel overlaid on the photo, or a
plot of a 1-D vector.

Speed comes from drawing a page as one mosaic image with grid lines on top: no widget or
item is created per channel, so a 112×112×96 layer renders as fast as a 7×7×1280 one.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPainterPath
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.errors import ExportError
from gui.widgets.activation_grid import MAX_PAGE, PAGE_SIZE, LevelBar, add_tile_labels, fit_grid
from gui.widgets.channel_detail import ChannelDetail, fmt
from gui.widgets.colormaps import BACKGROUND, compose_page, render_page_image
from gui.widgets.grid_header import GridHeader
from gui.widgets.grid_png import save_grid_png
from gui.widgets.vector_plot import VectorPlot


class ActivationView(QWidget):
    """Shows the activations of one layer for one image; emits the channel the user clicks."""

    channel_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layer = ""
        self._maps: np.ndarray | None = None  # (H, W, C) float32
        self._order = np.zeros(0, dtype=np.intp)  # channels in display order
        self._page = 0
        self._channel: int | None = None
        self._input: np.ndarray | None = None
        self._grid = (1, 1)  # columns, rows of a page (fit_grid)
        self._page_size = PAGE_SIZE
        self._range: tuple[int, int] | None = None  # the grid's extent in map pixels
        self._showing = "message"  # or "grid", "vector"
        self._output_layer: str | None = None
        self._class_names: list[str] | None = None
        self._build_controls()
        self._build_grid()
        self._build_detail()
        self._build_vector()
        # The overlay follows the grid's levels and colours, so both read the same.
        # (The table is rebuilt only when the gradient changes: 9 ms, too slow per level drag.)
        self.histogram.sigLevelsChanged.connect(self._sync_overlay_levels)
        self.histogram.sigLookupTableChanged.connect(self._sync_overlay_lut)
        self._sync_overlay_lut()

        self.stack = QStackedWidget()
        self.splitter = QSplitter()
        self.splitter.addWidget(self.grid_widget)
        self.splitter.addWidget(self.detail)
        # The enlarged channel gets real room: a third of the panel, not a tile's size.
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        self.detail.setMinimumWidth(180)
        for page in (self.splitter, self.plot):
            self.stack.addWidget(page)
        # A message covers the pages rather than replacing them: the grid stays laid out at
        # the panel's size, so showing the first maps needs no layout pass.
        self.message = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.message.setStyleSheet("color: palette(mid); font-size: 14px;")
        self.message.setAutoFillBackground(True)
        # Two lines whatever the text (a vector's top-5 names need the second), so new
        # statistics never re-lay out the panel.
        self.stats = QLabel(textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats.setWordWrap(True)
        self.stats.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.stats.setFixedHeight(2 * self.stats.fontMetrics().lineSpacing() + 2)

        content = QGridLayout()
        content.addWidget(self.stack, 0, 0)
        content.addWidget(self.message, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addLayout(content, 1)
        layout.addWidget(self.stats)
        self.clear()

    def sizeHint(self) -> QSize:
        return QSize(960, 560)

    # -- construction --------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.header = GridHeader()
        # The names the rest of the view (and its tests) know the header's parts by.
        for name in ("title", "sort_combo", "labels_check", "prev_button", "next_button"):
            setattr(self, name, getattr(self.header, name))
        for name in ("page_spin", "page_label", "grid_controls"):
            setattr(self, name, getattr(self.header, name))
        self.sort_combo.currentIndexChanged.connect(self._on_sort_combo_changed)
        self.labels_check.toggled.connect(self._place_labels)
        self.page_spin.valueChanged.connect(self._on_page_spin_changed)

    def _build_grid(self) -> None:
        self.grid_widget = pg.GraphicsLayoutWidget()
        self.grid_widget.setBackground(BACKGROUND)
        self.grid_box = self.grid_widget.addViewBox(lockAspect=True, invertY=True)
        self.grid_box.setMenuEnabled(False)
        self.mosaic = pg.ImageItem(axisOrder="row-major")
        self.grid_box.addItem(self.mosaic)
        # Cosmetic pens keep lines a constant 2 screen pixels whatever the zoom.
        self.grid_lines = QGraphicsPathItem()
        self.grid_lines.setPen(pg.mkPen(BACKGROUND, width=2))
        self.grid_box.addItem(self.grid_lines)
        self.highlight = QGraphicsRectItem()
        self.highlight.setPen(pg.mkPen((255, 90, 60), width=3))
        self.highlight.setZValue(10)
        self.grid_box.addItem(self.highlight)
        self.tile_labels = add_tile_labels(self.grid_box, QFont(self.font().family(), 8))
        self.histogram = LevelBar()
        self.histogram.setImageItem(self.mosaic)
        self.grid_widget.ci.setContentsMargins(4, 4, 4, 2)
        self.grid_widget.ci.setSpacing(2)
        self.grid_widget.addItem(self.histogram, row=1, col=0)
        self.grid_widget.scene().sigMouseClicked.connect(self._on_grid_scene_clicked)
        self.grid_box.sigResized.connect(self._on_grid_box_resized)

    def _build_detail(self) -> None:
        self.detail = ChannelDetail()
        # The names the rest of the view (and its tests) know the detail's parts by.
        self.detail_title, self.detail_box = self.detail.title, self.detail.box
        self.photo, self.overlay = self.detail.photo, self.detail.overlay
        self.opacity_slider = self.detail.opacity_slider

    def _build_vector(self) -> None:
        self.plot = VectorPlot()
        self.bars, self.line = self.plot.bars, self.plot.line

    # -- public API ----------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        """Replace the content with a short state message ("Select a layer…", "Computing…")."""
        self.title.clear()  # the heading and statistics were the previous content's
        self.stats.clear()
        self.message.setText(text)
        self._show("message")

    def clear(self) -> None:
        self._layer, self._maps, self._input, self._channel = "", None, None, None
        self.title.clear()
        self.stats.clear()
        self.show_message("Select a layer to see its activations.")

    def set_class_names(self, output_layer: str | None, names) -> None:
        """The model's output layer and its class names: its plot is labelled by class."""
        self._output_layer, self._class_names = output_layer, list(names) if names else None

    def has_grid(self) -> bool:
        """True when a channel grid is on screen, i.e. export_png has something to write."""
        return self._maps is not None and self._showing == "grid"

    def showing(self) -> str:
        """What the panel shows: "message", "grid" or "vector"."""
        return self._showing

    def _show(self, what: str) -> None:
        self._showing = what
        if what != "message":
            self.stack.setCurrentWidget(self.splitter if what == "grid" else self.plot)
        self.message.setVisible(what == "message")
        self.message.raise_()
        self.grid_controls.setVisible(what == "grid")
        self.page_label.setVisible(what == "grid")

    def selected_channel(self) -> int | None:
        return self._channel

    def grid_shape(self) -> tuple[int, int]:
        """(columns, rows) of a page of the grid, as laid out for the view's size."""
        return self._grid

    def show_activations(
        self, layer_path: str, maps: np.ndarray, input_image: np.ndarray | None = None
    ) -> None:
        """Show one image's output of a layer, without the batch axis.

        input_image should be what the network saw (the resized, cropped input), so the
        overlay lines up with the maps.
        """
        maps = np.asarray(maps, dtype=np.float32)
        same_layer = layer_path == self._layer
        self._layer, self._input = layer_path, input_image
        size = f"{maps.shape[0]} values" if maps.ndim == 1 else "×".join(map(str, maps.shape))
        self.title.setText(f"{layer_path}  ·  {size}")
        self.title.setToolTip(self.title.text())
        if maps.ndim == 1:
            self._maps = None
            self._show_vector(maps)
            return
        if maps.ndim == 2:  # e.g. tokens × features: one map, not a vector
            maps = maps[:, :, None]
        if maps.ndim != 3 or maps.size == 0:
            self._maps = None
            self.show_message(f"Cannot show {layer_path}: an output of shape {maps.shape}.")
            return
        if not (same_layer and self._maps is not None and self._maps.shape == maps.shape):
            self._page, self._channel, self._range = 0, None, None
        self._maps = maps
        self._show_grid()

    def select_channel(self, channel: int) -> None:
        """Enlarge a channel in the detail panel, as a click on its tile does."""
        if self._maps is None or not 0 <= channel < self._maps.shape[2]:
            return
        self._channel = channel
        self._update_detail()
        self._update_highlight()
        self.channel_selected.emit(channel)

    def export_png(self, path: str | os.PathLike, labels: bool = True) -> None:
        """Write the visible page as a titled PNG with a colour bar, atomically, in the current
        colours and levels (gui.widgets.grid_png)."""
        if not self.has_grid():
            raise ExportError(
                "There is no activation grid to export: select a convolutional layer."
            )
        levels = self.histogram.getLevels()
        lut = self.histogram.gradient.getLookupTable(256, alpha=False)
        channels, columns = self._page_channels(), self._columns()
        grid = render_page_image(self._maps, channels, columns, levels, lut, labels=labels)
        title = f"{self.title.text()}  ·  {self.page_label.text()}"
        save_grid_png(Path(path), grid, title, levels, lut)

    # -- grid ----------------------------------------------------------------------------

    def _page_channels(self) -> np.ndarray:
        return self._order[self._page * self._page_size : (self._page + 1) * self._page_size]

    def _columns(self) -> int:
        return self._grid[0]

    def _view_size(self) -> tuple[float, float]:
        size = self.grid_box.size()
        if size.width() < 32 or size.height() < 32:  # never laid out yet
            return 640.0, 400.0
        return size.width(), size.height()

    def _fit_page(self) -> bool:
        """Choose the page's columns and rows for the maps and the view; True on a change."""
        height, width, count = self._maps.shape
        tiles = count if count <= MAX_PAGE else PAGE_SIZE
        grid = fit_grid(tiles, self._view_size(), (height, width))
        page_size = min(count, grid[0] * grid[1])
        if (grid, page_size) == (self._grid, self._page_size):
            return False
        first = self._page * self._page_size  # stays on screen
        self._grid, self._page_size = grid, page_size
        self._page = min(first, count - 1) // page_size
        return True

    def _on_grid_box_resized(self) -> None:
        if self._maps is not None and self._fit_page():
            self._render_grid()

    def _show_grid(self) -> None:
        maps = self._maps
        means = maps.mean(axis=(0, 1))
        if self.sort_combo.currentIndex() == 1:
            self._order = np.argsort(-means, kind="stable")
        else:
            self._order = np.arange(maps.shape[2])
        low, high = float(maps.min()), float(maps.max())
        zeros = maps == 0
        dead = int(zeros.all(axis=(0, 1)).sum())
        self.stats.setText(
            f"min {fmt(low)} · max {fmt(high)} · mean {fmt(float(means.mean()))} · "
            f"zeros {zeros.mean():.1%} · dead (all-zero) channels {dead} of {maps.shape[2]}"
        )
        self._fit_page()
        self._render_grid()
        # Levels reset per result: shared by every tile so channels compare, and the
        # histogram lets the user narrow them.
        self.histogram.setLevels(low, high if high > low else low + 1)
        self._show("grid")
        self._update_detail()

    def _render_grid(self) -> None:
        maps, channels, columns = self._maps, self._page_channels(), self._columns()
        height, width, count = maps.shape
        pages = math.ceil(count / self._page_size)
        self.page_spin.blockSignals(True)
        self.page_spin.setMaximum(pages)
        self.page_spin.setValue(self._page + 1)
        self.page_spin.blockSignals(False)
        self.page_spin.setSuffix(f" / {pages}")
        mosaic = compose_page(maps, channels, columns)
        self.mosaic.setImage(mosaic, autoLevels=False)
        rows = mosaic.shape[0] // height
        path = QPainterPath()
        for col in range(1, columns):
            path.moveTo(col * width, 0)
            path.lineTo(col * width, rows * height)
        for row in range(1, rows):
            path.moveTo(0, row * height)
            path.lineTo(columns * width, row * height)
        self.grid_lines.setPath(path)
        first = self._page * self._page_size
        self.page_label.setText(f"channels {first + 1}–{first + len(channels)} of {count}")
        self.prev_button.setEnabled(self._page > 0)
        self.next_button.setEnabled(first + len(channels) < count)
        self._place_labels()
        self._update_highlight()
        # The range is the whole page's grid, not this page's tiles: a short last page keeps
        # the tile size of the others. Unchanged, the view keeps it (a user's zoom included).
        extent = (columns * width, self._grid[1] * height)
        if extent != self._range:
            self._range = extent
            self.grid_box.setRange(QRectF(0, 0, *extent), padding=0.01)

    def _place_labels(self) -> None:
        channels = self._page_channels() if self._maps is not None else []
        show = self.labels_check.isChecked()
        for slot, label in enumerate(self.tile_labels):
            visible = show and slot < len(channels)
            if visible:  # text and position are no-ops when unchanged, as for a new image
                height, width = self._maps.shape[:2]
                row, col = divmod(slot, self._columns())
                label.setText(str(channels[slot]))
                label.setPos(col * width, row * height)
            if label.isVisible() != visible:  # not a no-op: it re-transforms the text
                label.setVisible(visible)

    def _tile_rect(self, channel: int) -> QRectF | None:
        slots = np.flatnonzero(self._page_channels() == channel)
        if self._maps is None or len(slots) == 0:
            return None
        height, width = self._maps.shape[:2]
        row, col = divmod(int(slots[0]), self._columns())
        return QRectF(col * width, row * height, width, height)

    def _update_highlight(self) -> None:
        rect = self._tile_rect(self._channel) if self._channel is not None else None
        self.highlight.setVisible(rect is not None)
        if rect is not None:
            self.highlight.setRect(rect)

    def _on_grid_scene_clicked(self, event) -> None:
        if self._maps is None or event.button() != Qt.MouseButton.LeftButton:
            return
        if not self.grid_box.sceneBoundingRect().contains(event.scenePos()):
            return  # a click on the histogram
        point = self.grid_box.mapSceneToView(event.scenePos())
        height, width = self._maps.shape[:2]
        row, col = math.floor(point.y() / height), math.floor(point.x() / width)
        channels = self._page_channels()
        slot = row * self._columns() + col
        if 0 <= col < self._columns() and row >= 0 and slot < len(channels):
            self.select_channel(int(channels[slot]))

    def _on_page_spin_changed(self, value: int) -> None:
        if self._maps is not None and value - 1 != self._page:
            self._page = value - 1
            self._render_grid()

    def _on_sort_combo_changed(self) -> None:
        if self._maps is not None:
            self._page = 0
            self._show_grid()

    # -- detail --------------------------------------------------------------------------

    def _update_detail(self) -> None:
        self.detail.show_channel(self._maps, self._channel, self._input, self.histogram.getLevels())

    def _sync_overlay_lut(self) -> None:
        self.detail.set_lookup_table(self.histogram.getLookupTable(n=256, alpha=False))

    def _sync_overlay_levels(self) -> None:
        self.detail.set_levels(self.histogram.getLevels())

    # -- 1-D -----------------------------------------------------------------------------

    def _show_vector(self, vector: np.ndarray) -> None:
        names = self._class_names if self._layer == self._output_layer else None
        text = self.plot.show_vector(vector, names)
        self.stats.setText(text)
        self.stats.setToolTip(text)
        self._show("vector")
