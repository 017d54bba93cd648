"""The lasso's geometry: which points a free-hand outline encloses."""

from __future__ import annotations

import numpy as np

from gui.widgets.feature_map_view import inside_polygon


def test_points_inside_a_concave_outline():
    # A "U": the notch at the top middle is outside.
    u = np.array([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)], float)
    points = np.array([(0.5, 2.5), (1.5, 2.5), (2.5, 2.5), (1.5, 0.5), (4, 1), (-1, 1)])
    assert inside_polygon(points, u).tolist() == [True, False, True, True, False, False]


def test_an_outline_of_fewer_than_three_points_encloses_nothing():
    assert not inside_polygon(np.zeros((4, 2)), np.array([(0, 0), (1, 1)], float)).any()
