"""The activation-grid PNG as a figure: a title above the tiles and a colour bar below, so
the file says what it shows and what its colours mean when it is read on its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from core.errors import ExportError
from core.io.atomic import atomic_path
from gui.widgets.colormaps import BACKGROUND

TITLE_HEIGHT = 28
COLORBAR_HEIGHT = 40  # the bar and the numbers under it
_MARGIN = 8
_TEXT = QColor(235, 235, 235)


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def framed(grid: QImage, title: str, levels: tuple[float, float], lut: np.ndarray) -> QImage:
    """grid with title above and a colour bar for levels (lut: 256×3 uint8) below."""
    width, height = grid.width(), grid.height()
    image = QImage(width, TITLE_HEIGHT + height + COLORBAR_HEIGHT, QImage.Format.Format_RGB888)
    image.fill(BACKGROUND)
    painter = QPainter(image)
    font = QFont()
    font.setPixelSize(13)
    painter.setFont(font)
    painter.setPen(_TEXT)
    text_box = QRect(_MARGIN, 0, width - 2 * _MARGIN, TITLE_HEIGHT)
    elided = painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideMiddle, text_box.width())
    painter.drawText(text_box, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
    painter.drawImage(0, TITLE_HEIGHT, grid)

    bar_top = TITLE_HEIGHT + height + 6
    bar_width = max(1, width - 2 * _MARGIN)
    ramp = np.asarray(lut, dtype=np.uint8)[np.linspace(0, len(lut) - 1, bar_width).astype(int)]
    strip = np.ascontiguousarray(np.repeat(ramp[None, :, :], 12, axis=0))
    bar = QImage(strip.data, bar_width, 12, strip.strides[0], QImage.Format.Format_RGB888)
    painter.drawImage(_MARGIN, bar_top, bar.copy())
    low, high = levels
    numbers = QRect(_MARGIN, bar_top + 12, bar_width, COLORBAR_HEIGHT - 18)
    painter.drawText(numbers, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, _fmt(low))
    painter.drawText(
        numbers, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _fmt(high)
    )
    painter.drawText(numbers, Qt.AlignmentFlag.AlignCenter, "activation")
    painter.end()
    return image


def save_grid_png(target: Path, grid: QImage, title: str, levels, lut: np.ndarray) -> None:
    """framed(grid, …) written to target atomically; ExportError when Qt cannot write it.

    The tiles are the maps at full resolution, repeated by a whole factor up to at least
    EXPORT_MIN_TILE pixels and separated by borders (gui.widgets.colormaps.render_page_image).
    """
    image = framed(grid, title, levels, lut)
    with atomic_path(target) as partial:
        if not image.save(str(partial), "PNG"):  # Qt says no more than that
            raise ExportError(
                f"Could not write {target}: Qt could not save the PNG there; choose another folder."
            )
