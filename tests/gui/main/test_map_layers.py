"""The layers and poolings the Feature map offers, read from a model's layer tree."""

from __future__ import annotations

from types import SimpleNamespace

from gui.main.map_layers import layer_choices


def _node(path, class_name, shape, children=()):
    return {"path": path, "class_name": class_name, "output_shape": shape, "children": children}


def test_every_layer_with_one_output_nested_ones_too_the_default_marked():
    base = _node(
        "base",
        "Functional",
        [7, 7, 1280],
        [_node("base/input", "InputLayer", [96, 96, 3]), _node("base/conv", "Conv2D", [3, 3, 64])],
    )
    info = SimpleNamespace(
        default_feature_layer="pool",
        layers=[
            _node("image", "InputLayer", [96, 96, 3]),
            base,
            _node("pool", "GlobalAveragePooling2D", [1280]),
            _node("merged", "Concatenate", None),  # several outputs: not a feature layer
            _node("classifier", "Dense", [3]),
        ],
    )
    choices = {choice.path: choice for choice in layer_choices(info)}
    assert list(choices) == ["base", "base/conv", "pool", "classifier"]
    assert choices["pool"].text == "pool  1280 (default)"
    assert choices["pool"].poolings == ("none",)
    assert choices["base/conv"].text == "base/conv  3×3×64"
    assert choices["base/conv"].poolings == ("avg", "max", "flatten")
    assert choices["base"].poolings == ("avg", "max")  # 62,720 numbers: too many to flatten
