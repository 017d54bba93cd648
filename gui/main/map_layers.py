"""The layers and poolings the Feature map offers for a loaded model (from its ModelInfo)."""

from __future__ import annotations

from dataclasses import dataclass

from core.engine.pooling import poolings_for

POOLING_NAMES = {
    "avg": "average",
    "max": "max",
    "flatten": "none (flattened)",
    "none": "none (a vector)",
}


@dataclass(frozen=True)
class LayerChoice:
    path: str
    text: str  # the layer's path first (the combo finds it as it is typed), its output shape
    poolings: tuple[str, ...]  # the sensible ones, the layer's default first


def layer_choices(info) -> list[LayerChoice]:
    """Every layer with one feature output (nested layers too), in the model's order; the
    default feature layer says so."""
    found = []

    def walk(nodes: list[dict]) -> None:
        for node in nodes:
            shape = node.get("output_shape")
            if node["class_name"] != "InputLayer" and shape:
                size = "×".join(str(d) for d in shape if d is not None)
                default = " (default)" if node["path"] == info.default_feature_layer else ""
                found.append(
                    LayerChoice(
                        node["path"], f"{node['path']}  {size}{default}", poolings_for(shape)
                    )
                )
            walk(node.get("children") or [])

    walk(info.layers)
    return found


def choice_for(choices: list[LayerChoice], path: str | None) -> LayerChoice | None:
    return next((choice for choice in choices if choice.path == path), None)
