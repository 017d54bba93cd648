"""Do the maps point at what the model uses? The pointing game and a randomisation check,
on a small model trained here to name the colour of a bright square on clutter."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from core.explain import METHODS, ExplainOptions, Target
from core.progress import NEVER_CANCELLED, no_progress
from tests.core.explain.conftest import spot_engine
from tests.core.explain.synthetic import CLASSES

LAST_CONV = "conv3"


def heatmaps(engine, images, labels, method: str) -> list[np.ndarray]:
    """Each image's heatmap for its true class, with the default options."""
    explainer = METHODS[method]
    layer = LAST_CONV if explainer.needs_layer else None
    maps = []
    for image, label in zip(images, labels, strict=True):
        target = Target.for_class(int(label), len(CLASSES))
        batch = engine.preprocess([image])
        found = explainer.explain(
            engine, batch, target, layer, ExplainOptions(), no_progress, NEVER_CANCELLED
        )
        maps.append(found.heatmap)
    return maps


def test_the_model_learned_the_task(trained_engine, test_scenes):
    """Otherwise the checks below would say nothing."""
    predicted = [
        labels[0].index
        for labels in trained_engine.classify_arrays(list(test_scenes.images), prepared=True)
    ]
    assert np.mean(np.asarray(predicted) == test_scenes.labels) >= 0.9


@pytest.mark.parametrize(
    "method, count",
    [("gradcam", 30), ("gradcam++", 30), ("integrated-gradients", 30), ("occlusion", 10)],
)
def test_pointing_game_the_maximum_falls_on_the_object(trained_engine, test_scenes, method, count):
    """The heatmap's hottest pixel lies inside the square in at least 90% of the pictures."""
    images, labels = test_scenes.images[:count], test_scenes.labels[:count]
    hits = 0
    for heatmap, (top, left, side) in zip(
        heatmaps(trained_engine, images, labels, method), test_scenes.boxes, strict=False
    ):
        y, x = np.unravel_index(np.argmax(heatmap), heatmap.shape)
        hits += top <= y < top + side and left <= x < left + side
    assert hits / count >= 0.9


def _randomised_top(model, names: list[str], seed: int = 1):
    """A copy of model whose named layers have fresh random weights (Adebayo et al. 2018)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    initializer = keras.initializers.GlorotUniform(seed=seed)
    for name in names:
        layer = copy.get_layer(name)
        layer.set_weights(
            [
                np.asarray(initializer(w.shape)) if w.ndim > 1 else np.zeros_like(w)
                for w in layer.get_weights()
            ]
        )
    return copy


def test_randomising_the_top_layers_changes_the_map(trained_model, trained_engine, test_scenes):
    """Model-parameter randomisation: a map that survives losing what the model learned
    explains the picture, not the model. Spearman rank correlation must drop below 0.5."""
    images, labels = test_scenes.images[:12], test_scenes.labels[:12]
    trained = heatmaps(trained_engine, images, labels, "gradcam")
    randomised = spot_engine(_randomised_top(trained_model, ["classes", LAST_CONV]))
    fresh = heatmaps(randomised, images, labels, "gradcam")
    # A constant map (nothing positive at all) has no ranks to correlate: count it as 0.
    rho = [
        np.nan_to_num(spearmanr(a.ravel(), b.ravel()).statistic)
        for a, b in zip(trained, fresh, strict=True)
    ]
    assert np.mean(rho) < 0.5
    # The trained maps are not constant: the check compares real maps.
    assert all(m.max() == 1.0 and m.min() < 0.5 for m in trained)
