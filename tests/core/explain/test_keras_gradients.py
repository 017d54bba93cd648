"""Gradients through nested bases: the same maps as the flattened model, frozen or not, from
the logits, for functional and Sequential models alike."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from core.engine.engine import Engine
from core.errors import ExplainError
from core.explain import METHODS, ExplainOptions, Target
from core.explain.integrated_gradients import black_baseline
from core.models.loaded import LoadedModel
from core.progress import NEVER_CANCELLED, no_progress
from tests.model_factory import random_images

SIZE = 32
NAMES = ["a", "b", "c"]
GRADIENT_METHODS = ["gradcam", "gradcam++", "integrated-gradients", "smoothgrad"]


def _base():
    inputs = keras.Input((SIZE, SIZE, 3), name="base_input")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(name="pool1")(x)
    x = layers.Conv2D(16, 3, padding="same", name="conv2")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="relu2")(x)
    return keras.Model(inputs, x, name="base")


@pytest.fixture(scope="module")
def twins():
    """A transfer model with a frozen base nested as one layer, and the same layers (the
    same weight objects) applied one after another: two layouts of one function."""
    keras.utils.set_random_seed(3)
    base = _base()
    bn = base.get_layer("bn")  # random statistics, so BatchNorm does something
    rng = np.random.default_rng(0)
    bn.set_weights(
        [w + rng.uniform(0.1, 0.5, w.shape).astype(np.float32) for w in bn.get_weights()]
    )
    base.trainable = False
    pool = layers.GlobalAveragePooling2D(name="pool")
    head = layers.Dense(len(NAMES), activation="softmax", name="head")
    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    nested = keras.Model(inputs, head(pool(base(inputs, training=False))), name="nested")
    flat_inputs = keras.Input((SIZE, SIZE, 3), name="image")
    x = flat_inputs
    for layer in base.layers[1:]:
        x = layer(x)
    flat = keras.Model(flat_inputs, head(pool(x)), name="flat")
    return _engine(nested), _engine(flat)


def _engine(model, names=NAMES) -> Engine:
    return Engine(LoadedModel(model, model.name, "file", (SIZE, SIZE), "tf", list(names)))


def _explain(engine, method, image, class_index=1, layer="relu2", options=None):
    explainer = METHODS[method]
    target = Target.for_class(class_index, int(engine.loaded.output_shape[-1]))
    return explainer.explain(
        engine,
        engine.preprocess([image]),
        target,
        layer if explainer.needs_layer else None,
        options or ExplainOptions(),
        no_progress,
        NEVER_CANCELLED,
    )


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_nested_and_flattened_models_give_the_same_map(twins, method):
    nested, flat = twins
    for image in random_images(2, SIZE, seed=4):
        inside = _explain(nested, method, image, layer="base/relu2")
        outside = _explain(flat, method, image, layer="relu2")
        assert np.abs(inside.heatmap - outside.heatmap).max() < 1e-5
        assert np.abs(inside.raw - outside.raw).max() < 1e-5
        # A real map, computed through the frozen base (no variable to record it by).
        assert inside.heatmap.max() == pytest.approx(1.0) and inside.heatmap.min() < 0.5


def test_the_naive_recipe_fails_on_the_nested_model(twins):
    """What tf-keras-vis and the keras.io recipe do; the reason this module exists."""
    nested, _ = twins
    model = nested.model
    conv = model.get_layer("base").get_layer("relu2")
    with pytest.raises(ValueError):
        keras.Model(model.inputs, [conv.output, model.output])


def test_the_score_is_the_logit_before_the_softmax(twins):
    nested, _ = twins
    model = nested.model
    batch = nested.preprocess(list(random_images(3, SIZE, seed=5)))
    head = model.get_layer("head")
    kernel, bias = head.get_weights()
    pooled = np.asarray(keras.Model(model.inputs[0], model.get_layer("pool").output)(batch))
    logits = pooled @ kernel + bias
    gradients = nested.backend.gradients()
    for index in range(len(NAMES)):
        weights = np.eye(len(NAMES), dtype=np.float32)[index]
        _maps, _grads, scores = gradients.layer_gradients(batch, "base/relu2", weights)
        np.testing.assert_allclose(scores, logits[:, index], rtol=1e-5, atol=1e-5)
    assert gradients.score == "logit"


def test_integrated_gradients_add_up_to_the_change_in_score(twins):
    """Completeness: the attributions sum to score(image) − score(black image)."""
    nested, _ = twins
    image = random_images(1, SIZE, seed=6)[0]
    found = _explain(nested, "integrated-gradients", image, options=ExplainOptions(steps=128))
    gradients = nested.backend.gradients()
    weights = Target.for_class(1, len(NAMES)).weights
    ends = np.stack([nested.preprocess([image])[0], black_baseline(nested, (SIZE, SIZE))])
    _grads, scores = gradients.input_gradients(ends, weights)
    assert found.raw.sum() == pytest.approx(scores[0] - scores[1], rel=0.02, abs=1e-3)


def test_a_sequential_model_with_a_nested_sequential_base():
    keras.utils.set_random_seed(7)
    base = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            layers.Conv2D(8, 3, activation="relu", name="c1"),
            layers.Conv2D(8, 3, activation="relu", name="c2"),
        ],
        name="seqbase",
    )
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            base,
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, activation="softmax"),
        ],
        name="seq",
    )
    engine = _engine(model)
    found = _explain(engine, "gradcam", random_images(1, SIZE, seed=8)[0], layer="seqbase/c2")
    assert found.raw.shape == (28, 28) and found.heatmap.shape == (SIZE, SIZE)
    assert found.score == "logit"


def test_two_class_sigmoid_model_explains_both_classes():
    """One sigmoid unit: class 1's evidence is class 0's counter-evidence."""
    keras.utils.set_random_seed(9)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(8, 3, activation="relu", name="conv")(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x), name="binary")
    engine = _engine(model, ["cat", "dog"])
    image = random_images(1, SIZE, seed=10)[0]
    dog = _explain(engine, "gradcam", image, class_index=1, layer="conv")
    cat = _explain(engine, "gradcam", image, class_index=0, layer="conv")
    np.testing.assert_allclose(cat.raw, -dog.raw, atol=1e-6)
    with pytest.raises(ExplainError, match="no class 2"):
        _explain(engine, "gradcam", image, class_index=2, layer="conv")


def test_a_layer_that_is_not_on_the_way_to_the_output(twins):
    nested, _ = twins
    with pytest.raises(ExplainError, match="no layer"):
        nested.backend.gradients().layer_gradients(
            nested.preprocess(list(random_images(1, SIZE))), "base/nothing", np.ones(3, np.float32)
        )
