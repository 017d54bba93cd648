"""Explain in the window: X shows the heatmap, clicking a top-5 label explains that class,
method, layer and opacity, the PNG export and the compare window, driven with real key
presses and mouse clicks on the main window."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QShortcut
from PySide6.QtWidgets import QApplication, QMenu

from gui.app.settings import Settings
from gui.main import about, model_dialogs
from tests.gui.conftest import wait_idle

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


@pytest.fixture
def cat_window(window, photos, qtbot):
    window.add_images([str(photos["chelsea"]), str(photos["coffee"])])
    window.image_pane.select_path(str(photos["chelsea"]))
    wait_idle(window)
    qtbot.waitUntil(lambda: len(window.top5.labels()) == 5)
    return window


def press_x_and_wait(window, qtbot) -> None:
    qtbot.keyClick(window, Qt.Key.Key_X)
    wait_idle(window)
    qtbot.waitUntil(window.image_pane.has_overlay)


def test_x_shows_the_heatmap_of_the_top_class_and_hides_it_again(cat_window, qtbot):
    """Also: N shows it over the network's input; the shortcuts are bound once."""
    window = cat_window
    explain = window.explaining.controller
    assert not window.image_pane.has_overlay()
    press_x_and_wait(window, qtbot)
    top = window.top5.labels()[0]
    assert explain.result.label.index == top.index and explain.result.layer == "top_activation"
    assert (
        window.image_pane.caption.text()
        == f"Grad-CAM of “Egyptian cat” ({top.probability:.1%}) at top_activation"
    )
    assert [bar.highlighted for bar in window.top5.bars] == [True, False, False, False, False]
    assert window.actions["explain"].isChecked() and window.explaining.bar.toggle.isChecked()
    # The pane shows the overlay: the photo with the heatmap blended in, not the photo.
    shown = window.image_pane.picture._pixmap.toImage()
    assert (shown.width(), shown.height()) == explain.result.overlay.shape[1::-1]

    # N: the heatmap over what the network sees (its 224×224 input), and back.
    qtbot.keyClick(window, Qt.Key.Key_N)
    shown = window.image_pane.picture._pixmap.toImage()
    assert (shown.width(), shown.height()) == (224, 224) and window.image_pane.has_overlay()
    qtbot.keyClick(window, Qt.Key.Key_N)
    shown = window.image_pane.picture._pixmap.toImage()
    assert (shown.width(), shown.height()) == explain.result.overlay.shape[1::-1]

    qtbot.keyClick(window, Qt.Key.Key_X)
    assert not window.image_pane.has_overlay()
    assert not window.actions["explain"].isChecked()
    assert not any(bar.highlighted for bar in window.top5.bars)

    # Each Explain shortcut is bound once in the window and listed in Help → Shortcuts.
    listed = {keys for keys, _text in about.SHORTCUTS}
    bound = [a.shortcut().toString() for a in window.findChildren(QAction)]
    bound += [s.key().toString() for s in window.findChildren(QShortcut)]
    for keys in ("X", "Ctrl+Shift+X", "Ctrl+Alt+C"):
        assert bound.count(keys) == 1 and keys in listed


def test_clicking_a_top5_label_explains_that_class(cat_window, qtbot, photos):
    window = cat_window
    explain = window.explaining.controller
    press_x_and_wait(window, qtbot)
    first = explain.result
    third = window.top5.labels()[2]
    qtbot.mouseClick(window.top5.bars[2], Qt.MouseButton.LeftButton)
    wait_idle(window)
    qtbot.waitUntil(
        lambda: explain.result is not None and explain.result.label.index == third.index
    )
    assert [bar.highlighted for bar in window.top5.bars] == [False, False, True, False, False]
    assert not np.array_equal(explain.result.heatmap, first.heatmap)
    assert "tabby" in window.image_pane.caption.text()

    # Another image: its own top class, on its own photo.
    window.image_pane.select_path(str(photos["coffee"]))
    wait_idle(window)
    qtbot.waitUntil(
        lambda: explain.result is not None and explain.result.path.endswith("coffee.jpg")
    )
    assert explain.result.label.label == "espresso" and window.image_pane.has_overlay()


def test_method_layer_and_opacity_follow_the_controls_and_are_remembered(cat_window, qtbot):
    window = cat_window
    bar, explain = window.explaining.bar, window.explaining.controller
    press_x_and_wait(window, qtbot)

    qtbot.keyClick(bar.method, Qt.Key.Key_Down)  # Grad-CAM → Grad-CAM++
    wait_idle(window)
    qtbot.waitUntil(lambda: explain.result is not None and explain.result.method == "gradcam++")
    assert window.image_pane.caption.text().startswith("Grad-CAM++ of")

    qtbot.keyClick(bar.layer, Qt.Key.Key_Down)  # the default → the first conv layer
    wait_idle(window)
    qtbot.waitUntil(lambda: explain.result is not None and explain.result.layer == "stem_conv")
    assert explain.result.raw.shape == (112, 112)

    qtbot.keyClick(bar.opacity, Qt.Key.Key_Home)  # opacity 0: the photo itself shows
    result = explain.result
    assert result.opacity == 0.0
    left, top, right, bottom = (int(round(v)) for v in result.box)
    inside = result.overlay[top + 2 : bottom - 2, left + 2 : right - 2]
    assert np.array_equal(inside, result.photo[top + 2 : bottom - 2, left + 2 : right - 2])

    settings = Settings()  # what a new window would read
    assert settings.explain_method == "gradcam++" and settings.explain_opacity == 0.0


def test_ctrl_shift_x_exports_the_overlay_as_png(cat_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window = cat_window
    target = tmp_path / "heat"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.keyClick(window, Qt.Key.Key_X, CTRL_SHIFT)  # nothing to save yet: says so
    assert not target.with_suffix(".png").exists()
    assert "Explain" in window.statusBar().currentMessage()
    press_x_and_wait(window, qtbot)
    qtbot.keyClick(window, Qt.Key.Key_X, CTRL_SHIFT)
    saved = np.asarray(Image.open(target.with_suffix(".png")))
    assert np.array_equal(saved, window.explaining.controller.result.overlay)


def test_compare_shows_a_second_models_top5_and_heatmap(
    cat_window, qtbot, small_classifier, monkeypatch
):
    window = cat_window
    monkeypatch.setattr(model_dialogs, "ask_model_file", lambda *a: str(small_classifier))
    qtbot.keyClick(window, Qt.Key.Key_C, CTRL_ALT)
    view = window.explaining.compare_window
    qtbot.waitUntil(view.isVisible)
    qtbot.keyClick(view.selector, Qt.Key.Key_End)  # "Open model file…", the last entry
    wait_idle(window)
    compare = window.explaining.compare
    qtbot.waitUntil(lambda: compare.result is not None)
    second = view.second.top5.labels()
    assert {label.label for label in second} == {"apple", "banana", "cherry"}
    assert view.second.heading.text() == "fruit.keras"
    assert compare.result.explanation.label.index == second[0].index
    assert view.second.picture.has_image()
    # The left column is the window's own model, which stays loaded.
    assert view.main.top5.labels() == window.top5.labels()
    assert view.main.picture.has_image() and window.session.model.name == "EfficientNet-Lite0"

    qtbot.mouseClick(view.second.top5.bars[1], Qt.MouseButton.LeftButton)
    wait_idle(window)
    qtbot.waitUntil(lambda: compare.result.explanation.label.index == second[1].index)
    assert view.second.top5.bars[1].highlighted
    assert Settings().compare_model == str(small_classifier)


def test_esc_cancels_a_slow_explanation(cat_window, qtbot):
    """Occlusion runs a few hundred forward passes with a progress bar; Esc stops it. The
    worker is held at its first progress report until Esc has been pressed."""
    window = cat_window
    worker = window.session.worker
    reported, release = threading.Event(), threading.Event()

    def hold(job, done, total, text):  # on the worker thread
        if job.kind == "explain" and not reported.is_set():
            reported.set()
            release.wait(60)

    worker.job_progressed.connect(hold, Qt.ConnectionType.DirectConnection)
    qtbot.keyClick(window.explaining.bar.method, Qt.Key.Key_End)  # Occlusion
    try:
        qtbot.keyClick(window, Qt.Key.Key_X)
        assert reported.wait(60)
        qtbot.waitUntil(lambda: window.task_status.text() == "Occlusion…")
        assert window.task_status.cancel_button.isVisible()
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    finally:
        release.set()
    wait_idle(window)
    assert not window.image_pane.has_overlay() and not window.task_status.is_busy("explain")
    assert window.explaining.bar.status.text().startswith("Cancelled.")


def test_explain_at_a_layer_from_the_layer_trees_context_menu(cat_window, qtbot):
    window = cat_window
    tree = window.layer_tree.tree
    index = window.layer_tree._proxy_index("block6a_expand_conv")
    tree.scrollTo(index)
    where = tree.visualRect(index).center()
    QApplication.sendEvent(
        tree.viewport(),
        QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, where, tree.viewport().mapToGlobal(where)
        ),
    )
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    action = next(a for a in menu.actions() if a.text() == "Explain at this layer")
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    wait_idle(window)
    explain = window.explaining.controller
    qtbot.waitUntil(lambda: explain.result is not None)
    assert explain.result.layer == "block6a_expand_conv" and explain.result.raw.shape == (14, 14)
    assert window.explaining.bar.layer.currentData() == "block6a_expand_conv"
    assert window.actions["explain"].isChecked()
