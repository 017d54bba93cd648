"""The Feature map at any layer and pooling, chosen in the dock with real keys:
another layer computes its features, the default layer reuses the ones already computed,
and the choice is remembered for the model."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.models.zoo import BUILTIN_NAME
from gui.app.settings import Settings
from tests.gui.conftest import open_window, wait_idle


def count_forward_passes(engine) -> list[tuple[tuple[str, ...], int]]:
    """Record the layers and the batch size of every forward pass the engine makes from now on."""
    passes: list[tuple[tuple[str, ...], int]] = []
    layer_outputs, scores = engine.layer_outputs, engine.scores

    def counted_layer_outputs(batch, layer_paths):
        passes.append((tuple(layer_paths), len(batch)))
        return layer_outputs(batch, layer_paths)

    def counted_scores(batch):
        passes.append((("scores",), len(batch)))
        return scores(batch)

    engine.layer_outputs, engine.scores = counted_layer_outputs, counted_scores
    return passes


def mapped(qtbot, window, layer: str):
    exploring = window.exploring
    wait_idle(window)
    qtbot.waitUntil(lambda: exploring.result is not None and exploring.result.layer == layer)
    return exploring.result


def test_the_map_at_another_layer_and_pooling_and_back(qtbot, window, photos):
    paths = [str(photos["chelsea"]), str(photos["coffee"])]
    window.add_images(paths)
    wait_idle(window)
    passes = count_forward_passes(window.session.worker._engine)

    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    panel = window.exploring.panel
    # The model's default feature layer is chosen and named; its outputs are vectors already.
    assert panel.layer.currentText().startswith("avg_pool  1280 (default)")
    assert panel.pooling.currentText() == "Pool: none (a vector)"
    assert not panel.pooling.isEnabled()
    result = mapped(qtbot, window, "avg_pool")
    assert sorted(result.paths) == sorted(paths)
    assert "2 images at avg_pool by PCA" in panel.status.text()
    assert passes == []  # classification kept these features (on ONNX Runtime too)

    # Typing a layer's name on the layer choice maps that layer, from a new forward pass.
    before = len(passes)
    panel.layer.setFocus()
    qtbot.keyClicks(panel.layer, "top_conv")
    assert panel.layer.currentText() == "top_conv  7×7×1280"
    result = mapped(qtbot, window, "top_conv")
    assert "2 images at top_conv (average-pooled) by PCA" in panel.status.text()
    assert ("top_conv",) in [layers for layers, _size in passes[before:]]
    assert sorted(result.paths) == sorted(paths)

    # Its maps can be pooled otherwise: max, the next choice down.
    assert panel.pooling.isEnabled()
    assert [panel.pooling.itemText(i) for i in range(panel.pooling.count())] == [
        "Pool: average",
        "Pool: max",
    ]
    panel.pooling.setFocus()
    qtbot.keyClick(panel.pooling, Qt.Key.Key_Down)
    wait_idle(window)
    qtbot.waitUntil(lambda: "top_conv (max-pooled)" in panel.status.text())
    assert window.exploring.result.pooling == "max"
    assert Settings().map_layer(window.session.model.key) == ("top_conv", "max")

    # Back to the default layer: the features computed before are reused, no forward pass.
    before = len(passes)
    panel.layer.setFocus()
    qtbot.keyClicks(panel.layer, "avg_pool")
    result = mapped(qtbot, window, "avg_pool")
    assert "2 images at avg_pool by PCA" in panel.status.text()
    assert passes[before:] == []
    assert Settings().map_layer(window.session.model.key) == ("avg_pool", "none")


def test_the_layer_and_pooling_are_remembered_for_the_model(qtbot):
    Settings().set_map_layer(BUILTIN_NAME, "top_conv", "max")
    window = open_window(qtbot)
    panel = window.exploring.panel
    assert panel.layer.currentData() == "top_conv"
    assert panel.pooling.currentText() == "Pool: max"
    assert panel.pooling.isEnabled()
