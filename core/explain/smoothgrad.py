"""SmoothGrad (Smilkov et al. 2017): the input gradient averaged over noisy copies.

A single gradient map is speckled; averaging over copies with Gaussian noise keeps what is
stable. The noise is seeded, so the same request gives the same map.
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


class SmoothGrad(Method):
    name = "smoothgrad"
    title = "SmoothGrad"
    summary = "input gradients averaged over noisy copies (slower; --samples)"

    def explain(self, engine, batch, target, layer, options, progress, cancel) -> Attribution:
        gradients = gradients_of(engine, self.title)
        image = batch[0].astype(np.float32)
        sigma = options.noise * float(image.max() - image.min())
        rng = np.random.default_rng(options.seed)

        def noisy(_start: int, count: int) -> np.ndarray:
            noise = rng.normal(0.0, sigma, (count, *image.shape)).astype(np.float32)
            return image + noise

        samples = options.samples
        total = summed_input_gradients(
            gradients, noisy, samples, target.weights, options, progress, cancel, f"{self.title}…"
        )
        raw = np.abs(total / samples).sum(axis=-1)
        heatmap = normalise(raw, PIXEL_MAP_PERCENTILE)
        return Attribution(raw.astype(np.float32), heatmap, None, gradients.score)
