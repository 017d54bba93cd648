"""The layer tree's filter and the shown layer stay in step, driven with real keys and clicks
on the main window; a model switch leaves no stale heading."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.ops.load import LoadModelRequest
from gui.widgets.layer_tree_view import NAME
from tests.gui.conftest import wait_for_model, wait_idle

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def cat_window(window, photos, qtbot):
    window.add_images([str(photos["chelsea"])])
    window.image_pane.select_path(str(photos["chelsea"]))
    wait_idle(window)
    return window


def click_layer(qtbot, window, path: str, double: bool = False) -> None:
    tree = window.layer_tree.tree
    index = window.layer_tree._proxy_index(path)
    assert index.isValid(), f"{path} is not shown"
    tree.scrollTo(index)
    where = tree.visualRect(index.siblingAtColumn(NAME)).center()
    click = qtbot.mouseDClick if double else qtbot.mouseClick
    click(tree.viewport(), Qt.MouseButton.LeftButton, pos=where)


def shown_layer(window) -> str:
    return window.activation_view.title.text().split("  ·  ")[0]


def type_filter(qtbot, window, text: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_L, CTRL)  # focuses the filter, its text selected
    edit = window.layer_tree.filter_edit
    assert QApplication.focusWidget() is edit
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    assert edit.text() == text


def highlighted_rows(window) -> list[str]:
    rows = window.layer_tree.tree.selectionModel().selectedRows(NAME)
    return [index.data() for index in rows]


def test_the_shown_layer_follows_clicks_through_the_filter(cat_window, qtbot):
    window = cat_window
    click_layer(qtbot, window, "top_conv")
    wait_idle(window)
    assert shown_layer(window) == "top_conv" and window.activation_view.has_grid()

    # Filtering hides top_conv: no other row is highlighted as if it were shown.
    type_filter(qtbot, window, "pool")
    assert highlighted_rows(window) == []
    assert shown_layer(window) == "top_conv"

    # The one match left: a click shows it.
    click_layer(qtbot, window, "avg_pool")
    wait_idle(window)
    assert shown_layer(window) == "avg_pool" and window.activation_view.showing() == "vector"
    assert highlighted_rows(window) == ["avg_pool"]

    # Clearing the filter keeps it: no jump back to top_conv.
    type_filter(qtbot, window, "")
    wait_idle(window)
    assert highlighted_rows(window) == ["avg_pool"] and shown_layer(window) == "avg_pool"
    assert window.layer_tree.selected_layer() == "avg_pool"


def test_a_double_click_on_the_only_match_shows_it(cat_window, qtbot):
    window = cat_window
    type_filter(qtbot, window, "top_conv")
    click_layer(qtbot, window, "top_conv", double=True)
    wait_idle(window)
    assert shown_layer(window) == "top_conv" and window.activation_view.has_grid()


def test_enter_in_the_filter_shows_the_first_match(cat_window, qtbot):
    window = cat_window
    type_filter(qtbot, window, "expand_conv")
    qtbot.keyClick(window.layer_tree.filter_edit, Qt.Key.Key_Return)
    wait_idle(window)
    assert shown_layer(window) == "block2a_expand_conv"
    assert highlighted_rows(window) == ["block2a_expand_conv"]


def test_a_model_switch_leaves_no_stale_heading_or_statistics(cat_window, qtbot, small_classifier):
    window = cat_window
    click_layer(qtbot, window, "top_conv")
    wait_idle(window)
    view = window.activation_view
    assert view.title.text().startswith("top_conv") and view.stats.text().startswith("min ")
    window.load_model(LoadModelRequest(str(small_classifier)))  # has no top_conv
    wait_for_model(qtbot, window, "fruit.keras")
    wait_idle(window)
    assert view.showing() == "message"
    assert view.message.text() == "Select a layer to see its activations."
    assert view.title.text() == "" and view.stats.text() == ""


def test_the_predictions_plot_names_the_classes(cat_window, qtbot):
    window = cat_window
    qtbot.waitUntil(lambda: len(window.top5.labels()) == 5)
    top = [label.label.replace("_", " ") for label in window.top5.labels()]
    click_layer(qtbot, window, "predictions")
    wait_idle(window)
    view = window.activation_view
    assert view.showing() == "vector"
    texts = view.plot.top_texts()
    assert [text.split(" (")[0] for text in texts] == top  # names, not 285, 282, …
    assert view.plot.getAxis("bottom").labelText == "class index"
    # The statistics (with the five names) fit in the panel: nothing cut off.
    stats = view.stats
    needed = stats.heightForWidth(stats.width())
    assert all(name in stats.text() for name in top) and needed <= stats.height()

    # Another vector layer (not the class scores) is labelled by index.
    click_layer(qtbot, window, "avg_pool")
    wait_idle(window)
    assert all(text.startswith("#") for text in view.plot.top_texts())
