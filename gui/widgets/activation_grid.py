"""How the activation grid is laid out and coloured: the columns and rows of a page, fitted
to the view (fit_grid), and the level control under the grid (LevelBar)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from gui.widgets.colormaps import colormap

# A page shows every channel of a layer of up to MAX_PAGE channels, else about PAGE_SIZE of
# them: big enough to read a 7×7 map, small enough to page quickly. Columns and rows follow
# the shapes of the view and of the maps (fit_grid), so the tiles fill the panel.
PAGE_SIZE = 32
MAX_PAGE = 48
LEVEL_BAR_HEIGHT = 28  # the histogram strip of the level control, in pixels


def fit_grid(
    tiles: int, view: tuple[float, float], tile: tuple[int, int], max_slots: int = MAX_PAGE
) -> tuple[int, int]:
    """(columns, rows) that show tiles maps of tile = (height, width) pixels as large as
    possible in a view of view = (width, height) pixels.

    Of layouts giving (nearly) the same tile size, the one with fewer empty slots wins.
    """
    view_w, view_h = max(1.0, view[0]), max(1.0, view[1])
    tile_h, tile_w = tile
    best, best_scale, best_empty = (max(1, tiles), 1), 0.0, tiles
    for columns in range(1, tiles + 1):
        rows = math.ceil(tiles / columns)
        empty = columns * rows - tiles
        if columns * rows > max(max_slots, tiles):
            continue
        scale = min(view_w / (columns * tile_w), view_h / (rows * tile_h))
        if scale > best_scale * 1.001 or (scale > best_scale / 1.001 and empty < best_empty):
            best, best_scale, best_empty = (columns, rows), scale, empty
    return best


class LevelBar(pg.HistogramLUTItem):
    """The level control: a short horizontal histogram of the activations, with the level
    region to drag, over the colour bar.

    pyqtgraph rebuilds its colour table in Python (about 13 ms for 256 colours) on every
    gradient signal, and the gradient signals on every resize: the grid's first display,
    each re-layout. Here the table is built with numpy, and only when the colours change.
    """

    def __init__(self) -> None:
        super().__init__(orientation="horizontal", gradientPosition="bottom")
        self._stops: tuple | None = None
        self._tables: dict[tuple, np.ndarray] = {}
        self.vb.setMinimumHeight(LEVEL_BAR_HEIGHT)
        self.vb.setMaximumHeight(LEVEL_BAR_HEIGHT)
        # 65 of the colour map's 256 stops: the same colours (within 1 of 255), and a
        # quarter of the tick items the gradient moves on every resize.
        positions, colors = colormap().getStops(mode="byte")
        keep = np.linspace(0, len(positions) - 1, 65).round().astype(int)
        self.gradient.setColorMap(pg.ColorMap(positions[keep], colors[keep]))
        self.gradient.showTicks(False)  # one colour map; its levels are what users adjust

    def gradientChanged(self) -> None:
        stops = tuple((x, tick.color.getRgb()) for tick, x in self.gradient.listTicks())
        if stops == getattr(self, "_stops", None):
            return  # a resize: the same colours
        self._stops, self._tables = stops, {}
        super().gradientChanged()

    def imageChanged(self, autoLevel=False, autoRange=False) -> None:
        super().imageChanged(autoLevel=autoLevel, autoRange=autoRange)
        # Counts on a log scale: the zeros of a ReLU would flatten every other bar.
        x, y = self.plot.getData()
        if y is not None and len(y):
            self.plot.setData(x, np.log1p(y))

    def getLookupTable(self, img=None, n=None, alpha=None):
        if self.levelMode != "mono":
            return None
        if n is None:
            n = 256 if img is not None and img.dtype == np.uint8 else 512
        table = self._tables.get((n, alpha))
        if table is None:
            table = self.gradient.colorMap().getLookupTable(nPts=n, alpha=alpha)
            self._tables[(n, alpha)] = table
        return table


def add_tile_labels(box, font) -> list:
    """MAX_PAGE hidden channel-number labels in box: created once, repositioned per page."""
    labels = []
    for _ in range(MAX_PAGE):
        label = pg.TextItem(color=(235, 235, 235), fill=(0, 0, 0, 150), anchor=(0, 0))
        label.setFont(font)
        label.setZValue(5)
        label.setVisible(False)
        box.addItem(label, ignoreBounds=True)
        labels.append(label)
    return labels
