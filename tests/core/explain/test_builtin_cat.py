"""The built-in model on scikit-image's cat: the map lies on the cat, and on the coffee for
"espresso" (a 2×2 composite: cat top-left, coffee bottom-right, noise elsewhere)."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from PIL import Image

from core.engine.engine import Engine
from core.explain import METHODS, ExplainOptions, Target
from core.models.loading import load_model
from core.models.zoo import BUILTIN_NAME
from core.progress import NEVER_CANCELLED, no_progress

QUADRANT = 224


@pytest.fixture(scope="module")
def builtin_engine():
    return Engine(load_model(BUILTIN_NAME))


@pytest.fixture(scope="module")
def composite(builtin_engine):
    """The fitted network input of the composite and the masks of its two photos there."""
    canvas = np.random.default_rng(0).integers(90, 170, (2 * QUADRANT, 2 * QUADRANT, 3))
    canvas = canvas.astype(np.uint8)
    for photo, (y, x) in ((skimage.data.chelsea(), (0, 0)), (skimage.data.coffee(), (1, 1))):
        resized = Image.fromarray(photo).resize((QUADRANT, QUADRANT))
        canvas[y * QUADRANT : (y + 1) * QUADRANT, x * QUADRANT : (x + 1) * QUADRANT] = resized
    fitted = builtin_engine.prepare(canvas)
    half = fitted.shape[0] // 2  # the centre crop keeps the quadrants' meeting point central
    cat, coffee = np.zeros(fitted.shape[:2], bool), np.zeros(fitted.shape[:2], bool)
    cat[:half, :half] = True
    coffee[half:, half:] = True
    return fitted, {"cat": cat, "coffee": coffee}


@pytest.mark.parametrize(
    "label, photo, share",
    [("tabby", "cat", 0.6), ("Egyptian_cat", "cat", 0.6), ("espresso", "coffee", 0.5)],
)
def test_the_map_lies_on_the_photo_of_its_class(builtin_engine, composite, label, photo, share):
    """Each photo covers a quarter of the input; its class's Grad-CAM puts most of its mass
    there (measured: cat classes about 0.8, espresso about 0.66) and its peak inside it."""
    fitted, masks = composite
    engine = builtin_engine
    target = Target.for_class(engine.loaded.class_names.index(label), 1000)
    found = METHODS["gradcam"].explain(
        engine,
        engine.preprocess([fitted]),
        target,
        "top_activation",
        ExplainOptions(),
        no_progress,
        NEVER_CANCELLED,
    )
    heatmap, mask = found.heatmap, masks[photo]
    assert (heatmap * mask).sum() / heatmap.sum() >= share
    assert mask[np.unravel_index(np.argmax(heatmap), heatmap.shape)]
    assert found.layer == "top_activation" and found.score == "logit"
