"""Occlusion (Zeiler & Fergus 2014): how much the class's probability drops when a grey
square hides each part of the picture.

Needs nothing but the model's outputs (``engine.scores``), so it works on every backend and
on any model, at the price of one forward pass per position of the square. The occluded
copies go through the model in batches of ``options.batch_size``.
"""

from __future__ import annotations

import numpy as np

from core.explain.base import Attribution, Method, normalise
from core.models.labels import as_probabilities

GREY = 128


class Occlusion(Method):
    name = "occlusion"
    title = "Occlusion"
    summary = "the probability's drop when a grey square hides each part (any backend; slow)"
    needs_gradients = False

    def explain(self, engine, batch, target, layer, options, progress, cancel) -> Attribution:
        image = batch[0]
        height, width = image.shape[:2]
        patch = max(1, round(options.patch * min(height, width)))
        stride = max(1, patch // 2)
        grey = engine.preprocess([np.full((patch, patch, 3), GREY, np.uint8)])[0]
        ys, xs = positions(height, patch, stride), positions(width, patch, stride)
        spots = [(y, x) for y in ys for x in xs]
        before = probability(engine, batch, target.class_index)[0]
        # Each pixel gets the mean drop of the squares that covered it (as Captum does).
        total = np.zeros((height, width), np.float32)
        covered = np.zeros((height, width), np.float32)
        for start in range(0, len(spots), options.batch_size):
            cancel.raise_if_cancelled()
            chunk = spots[start : start + options.batch_size]
            copies = np.repeat(image[None], len(chunk), axis=0)
            for copy, (y, x) in zip(copies, chunk, strict=True):
                copy[y : y + patch, x : x + patch] = grey
            after = probability(engine, copies, target.class_index)
            for (y, x), value in zip(chunk, after, strict=True):
                total[y : y + patch, x : x + patch] += before - value
                covered[y : y + patch, x : x + patch] += 1
            done = start + len(chunk)
            progress(done, len(spots), "Occlusion…")
        raw = total / np.maximum(covered, 1)
        return Attribution(raw, normalise(raw), None, "probability")


def positions(side: int, patch: int, stride: int) -> list[int]:
    """Top-left offsets of the square along one side, the last one flush with the edge."""
    found = list(range(0, max(side - patch, 0) + 1, stride))
    if found[-1] != max(side - patch, 0):
        found.append(side - patch)
    return found


def probability(engine, batch: np.ndarray, class_index: int) -> np.ndarray:
    """The class's probability for each image of a preprocessed batch."""
    return as_probabilities(engine.scores(batch))[:, class_index].astype(np.float32)
