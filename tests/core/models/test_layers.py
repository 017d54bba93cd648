"""The layer tree of nested models, and reading any layer's output, inner layers included."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from core.engine.engine import Engine
from core.models.layers import find_layer, layer_tree, symbolic_output
from core.models.loading import LoadedModel
from core.models.preprocessing import preprocess
from tests.model_factory import SMALL, make_distinctive, random_images, transfer_model

BASE = "mobilenetv2_1.00_96"
INNER = f"{BASE}/block_3_expand_relu"


@pytest.fixture(scope="module")
def model():
    model = transfer_model()
    make_distinctive(model.get_layer(BASE))
    return model


@pytest.fixture(scope="module")
def engine(model):
    loaded = LoadedModel(model, "flowers", "file", (SMALL, SMALL), "tf", ["a", "b", "c"])
    return Engine(loaded)


@pytest.fixture(scope="module")
def image():
    return random_images(1, SMALL, seed=4)[0]


@pytest.fixture(scope="module")
def tree(model):
    return layer_tree(model)


def test_nested_base_is_one_node_with_its_layers_as_children(tree, model):
    assert [node.name for node in tree] == ["image", BASE, "pool", "dropout", "classifier"]
    base = tree[1]
    assert base.is_model and base.class_name == "Functional"
    assert len(base.children) == len(model.get_layer(BASE).layers)
    child = next(node for node in base.children if node.name == "block_3_expand_relu")
    assert child.path == INNER
    assert child.output_shape == (24, 24, 144)
    assert all(node.path.startswith(BASE + "/") for node in base.walk() if node is not base)


def test_tree_shapes_params_and_trainable(tree, model):
    shapes = {node.name: node.output_shape for node in tree}
    assert shapes == {
        "image": (SMALL, SMALL, 3),
        BASE: (3, 3, 1280),
        "pool": (1280,),
        "dropout": (1280,),
        "classifier": (3,),
    }
    assert sum(node.params for node in tree) == model.count_params()
    base = tree[1]
    assert sum(child.params for child in base.children) == base.params
    assert tree[-1].params == 1280 * 3 + 3
    assert not base.trainable and not any(child.trainable for child in base.children[1:])
    assert tree[-1].trainable


def test_tree_is_json_serialisable(tree):
    data = json.loads(json.dumps([node.to_dict() for node in tree]))
    base = data[1]
    assert base["output_shape"] == [3, 3, 1280]
    assert base["children"][1]["path"] == f"{BASE}/{base['children'][1]['name']}"
    assert data[0]["children"] == []


def test_inner_layer_output_equals_running_the_base_alone(engine, model, image):
    """Reading inside a nested base works ("Graph disconnected" in naive code)."""
    got = engine.activations(image, [INNER])[INNER]

    base = model.get_layer(BASE)
    alone = keras.Model(base.inputs, base.get_layer("block_3_expand_relu").output)
    batch = preprocess(engine.prepare(image)[None], "tf")
    expected = np.asarray(alone(batch))[0]

    assert got.shape == (24, 24, 144)
    assert got.std() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_several_layers_in_one_pass(engine, model, image):
    paths = [INNER, BASE, "pool", "classifier"]
    outputs = engine.activations(image, paths)
    assert list(outputs) == paths
    assert [out.shape for out in outputs.values()] == [(24, 24, 144), (3, 3, 1280), (1280,), (3,)]
    # One sub-model computes them all, from one forward pass.
    assert len(engine.backend.submodel(paths).outputs) == 4
    batch = preprocess(engine.prepare(image)[None], "tf")
    np.testing.assert_allclose(outputs["classifier"], np.asarray(model(batch))[0], rtol=1e-5)
    np.testing.assert_allclose(outputs["pool"], outputs[BASE].mean(axis=(0, 1)), rtol=1e-5)


def test_sub_models_are_built_once_and_reused(engine):
    first = engine.backend.submodel([INNER, "pool"])
    assert engine.backend.submodel([INNER, "pool"]) is first
    assert engine.backend.submodel(["pool"]) is not first


def test_a_base_shared_by_two_models_is_read_in_each(model, image):
    """Training often wraps one base twice; each model reads its own graph."""
    base = model.get_layer(BASE)
    inputs = keras.Input((SMALL, SMALL, 3))
    other = keras.Model(inputs, keras.layers.GlobalMaxPooling2D()(base(inputs)), name="other")
    for outer in (model, other):
        engine = Engine(LoadedModel(outer, outer.name, "file", (SMALL, SMALL), "tf", []))
        outputs = engine.activations(image, [INNER, BASE])
        assert outputs[INNER].shape == (24, 24, 144)
        assert outputs[BASE].shape == (3, 3, 1280)


def test_sequential_models_nested_and_outer(image):
    base = keras.Sequential(
        [keras.Input((SMALL, SMALL, 3)), keras.layers.Conv2D(4, 3, name="c1")], name="seq_base"
    )
    model = keras.Sequential(
        [keras.Input((SMALL, SMALL, 3)), base, keras.layers.GlobalAveragePooling2D(name="gap")]
    )
    engine = Engine(LoadedModel(model, "seq", "file", (SMALL, SMALL), "none", []))
    outputs = engine.activations(image, ["seq_base/c1", "gap"])
    assert outputs["seq_base/c1"].shape == (SMALL - 2, SMALL - 2, 4)
    np.testing.assert_allclose(outputs["gap"], outputs["seq_base/c1"].mean(axis=(0, 1)), rtol=1e-5)
    assert [child.path for child in layer_tree(model)[0].children] == ["seq_base/c1"]


@pytest.mark.parametrize("path", ["nope", f"{BASE}/nope", "pool/inner"])
def test_unknown_layer_paths_raise_key_error_naming_them(model, path):
    with pytest.raises(KeyError, match="nope|pool/inner"):
        symbolic_output(model, path)
    with pytest.raises(KeyError):
        find_layer(model, path)


def test_find_layer_follows_paths(model):
    assert find_layer(model, INNER).name == "block_3_expand_relu"
    assert find_layer(model, "pool").name == "pool"
