"""The feature map: one point per image, coloured by group, with a legend; thumbnails on hover
and drawn in place when zoomed in; click a point to open its image; Shift+drag (or the
selection mode) draws a box that selects the points inside it.

Drawn with pyqtgraph: one ScatterPlotItem per colour group (one brush each, so 100,000
points draw fast), plus an overlay item for the selection and the highlighted images.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem

from core.explore.export import group_colors

HOVER_PIXELS = 8  # how near the pointer must be to a point to pick it
IN_PLACE_MAX = 30  # thumbnails are drawn at their points when at most this many are in view
IN_PLACE_SIDE = 64


class _MapViewBox(pg.ViewBox):
    """A ViewBox that reports clicks, hovers and box selections in view coordinates."""

    clicked = Signal(QPointF)
    hovered = Signal(object)  # QPointF, or None when the pointer left
    box_selected = Signal(QRectF)

    def __init__(self) -> None:
        super().__init__()
        self.select_mode = False

    def mouseDragEvent(self, ev, axis=None) -> None:
        selecting = self.select_mode or ev.modifiers() & Qt.KeyboardModifier.ShiftModifier
        if ev.button() != Qt.MouseButton.LeftButton or not selecting:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if ev.isFinish():
            self.rbScaleBox.hide()
            rect = QRectF(ev.buttonDownPos(), ev.pos()).normalized()
            self.box_selected.emit(self.childGroup.mapRectFromParent(rect))
        else:
            self.updateScaleBox(ev.buttonDownPos(), ev.pos())

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(self.mapToView(ev.pos()))
        else:
            super().mouseClickEvent(ev)

    def hoverEvent(self, ev) -> None:
        self.hovered.emit(None if ev.isExit() else self.mapToView(ev.pos()))


class _Points(pg.ScatterPlotItem):
    """Points that leave clicks to the view box, which picks the nearest image itself."""

    def mouseClickEvent(self, ev) -> None:
        ev.ignore()


class FeatureMapView(pg.PlotWidget):
    point_clicked = Signal(str)  # the image's path
    selection_changed = Signal(list)  # paths
    thumbnails_wanted = Signal(list)  # paths whose thumbnails the view would draw

    def __init__(self, parent=None) -> None:
        self.box = _MapViewBox()
        super().__init__(parent, viewBox=self.box)
        self.setBackground("w")
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.box.setAspectLocked(False)
        self.legend = self.addLegend(offset=(10, 10), labelTextColor="k")
        self.points = np.zeros((0, 2))
        self.paths: list[str] = []
        self.labels: list[str] = []
        self._scatters: list[pg.ScatterPlotItem] = []
        self._marks = _Points(size=14, pen=pg.mkPen("k", width=2), brush=None, pxMode=True)
        self._marks.setZValue(5)
        self.addItem(self._marks)
        self._selected: list[int] = []
        self._highlighted: list[int] = []
        self._pixmaps: dict[str, QPixmap] = {}
        self._in_place: dict[int, QGraphicsPixmapItem] = {}
        self._hover = QGraphicsPixmapItem()
        self._hover.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self._hover.setZValue(20)
        self._hover.hide()
        self.box.addItem(self._hover, ignoreBounds=True)
        self.hovered_index: int | None = None
        self.box.clicked.connect(self._on_box_clicked)
        self.box.hovered.connect(self._on_box_hovered)
        self.box.box_selected.connect(self._on_box_box_selected)
        self.box.sigRangeChanged.connect(self._update_in_place)

    # -- contents ---------------------------------------------------------------------------

    def set_map(self, points: np.ndarray, paths, labels, groups: list[str]) -> None:
        """Show a new map; the selection and highlights of the old one are cleared."""
        for item in self._scatters:
            self.removeItem(item)
        self.legend.clear()
        self._clear_in_place()
        self.points = np.asarray(points, dtype=np.float64)
        self.paths, self.labels = list(paths), list(labels)
        self._selected, self._highlighted = [], []
        self._marks.setData([], [])
        colors = group_colors(groups)
        names = np.asarray(self.labels)
        self._scatters = []
        size = 8 if len(self.points) < 5000 else 4
        for group in groups:
            rows = np.nonzero(names == group)[0]
            item = _Points(
                self.points[rows, 0],
                self.points[rows, 1],
                size=size,
                pen=None,
                brush=pg.mkBrush(QColor(*colors[group], 220)),
                pxMode=True,
                name=f"{group} ({len(rows)})",
            )
            self.addItem(item)
            self._scatters.append(item)
        self.box.autoRange(padding=0.05)
        self.selection_changed.emit([])

    def set_thumbnail(self, path: str, image: QImage) -> None:
        self._pixmaps[path] = QPixmap.fromImage(image)
        self._update_in_place()
        if self.hovered_index is not None and self.paths[self.hovered_index] == path:
            self._show_hover(self.hovered_index)

    def select_paths(self, paths) -> None:
        wanted = set(paths)
        self._selected = [i for i, p in enumerate(self.paths) if p in wanted]
        self._draw_marks()
        self.selection_changed.emit(self.selected_paths())

    def selected_paths(self) -> list[str]:
        return [self.paths[i] for i in self._selected]

    def highlight_paths(self, paths) -> None:
        """Ring these images (similar images, a duplicate group) besides the selection."""
        wanted = set(paths)
        self._highlighted = [i for i, p in enumerate(self.paths) if p in wanted]
        self._draw_marks()

    def set_select_mode(self, on: bool) -> None:
        self.box.select_mode = on

    def view_position(self, path: str) -> QPoint:
        """Where an image's point is, in the plot widget's own pixels (for tests and tips)."""
        i = self.paths.index(path)
        scene = self.box.mapViewToScene(QPointF(*self.points[i]))
        return self.mapFromScene(scene)

    # -- pointer ----------------------------------------------------------------------------

    def nearest(self, at: QPointF) -> int | None:
        """The point within HOVER_PIXELS of a view position, nearest first."""
        if not len(self.points):
            return None
        width, height = self.box.viewPixelSize()
        d = ((self.points[:, 0] - at.x()) / width) ** 2 + (
            (self.points[:, 1] - at.y()) / height
        ) ** 2
        i = int(np.argmin(d))
        return i if d[i] <= HOVER_PIXELS**2 else None

    def _on_box_clicked(self, at: QPointF) -> None:
        i = self.nearest(at)
        if i is None:
            return
        self._selected = [i]
        self._draw_marks()
        self.selection_changed.emit(self.selected_paths())
        self.point_clicked.emit(self.paths[i])

    def _on_box_hovered(self, at: QPointF | None) -> None:
        i = None if at is None else self.nearest(at)
        self.hovered_index = i
        if i is None:
            self._hover.hide()
            self.setToolTip("")
            return
        self.setToolTip(f"{self.paths[i]}\n{self.labels[i]}")
        self._show_hover(i)

    def _show_hover(self, i: int) -> None:
        """The image's thumbnail beside its point (asked for first if not loaded yet)."""
        pixmap = self._pixmaps.get(self.paths[i])
        if pixmap is None:
            self.thumbnails_wanted.emit([self.paths[i]])
            self._hover.hide()
            return
        self._hover.setPixmap(pixmap)
        self._hover.setOffset(10, -pixmap.height() - 10)
        self._hover.setPos(QPointF(*self.points[i]))
        self._hover.show()

    def _on_box_box_selected(self, rect: QRectF) -> None:
        x, y = self.points[:, 0], self.points[:, 1]
        inside = (x >= rect.left()) & (x <= rect.right()) & (y >= rect.top()) & (y <= rect.bottom())
        self._selected = [int(i) for i in np.nonzero(inside)[0]]
        self._draw_marks()
        self.selection_changed.emit(self.selected_paths())

    def _draw_marks(self) -> None:
        rows = self._selected + [i for i in self._highlighted if i not in self._selected]
        if not rows:
            self._marks.setData([], [])
            return
        black, red = pg.mkPen("k", width=2), pg.mkPen("#d62728", width=2)
        pens = [black] * len(self._selected) + [red] * (len(rows) - len(self._selected))
        self._marks.setData(self.points[rows, 0], self.points[rows, 1], pen=pens)

    # -- thumbnails in place ----------------------------------------------------------------

    def in_view(self) -> np.ndarray:
        (left, right), (bottom, top) = self.box.viewRange()
        x, y = self.points[:, 0], self.points[:, 1]
        return np.nonzero((x >= left) & (x <= right) & (y >= bottom) & (y <= top))[0]

    def _update_in_place(self, *_args) -> None:
        visible = self.in_view() if len(self.points) else np.zeros(0, int)
        show = set(visible.tolist()) if 0 < len(visible) <= IN_PLACE_MAX else set()
        for i in list(self._in_place):
            if i not in show:
                self.box.removeItem(self._in_place.pop(i))
        missing = []
        for i in show:
            pixmap = self._pixmaps.get(self.paths[i])
            if pixmap is None:
                missing.append(self.paths[i])
            elif i not in self._in_place:
                item = QGraphicsPixmapItem(
                    pixmap.scaled(IN_PLACE_SIDE, IN_PLACE_SIDE, Qt.AspectRatioMode.KeepAspectRatio)
                )
                item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
                item.setOffset(-item.pixmap().width() / 2, -item.pixmap().height() / 2)
                item.setPos(QPointF(*self.points[i]))
                item.setZValue(10)
                self.box.addItem(item, ignoreBounds=True)
                self._in_place[i] = item
        if missing:
            self.thumbnails_wanted.emit(missing)

    def in_place_count(self) -> int:
        return len(self._in_place)

    def hover_shown(self) -> bool:
        return self._hover.isVisible()

    def _clear_in_place(self) -> None:
        for item in self._in_place.values():
            self.box.removeItem(item)
        self._in_place.clear()
        self._hover.hide()
