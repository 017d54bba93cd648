"""Integrated Gradients (Sundararajan et al. 2017): gradients summed along the straight path
from a black image to the photo, times the difference between the two.

Its attributions add up to the score's change from the baseline to the photo
("completeness"). The path's points are fed in batches of ``options.batch_size``, so a
large model with many steps never needs more memory than one batch.
"""

from __future__ import annotations

import numpy as np

from core.explain.base import (
    PIXEL_MAP_PERCENTILE,
    Attribution,
    Method,
    gradients_of,
    normalise,
    summed_input_gradients,
)


class IntegratedGradients(Method):
    name = "integrated-gradients"
    title = "Integrated Gradients"
    summary = "pixel attributions along the path from a black image (slower; --steps)"

    def explain(self, engine, batch, target, layer, options, progress, cancel) -> Attribution:
        gradients = gradients_of(engine, self.title)
        image = batch[0].astype(np.float32)
        baseline = black_baseline(engine, image.shape[:2])
        steps = options.steps
        # Midpoints of the steps: a Riemann sum that is exact for a linear model.
        alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)

        def points(start: int, count: int) -> np.ndarray:
            return baseline + alphas[start : start + count, None, None, None] * (image - baseline)

        total = summed_input_gradients(
            gradients, points, steps, target.weights, options, progress, cancel, f"{self.title}…"
        )
        attributions = (image - baseline) * total / steps
        raw = attributions.sum(axis=-1)
        heatmap = normalise(np.maximum(raw, 0.0), PIXEL_MAP_PERCENTILE)
        return Attribution(raw.astype(np.float32), heatmap, None, gradients.score)


def black_baseline(engine, size: tuple[int, int]) -> np.ndarray:
    """A black picture as the network takes it (after the model's preprocessing)."""
    black = np.zeros((*size, 3), np.uint8)
    return engine.preprocess([black])[0].astype(np.float32)
