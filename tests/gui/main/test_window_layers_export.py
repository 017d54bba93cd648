"""Walking the layers of the loaded model and exporting features from the File menu."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.io.export import read_features
from gui.main.layout import ACTIVATION_PANE_MIN
from gui.widgets.export_dialog import SCOPE_ALL, SCOPE_SELECTED, ExportDialog, ExportOptions
from gui.widgets.layer_tree_view import NAME, PARAMS, TRAINABLE
from tests.gui.conftest import wait_idle


@pytest.fixture
def cat_window(window, photos):
    window.add_images([str(photos["chelsea"]), str(photos["coffee"])])
    wait_idle(window)
    window.image_pane.select_path(str(photos["chelsea"]))
    return window


def test_the_layer_pane_fits_the_models_table(window):
    """On a first start the layer table is shown whole: Params and Trainable on screen."""
    tree = window.layer_tree.tree
    header = tree.header()
    right = header.sectionViewportPosition(TRAINABLE) + header.sectionSize(TRAINABLE)
    assert right <= tree.viewport().width()
    assert header.sectionSize(PARAMS) >= tree.sizeHintForColumn(PARAMS)
    assert header.sectionSize(NAME) >= tree.sizeHintForColumn(NAME)  # no name shortened
    assert window.activation_view.width() >= ACTIVATION_PANE_MIN


def test_selecting_a_conv_layer_shows_its_channel_maps(cat_window, qtbot):
    cat_window.layer_tree.select_layer("block2a_expand_conv")
    wait_idle(cat_window)
    view = cat_window.activation_view
    assert view.has_grid()
    assert view._maps.shape == (112, 112, 96)
    assert view.title.text().startswith("block2a_expand_conv")


def test_switching_images_and_layers_follows_the_selection(cat_window, photos):
    worker = cat_window.session.worker
    cat_window.layer_tree.select_layer("block2a_expand_conv")
    cat_window.layer_tree.select_layer("top_conv")  # supersedes the first if still pending
    wait_idle(cat_window)
    view = cat_window.activation_view
    assert view._maps.shape == (7, 7, 1280)
    shown_for_cat = view._maps.copy()

    cat_window.image_pane.select_path(str(photos["coffee"]))
    wait_idle(cat_window)
    assert view._maps.shape == (7, 7, 1280)
    assert not np.allclose(view._maps, shown_for_cat)

    # Back to the cat: answered from the worker's cache, identical maps.
    calls = []
    engine = worker._engine
    original = engine.activations
    engine.activations = lambda *a, **k: calls.append(a) or original(*a, **k)
    cat_window.image_pane.select_path(str(photos["chelsea"]))
    wait_idle(cat_window)
    assert calls == []
    np.testing.assert_allclose(view._maps, shown_for_cat)


def test_a_dense_layer_is_shown_as_a_vector(cat_window):
    cat_window.layer_tree.select_layer("predictions")
    wait_idle(cat_window)
    assert not cat_window.activation_view.has_grid()
    assert "1000 values" in cat_window.activation_view.title.text()


def fake_dialog(monkeypatch, options: ExportOptions, seen: dict) -> None:
    """Answer the export dialog as a user would, keeping what it was opened with."""

    def exec_(self):
        seen["layers"] = self._layers
        seen["default"] = self.layer_combo.currentText()
        return ExportDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", exec_)
    monkeypatch.setattr(ExportDialog, "values", lambda self: options)


def test_export_features_menu_writes_a_file_that_loads_back(cat_window, tmp_path, monkeypatch):
    target = tmp_path / "features.npz"
    seen = {}
    fake_dialog(monkeypatch, ExportOptions(SCOPE_ALL, "top_activation", "avg", target), seen)
    cat_window.actions["export_features"].trigger()
    wait_idle(cat_window)

    assert "block2a_expand_conv" in seen["layers"]
    assert seen["default"] == cat_window.session.model.default_feature_layer
    vectors, paths, metadata = read_features(target)
    assert vectors.shape == (2, 1280)
    assert [Path(p).name for p in paths] == ["chelsea.jpg", "coffee.jpg"]
    assert metadata["layer"] == "top_activation" and metadata["model"] == "EfficientNet-Lite0"
    assert cat_window.task_status.text() == "Exported 2 feature vectors to features.npz"
    assert list(tmp_path.glob(".features.npz*")) == []  # no partial file left behind


def test_export_of_the_selected_image_as_csv(cat_window, tmp_path, monkeypatch):
    target = tmp_path / "one.csv"
    fake_dialog(monkeypatch, ExportOptions(SCOPE_SELECTED, "top_conv", "max", target), {})
    cat_window.actions["export_features"].trigger()
    wait_idle(cat_window)
    vectors, paths, _ = read_features(target)
    assert vectors.shape == (1, 1280) and Path(paths[0]).name == "chelsea.jpg"


def test_cancelled_export_writes_nothing(cat_window, tmp_path, monkeypatch, many_photos):
    cat_window.add_images([str(p) for p in many_photos])
    wait_idle(cat_window)
    target = tmp_path / "big.npz"
    fake_dialog(monkeypatch, ExportOptions(SCOPE_ALL, "top_conv", "avg", target), {})
    cat_window.actions["export_features"].trigger()
    cat_window.task_status.cancel_current()
    wait_idle(cat_window)
    assert not target.exists() and list(tmp_path.glob(".big.npz*")) == []
    assert "cancelled" in cat_window.task_status.text()


def test_export_activation_grid_png(cat_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    cat_window.layer_tree.select_layer("stem_conv")
    wait_idle(cat_window)
    target = tmp_path / "grid.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    cat_window.actions["export_png"].trigger()
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_the_export_dialog_remembers_the_folder_and_the_format(cat_window, qtbot, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from tests.gui.dialogs import activate, answer_next_dialog

    folder = tmp_path / "vectors"
    folder.mkdir()
    shown = []

    def fill(dialog):  # as a user types: a file name with its suffix, then Export
        shown.append((dialog.path_edit.text(), dialog.format_combo.currentData()))
        dialog.path_edit.selectAll()
        QTest.keyClicks(dialog.path_edit, str(folder / "cats.csv"))

    activate(qtbot, cat_window)
    answer = answer_next_dialog("Export", prepare=fill)
    qtbot.keyClick(cat_window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert answer.done()
    wait_idle(cat_window)
    assert (folder / "cats.csv").is_file()

    activate(qtbot, cat_window)
    answer = answer_next_dialog(
        "Cancel", prepare=lambda d: shown.append((d.path_edit.text(), d.format_combo.currentData()))
    )
    qtbot.keyClick(cat_window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert answer.done()
    assert shown[1] == (str(folder / "features.csv"), ".csv")  # the last folder and format
