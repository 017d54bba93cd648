"""ConvLens' application icon, drawn in code so there is no file to ship or lose."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap


def _draw(side: int) -> QPixmap:
    """A lens over a 3×3 grid of feature maps."""
    pixmap = QPixmap(side, side)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    unit = side / 16
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#1f3b57"))
    painter.drawRoundedRect(QRectF(0, 0, side, side), 3 * unit, 3 * unit)
    shades = ["#4c78a8", "#72b7b2", "#f58518", "#72b7b2", "#eeca3b", "#4c78a8", "#e45756",
              "#4c78a8", "#72b7b2"]  # fmt: skip
    for i, shade in enumerate(shades):
        row, col = divmod(i, 3)
        painter.setBrush(QColor(shade))
        painter.drawRect(
            QRectF((2 + 3.2 * col) * unit, (2 + 3.2 * row) * unit, 2.6 * unit, 2.6 * unit)
        )
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor("white"), 1.4 * unit))
    painter.drawEllipse(QRectF(6.5 * unit, 6.5 * unit, 6 * unit, 6 * unit))
    painter.drawLine(int(11.8 * unit), int(11.8 * unit), int(14.5 * unit), int(14.5 * unit))
    painter.end()
    return pixmap


def app_icon() -> QIcon:
    icon = QIcon()
    for side in (16, 32, 64, 128, 256):
        icon.addPixmap(_draw(side))
    return icon
