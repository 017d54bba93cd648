"""Pieces of the layer tree's rows: shapes as text, which layers have maps, the grid icon,
and the filter that matches a row's name or type."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

NAME, TYPE = 0, 1  # the columns the filter reads (gui.widgets.layer_tree_view.COLUMNS)


def format_shape(shape) -> str:
    """(56, 56, 24) -> "56×56×24"; unknown sizes show as "?"."""
    if shape is None:
        return "—"
    if shape and isinstance(shape[0], (list, tuple)):  # several outputs
        return ", ".join(format_shape(part) for part in shape)
    return "×".join("?" if size is None else str(size) for size in shape) or "scalar"


def has_maps(node: dict) -> bool:
    """Conv-like output (H×W×C): the layers whose activations show as a grid of maps."""
    shape = node.get("output_shape")
    return shape is not None and len(shape) == 3 and not isinstance(shape[0], (list, tuple))


def grid_icon() -> QIcon:
    """A small 3×3 tile grid, echoing the activation grid these layers open."""
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(58, 130, 180))
    for row in range(3):
        for col in range(3):
            painter.drawRect(1 + col * 5, 1 + row * 5, 4, 4)
    painter.end()
    return QIcon(pixmap)


class NameOrTypeFilter(QSortFilterProxyModel):
    """Matches the Name or Type column; recursive filtering keeps the parents of matches."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self._needle = ""

    def set_needle(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.casefold()
        self.endFilterChange()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        if not self._needle:
            return True
        source = self.sourceModel()
        return any(
            self._needle in str(source.index(row, column, parent).data()).casefold()
            for column in (NAME, TYPE)
        )
