"""Heatmaps as colours over the photo: the colour map, blending, and placing the map where
the network's input lies in the photo.

The network sees a centre crop of the photo (or all of it, squashed). The heatmap covers
exactly that part; the rest of the photo is shown dimmed, so the picture says both what
the network looked at and where. Light module: numpy and Pillow only (the window uses it to
re-blend when the opacity changes).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# Matplotlib's "inferno" at nine evenly spaced stops: perceptually uniform, readable by
# colour-blind people and in grey print; cold areas go dark, so the evidence stands out.
_INFERNO = (
    (0, 0, 4),
    (31, 12, 72),
    (85, 15, 109),
    (136, 34, 106),
    (186, 54, 85),
    (227, 89, 51),
    (249, 140, 10),
    (249, 201, 50),
    (252, 255, 164),
)
DEFAULT_OPACITY = 0.5
OUTSIDE_BRIGHTNESS = 0.45  # the part of the photo the network did not see


def lookup_table(size: int = 256) -> np.ndarray:
    """(size, 3) uint8 colours from low (dark purple) to high (pale yellow)."""
    stops = np.asarray(_INFERNO, np.float64)
    where = np.linspace(0.0, 1.0, len(stops))
    points = np.linspace(0.0, 1.0, size)
    table = [np.interp(points, where, stops[:, channel]) for channel in range(3)]
    return np.rint(np.stack(table, axis=1)).astype(np.uint8)


_TABLE = lookup_table()


def colorize(heatmap: np.ndarray) -> np.ndarray:
    """A [0, 1] map as (H, W, 3) uint8 colours."""
    scaled = np.nan_to_num(np.asarray(heatmap, np.float32)) * (len(_TABLE) - 1) + 0.5
    return _TABLE[np.clip(scaled, 0, len(_TABLE) - 1).astype(np.intp)]


def blend(picture: np.ndarray, heatmap: np.ndarray, opacity: float) -> np.ndarray:
    """The coloured map over a picture of the same size, at opacity in [0, 1]."""
    # Integer arithmetic in 1/256ths: the window re-blends while the opacity slider moves.
    weight = int(round(float(np.clip(opacity, 0.0, 1.0)) * 256))
    mixed = picture.astype(np.uint16) * (256 - weight) + colorize(heatmap) * np.uint16(weight)
    return (mixed >> 8).astype(np.uint8)


def compose(
    photo: np.ndarray,
    heatmap: np.ndarray,
    box: tuple[float, float, float, float],
    opacity: float = DEFAULT_OPACITY,
) -> np.ndarray:
    """The heatmap over the part of photo at box (left, top, right, bottom); the rest dimmed."""
    height, width = photo.shape[:2]
    left, top, right, bottom = (int(round(v)) for v in box)
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(max(right, left + 1), width), min(max(bottom, top + 1), height)
    dim = np.uint16(round(OUTSIDE_BRIGHTNESS * 256))
    out = ((photo.astype(np.uint16) * dim) >> 8).astype(np.uint8)
    resized = Image.fromarray(np.asarray(heatmap, np.float32)).resize(
        (right - left, bottom - top), Image.Resampling.BILINEAR
    )
    inside = photo[top:bottom, left:right]
    out[top:bottom, left:right] = blend(inside, np.asarray(resized), opacity)
    return out
