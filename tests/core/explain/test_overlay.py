"""Heatmap colours and the overlay on the photo."""

from __future__ import annotations

import numpy as np

from core.explain.overlay import OUTSIDE_BRIGHTNESS, colorize, compose, lookup_table


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(float) @ np.array([0.2126, 0.7152, 0.0722])


def test_colours_go_from_dark_to_light_so_more_evidence_reads_brighter():
    table = lookup_table()
    assert table.shape == (256, 3) and table.dtype == np.uint8
    assert np.all(np.diff(_luminance(table)) >= 0)
    assert _luminance(colorize(np.array([[0.0]])))[0, 0] < 10
    assert _luminance(colorize(np.array([[1.0]])))[0, 0] > 230


def test_the_map_is_blended_inside_the_box_and_the_rest_is_dimmed():
    photo = np.full((40, 60, 3), 200, np.uint8)
    heatmap = np.zeros((8, 8), np.float32)
    heatmap[:, 4:] = 1.0  # right half hot
    box = (10.0, 5.0, 50.0, 35.0)
    out = compose(photo, heatmap, box, opacity=0.5)
    assert out.shape == photo.shape
    dimmed = 200 * OUTSIDE_BRIGHTNESS
    assert np.all(np.abs(out[:5] - dimmed) <= 1)  # above the box
    assert np.all(np.abs(out[:, :10] - dimmed) <= 1)  # left of it
    cold, hot = out[20, 12], out[20, 48]
    assert _luminance(hot) > _luminance(cold) + 50
    np.testing.assert_array_equal(
        compose(photo, heatmap, box, 0.0)[5:35, 10:50], photo[5:35, 10:50]
    )
