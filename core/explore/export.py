"""A map as a file: CSV (path, x, y, label) or a PNG scatter with a legend and, optionally,
thumbnails. Drawn with Pillow, so the command line needs no Qt. Written atomically.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.io.atomic import atomic_path

MAP_FORMATS = (".csv", ".png")
# A qualitative palette (Tableau 10 followed by its lighter half): neighbours differ.
PALETTE = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    (174, 199, 232), (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213),
    (196, 156, 148), (247, 182, 210), (199, 199, 199), (219, 219, 141), (158, 218, 229),
]  # fmt: skip
OTHER = (160, 160, 160)  # groups past the palette share one grey ("other")


def group_colors(groups: list[str]) -> dict[str, tuple[int, int, int]]:
    """A colour per group name, in legend order; past the palette, one grey."""
    return {g: PALETTE[i] if i < len(PALETTE) else OTHER for i, g in enumerate(groups)}


def write_map_csv(path, points, paths, labels, overwrite: bool = False) -> Path:
    with atomic_path(path, overwrite=overwrite) as partial:
        with open(partial, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "x", "y", "label"])
            for name, (x, y), label in zip(paths, points, labels, strict=True):
                writer.writerow([name, f"{x:.6g}", f"{y:.6g}", label])
    return Path(path)


def render_map(
    points: np.ndarray,
    labels: list[str],
    groups: list[str],
    paths: list[str] | None = None,
    thumbnails: int = 0,
    size: tuple[int, int] = (1400, 1000),
    title: str = "",
) -> Image.Image:
    """The scatter as an image: points coloured by group, a legend on the right, and up to
    `thumbnails` images drawn at their points (spread over the map)."""
    width, height = size
    legend_w = 260
    margin = 30
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=15)
    box = (margin, margin + 20, width - legend_w - margin, height - margin)
    xy = _to_pixels(np.asarray(points, dtype=np.float64), box)
    colors = group_colors(groups)
    radius = 4 if len(points) < 2000 else 2
    for (x, y), label in zip(xy, labels, strict=True):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colors[label])
    if paths and thumbnails:
        _draw_thumbnails(image, xy, labels, colors, paths, thumbnails)
    if title:
        draw.text((margin, 8), title, fill="black", font=font)
    _draw_legend(draw, groups, labels, colors, (width - legend_w, margin), font)
    return image


def write_map_png(path, image: Image.Image, overwrite: bool = False) -> Path:
    with atomic_path(path, overwrite=overwrite) as partial:
        image.save(partial, "PNG")
    return Path(path)


def _to_pixels(points: np.ndarray, box) -> np.ndarray:
    left, top, right, bottom = box
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    unit = (points - low) / span
    # y up, as in a plot
    return np.column_stack(
        [left + unit[:, 0] * (right - left), bottom - unit[:, 1] * (bottom - top)]
    )


def _draw_thumbnails(image, xy, labels, colors, paths, count: int, side: int = 56) -> None:
    from core.io.images import load_thumbnail

    # Spread: one image per cell of a coarse grid, so thumbnails do not pile up.
    cells: dict[tuple[int, int], int] = {}
    for i, (x, y) in enumerate(xy):
        cells.setdefault((int(x // (side * 1.6)), int(y // (side * 1.6))), i)
    chosen = list(cells.values())[:count]
    for i in chosen:
        try:
            thumb = Image.fromarray(load_thumbnail(paths[i], side))
        except Exception:  # a missing or unreadable image: its point stays a point
            continue
        x, y = xy[i]
        framed = Image.new("RGB", (thumb.width + 4, thumb.height + 4), colors[labels[i]])
        framed.paste(thumb, (2, 2))
        image.paste(framed, (int(x - framed.width / 2), int(y - framed.height / 2)))


def _draw_legend(draw, groups, labels, colors, origin, font) -> None:
    x, y = origin
    counts = {g: 0 for g in groups}
    for label in labels:
        counts[label] += 1
    shown = groups[: len(PALETTE)]
    for group in shown:
        draw.rectangle((x, y + 3, x + 12, y + 15), fill=colors[group])
        draw.text((x + 20, y), f"{group[:24]} ({counts[group]})", fill="black", font=font)
        y += 22
    rest = sum(counts[g] for g in groups[len(PALETTE) :])
    if rest:
        draw.rectangle((x, y + 3, x + 12, y + 15), fill=OTHER)
        draw.text((x + 20, y), f"other ({rest})", fill="black", font=font)
