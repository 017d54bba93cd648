"""The activation colour map and the pixel work behind the activation view: tiling channel
maps into a page, colouring a page into an image for export, resizing a map for the overlay.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

COLORMAP_NAME = "viridis"  # perceptually uniform and readable by colour-blind users
BACKGROUND = QColor(20, 20, 20)
EXPORT_MIN_TILE = 64  # exported tiles are repeated up to at least this many pixels
EXPORT_GAP = 2


def colormap() -> pg.ColorMap:
    return pg.colormap.get(COLORMAP_NAME)


def lookup_table(size: int = 256) -> np.ndarray:
    """(size, 3) uint8 RGB table of the activation colour map."""
    return colormap().getLookupTable(nPts=size, alpha=False)


def apply_levels(data: np.ndarray, levels: tuple[float, float], lut: np.ndarray) -> np.ndarray:
    """Colour a float array like pyqtgraph does: clip to levels, index the table; NaN -> 0."""
    low, high = levels
    span = high - low if high > low else 1.0
    scaled = np.nan_to_num((data - low) / span, nan=0.0)
    indices = np.clip(scaled * (len(lut) - 1), 0, len(lut) - 1).astype(np.intp)
    return lut[indices]


def upsample(channel: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map to (height, width), aligning pixel centres.

    Activations are coarse (7x7 at the end of most networks); blocky nearest-neighbour
    squares would suggest a precision the map does not have.
    """
    height, width = size
    src_h, src_w = channel.shape
    ys = np.clip((np.arange(height) + 0.5) * src_h / height - 0.5, 0, src_h - 1)
    xs = np.clip((np.arange(width) + 0.5) * src_w / width - 0.5, 0, src_w - 1)
    y0 = np.floor(ys).astype(np.intp)
    x0 = np.floor(xs).astype(np.intp)
    y1 = np.minimum(y0 + 1, src_h - 1)
    x1 = np.minimum(x0 + 1, src_w - 1)
    wy = (ys - y0)[:, None]
    wx = (xs - x0)[None, :]
    data = channel.astype(np.float32, copy=False)
    top = data[y0][:, x0] * (1 - wx) + data[y0][:, x1] * wx
    bottom = data[y1][:, x0] * (1 - wx) + data[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def compose_page(maps: np.ndarray, channels: np.ndarray, columns: int) -> np.ndarray:
    """Tile maps[:, :, channels] row by row into one 2-D array; empty slots are NaN."""
    height, width, _ = maps.shape
    rows = max(1, math.ceil(len(channels) / columns))
    tiles = np.full((height, width, rows * columns), np.nan, dtype=np.float32)
    tiles[:, :, : len(channels)] = maps[:, :, channels]
    return (
        tiles.reshape(height, width, rows, columns)
        .transpose(2, 0, 3, 1)
        .reshape(rows * height, columns * width)
    )


def render_tiles(
    maps: np.ndarray,
    channels: np.ndarray,
    columns: int,
    levels: tuple[float, float],
    lut: np.ndarray,
    *,
    min_tile: int,
    gap: int,
    background: tuple[int, int, int],
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Colour a page of channel maps into one RGB uint8 image; also each tile's (x, y, w, h).

    Tiles keep every activation pixel, repeated by a whole factor so a 7×7 map still makes a
    tile of at least min_tile pixels, with gap-pixel borders in the background colour.
    """
    height, width = maps.shape[:2]
    scale = max(1, math.ceil(min_tile / max(height, width)))
    tile_h, tile_w = height * scale, width * scale
    rows = max(1, math.ceil(len(channels) / columns))
    canvas = np.empty(
        (rows * tile_h + (rows + 1) * gap, columns * tile_w + (columns + 1) * gap, 3), np.uint8
    )
    canvas[:] = background
    boxes = []
    for slot, channel in enumerate(channels):
        row, col = divmod(slot, columns)
        x, y = gap + col * (tile_w + gap), gap + row * (tile_h + gap)
        tile = maps[:, :, channel].repeat(scale, axis=0).repeat(scale, axis=1)
        canvas[y : y + tile_h, x : x + tile_w] = apply_levels(tile, levels, lut)
        boxes.append((x, y, tile_w, tile_h))
    return canvas, boxes


def render_page_image(
    maps: np.ndarray,
    channels: np.ndarray,
    columns: int,
    levels: tuple[float, float],
    lut: np.ndarray,
    labels: bool = True,
) -> QImage:
    """A page of channel maps as an image in the given colours, optionally numbered."""
    canvas, boxes = render_tiles(
        maps,
        channels,
        columns,
        levels,
        lut,
        min_tile=EXPORT_MIN_TILE,
        gap=EXPORT_GAP,
        background=BACKGROUND.getRgb()[:3],
    )
    height, width = canvas.shape[:2]
    image = QImage(canvas.data, width, height, canvas.strides[0], QImage.Format.Format_RGB888)
    image = image.copy()  # own the pixels: canvas is freed on return
    if labels and boxes:
        painter = QPainter(image)
        font = QFont()
        font.setPixelSize(max(9, min(14, boxes[0][3] // 6)))
        painter.setFont(font)
        painter.setPen(QColor(240, 240, 240))
        for channel, (x, y, tile_w, tile_h) in zip(channels, boxes, strict=True):
            box = painter.boundingRect(x, y, tile_w, tile_h, 0, f" {channel} ")
            painter.fillRect(box, QColor(0, 0, 0, 150))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, f" {channel} ")
        painter.end()
    return image
