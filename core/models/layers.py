"""The layer tree of a Keras model, nested models included, and symbolic access to any layer.

A transfer-learning model usually holds its pretrained base as a single nested layer. An
inner layer's ``.output`` lives in the base's own graph, so asking the outer model for it
raises "Graph disconnected". ``symbolic_output`` re-calls the base, cut at the inner layer,
on the tensor the outer model feeds the base, which puts the inner output in the outer graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PATH_SEPARATOR = "/"


@dataclass
class LayerNode:
    name: str
    path: str  # names from the outermost model down, joined by "/"
    class_name: str
    output_shape: tuple | None  # without the batch dimension
    params: int
    trainable: bool
    children: list[LayerNode] = field(default_factory=list)

    @property
    def is_model(self) -> bool:
        return bool(self.children)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "class_name": self.class_name,
            "output_shape": list(self.output_shape) if self.output_shape is not None else None,
            "params": self.params,
            "trainable": self.trainable,
            "children": [child.to_dict() for child in self.children],
        }

    def walk(self):
        """This node and every node below it, in order."""
        yield self
        for child in self.children:
            yield from child.walk()


def all_nodes(nodes: list[LayerNode]):
    """Every node of a layer tree, nested ones included, in order."""
    for node in nodes:
        yield from node.walk()


def resolve_layer(nodes: list[LayerNode], name: str) -> str:
    """The full path of a layer named by its path or, when unique, by its bare name.

    KeyError says what to do: an unknown name points to ``convlens layers``, an ambiguous
    one lists the paths it could mean.
    """
    name = name.strip().strip(PATH_SEPARATOR)
    every = list(all_nodes(nodes))
    if any(node.path == name for node in every):
        return name
    matches = [node.path for node in every if node.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise KeyError(f"{name!r} names several layers; give one of: {', '.join(matches)}.")
    raise KeyError(f"The model has no layer {name!r}.")


def is_nested_model(layer) -> bool:
    return (
        hasattr(layer, "layers")
        and hasattr(layer, "inputs")
        and bool(getattr(layer, "layers", None))
    )


def _graph_node(layer, parent=None):
    """The node where layer is called in parent's graph.

    A layer records a node for every call, in any model: a base shared by two transfer
    models, or a nested model's own input-to-output node. Taking the wrong one puts the
    tensor in another graph ("Graph disconnected"), so pick the node parent owns.
    """
    nodes = getattr(layer, "_inbound_nodes", None) or []
    # A Sequential model keeps its graph in a Functional of its own.
    graph = getattr(parent, "_functional", None) or parent
    own = getattr(graph, "_nodes", None)
    if own:
        for index, node in enumerate(nodes):
            if f"{id(layer)}_ib-{index}" in own:  # keras.src.ops.function.make_node_key
                return node
    return nodes[-1] if nodes else None


def _output_shape(layer, parent) -> tuple | None:
    try:
        node = _graph_node(layer, parent)
        tensors = node.output_tensors if node is not None else [layer.output]
        return tuple(tensors[0].shape[1:])
    except (AttributeError, ValueError, IndexError, TypeError):
        return None


def layer_tree(model, prefix: str = "") -> list[LayerNode]:
    """One node per layer of model, in graph order; nested models carry their layers as children."""
    nodes = []
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        children = layer_tree(layer, path + PATH_SEPARATOR) if is_nested_model(layer) else []
        nodes.append(
            LayerNode(
                name=layer.name,
                path=path,
                class_name=type(layer).__name__,
                output_shape=_output_shape(layer, model),
                params=int(layer.count_params()) if layer.built else 0,
                trainable=bool(layer.trainable),
                children=children,
            )
        )
    return nodes


def find_layer(model, path: str):
    """The layer at a "/"-joined path; KeyError naming the path when it does not exist."""
    layer = model
    for part in path.split(PATH_SEPARATOR):
        try:
            layer = layer.get_layer(part)
        except (ValueError, AttributeError) as exc:
            raise KeyError(f"The model has no layer {path!r}.") from exc
    return layer


def symbolic_output(model, path: str):
    """The symbolic output of the layer at path, as a tensor of model's own graph."""
    import keras

    head, _, rest = path.partition(PATH_SEPARATOR)
    try:
        layer = model.get_layer(head)
    except ValueError as exc:
        raise KeyError(f"The model has no layer {path!r}.") from exc
    node = _graph_node(layer, model)
    if not rest:
        if is_nested_model(layer) and node is not None:
            return node.output_tensors[0]
        return layer.output
    if not is_nested_model(layer):
        raise KeyError(f"The model has no layer {path!r}: {head!r} is not a nested model.")
    inner = symbolic_output(layer, rest)
    cut = keras.Model(layer.inputs, inner, name=f"{layer.name}_to_{rest.replace('/', '_')}")
    fed = node.input_tensors if node is not None else layer.inputs
    return cut(fed[0] if len(fed) == 1 else fed)
