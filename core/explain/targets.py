"""Which layers a class activation map can be taken at, and the one taken by default.

A CAM needs maps: a layer whose output is height × width × channels. The default is the
last such layer on the way to the classifier, inside a nested base when the model has one
(the usual transfer-learning layout), as in the Grad-CAM paper. Works on the layer tree
(core.models.layers.LayerNode), so it needs no Keras. Light module.
"""

from __future__ import annotations

from core.models.layers import LayerNode, all_nodes

# Layers with maps that make poor targets: they only move, drop or pad their input's maps
# (pooling included: Grad-CAM at the conv layer before it is sharper).
_NOT_TARGETS = frozenset(
    {
        "InputLayer",
        "Dropout",
        "SpatialDropout2D",
        "ZeroPadding2D",
        "Cropping2D",
        "MaxPooling2D",
        "AveragePooling2D",
        "Rescaling",
        "Normalization",
        "Resizing",
        "CenterCrop",
    }
)


def has_maps(node: LayerNode) -> bool:
    """A leaf layer whose output is (height, width, channels) with more than one position."""
    shape = node.output_shape
    if node.children or not shape or len(shape) != 3 or node.class_name == "InputLayer":
        return False
    if any(isinstance(size, (list, tuple)) for size in shape):  # several outputs
        return False
    height, width = shape[0], shape[1]
    return not (height == 1 and width == 1)


def map_layers(tree: list[LayerNode]) -> list[str]:
    """Paths of every layer a CAM can be taken at, in graph order, nested ones included."""
    return [node.path for node in all_nodes(tree) if has_maps(node)]


def default_layer(tree: list[LayerNode]) -> str | None:
    """The last conv-like layer with maps, else the last layer with maps; None if none."""
    candidates = [node for node in all_nodes(tree) if has_maps(node)]
    preferred = [node for node in candidates if node.class_name not in _NOT_TARGETS]
    chosen = preferred or candidates
    return chosen[-1].path if chosen else None
