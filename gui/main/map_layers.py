"""The layers and poolings the Feature map offers for a loaded model, remembered per model."""

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


class LayerChoices:
    """The panel's layer and pooling choices for the loaded model, remembered per model."""

    def __init__(self, panel, settings) -> None:
        self.panel, self.settings = panel, settings
        self.model_key: str | None = None
        self.choices: list[LayerChoice] = []

    def offer(self, info) -> None:
        """The model's layers, the one last mapped with it chosen (else its default)."""
        self.model_key = info.key
        self.choices = layer_choices(info)
        saved = self.settings.map_layer(info.key)
        if saved and choice_for(self.choices, saved[0]):
            layer, pooling = saved
        else:
            layer, pooling = info.default_feature_layer, None
        self.panel.set_layers(self.choices, layer)
        self.offer_poolings(layer, pooling)

    def offer_poolings(self, layer: str, pooling: str | None) -> None:
        """The poolings that suit layer, pooling chosen if it does (else the layer's default)."""
        choice = choice_for(self.choices, layer)
        self.panel.set_poolings(choice.poolings if choice else (), pooling, POOLING_NAMES)

    def chosen(self) -> tuple[str | None, str | None]:
        return self.panel.choice(self.panel.layer), self.panel.choice(self.panel.pooling)

    def remember(self) -> None:
        layer, pooling = self.chosen()
        if layer and pooling and self.model_key:
            self.settings.set_map_layer(self.model_key, layer, pooling)
