"""LayerTreeView driven as a user would: typing a filter, clicking rows, ticking boxes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent, QShortcut
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QStyleOptionViewItem

from gui.widgets.layer_tree_view import COLUMNS, NAME, PARAMS, SHAPE, TRAINABLE, TYPE, LayerTreeView


def node(name, class_name, shape, params=0, trainable=True, prefix="", children=()):
    return {
        "name": name,
        "path": prefix + name,
        "class_name": class_name,
        "output_shape": shape,
        "params": params,
        "trainable": trainable,
        "children": list(children),
    }


BASE = "mobilenet/"
LAYERS = [
    node("input_layer", "InputLayer", [224, 224, 3]),
    node(
        "mobilenet",
        "Functional",
        [7, 7, 1280],
        2257984,
        children=[
            node("Conv1", "Conv2D", [112, 112, 32], 864, prefix=BASE),
            node("bn_Conv1", "BatchNormalization", [112, 112, 32], 128, prefix=BASE),
            node("block_1_depthwise", "DepthwiseConv2D", [56, 56, 24], 288, prefix=BASE),
            node("out_relu", "ReLU", [7, 7, 1280], prefix=BASE),
        ],
    ),
    node("global_average_pooling2d", "GlobalAveragePooling2D", [1280]),
    node("predictions", "Dense", [5], 6405),
]
LEAVES = [
    "input_layer",
    "mobilenet/Conv1",
    "mobilenet/bn_Conv1",
    "mobilenet/block_1_depthwise",
    "mobilenet/out_relu",
    "global_average_pooling2d",
    "predictions",
]


@pytest.fixture
def view(qtbot):
    widget = LayerTreeView()
    qtbot.addWidget(widget)
    widget.set_layers(LAYERS)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def visible_rows(view, parent=None):
    """(name, depth) of every row the tree shows, top to bottom."""
    model = view.tree.model()
    rows = []

    def walk(parent_index, depth):
        for row in range(model.rowCount(parent_index)):
            index = model.index(row, NAME, parent_index)
            rows.append((index.data(), depth))
            walk(index, depth + 1)

    walk(view.tree.rootIndex(), 0)
    return rows


def row_index(view, path, column=NAME):
    index = view._proxy_index(path)
    assert index.isValid(), f"{path} is not shown"
    return index.siblingAtColumn(column)


def click_row(qtbot, view, path):
    rect = view.tree.visualRect(row_index(view, path))
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_columns_show_type_shape_params_and_nested_models_expand(view):
    conv = row_index(view, "mobilenet/block_1_depthwise")
    assert conv.siblingAtColumn(TYPE).data() == "DepthwiseConv2D"
    assert conv.siblingAtColumn(SHAPE).data() == "56×56×24"
    assert row_index(view, "mobilenet").siblingAtColumn(PARAMS).data() == "2,257,984"
    assert row_index(view, "predictions").siblingAtColumn(SHAPE).data() == "5"
    assert row_index(view, "predictions").siblingAtColumn(TRAINABLE).data() == "yes"
    assert view.tree.isExpanded(row_index(view, "mobilenet"))
    assert [name for name, depth in visible_rows(view) if depth == 1] == [
        "Conv1",
        "bn_Conv1",
        "block_1_depthwise",
        "out_relu",
    ]
    assert view.tree.visualRect(row_index(view, "mobilenet/out_relu")).height() > 0


def columns_on_screen(view) -> dict[int, int]:
    """{column: its width} for the columns that end within the tree's viewport."""
    header = view.tree.header()
    width = view.tree.viewport().width()
    return {
        column: header.sectionSize(column)
        for column in range(header.count())
        if header.sectionViewportPosition(column) + header.sectionSize(column) <= width
    }


def test_every_column_is_on_screen_and_type_takes_the_room_left(view):
    shown = columns_on_screen(view)
    assert sorted(shown) == [NAME, TYPE, SHAPE, PARAMS, TRAINABLE]
    for column in (NAME, TYPE, SHAPE, PARAMS):  # fitted to their contents: nothing clipped
        assert shown[column] >= view.tree.sizeHintForColumn(column)
    assert shown[TRAINABLE] >= view.tree.header().sectionSizeHint(TRAINABLE)
    assert sum(shown.values()) == view.tree.viewport().width()  # Type stretches to the edge
    assert view.tree.horizontalScrollBar().maximum() == 0


def test_the_view_asks_for_the_width_of_its_table(view):
    view.resize(view.sizeHint().width(), 500)
    QApplication.processEvents()
    assert view.tree.header().sectionSize(NAME) >= view.tree.sizeHintForColumn(NAME)
    assert view.tree.horizontalScrollBar().maximum() == 0
    # Squeezed, names stay whole (they tell layers apart); the type gives way.
    view.resize(view.sizeHint().width() - 60, 500)
    QApplication.processEvents()
    assert view.tree.header().sectionSize(NAME) >= view.tree.sizeHintForColumn(NAME)
    assert view.tree.header().sectionSize(TYPE) < view.tree.sizeHintForColumn(TYPE)
    assert row_index(view, "predictions", TYPE).data(Qt.ItemDataRole.ToolTipRole) == "Dense"
    assert sorted(columns_on_screen(view)) == [NAME, TYPE, SHAPE, PARAMS, TRAINABLE]


def test_the_width_follows_the_layers_and_is_measured_once_per_model(view, monkeypatch):
    measured = []
    measure = view.tree.sizeHintForColumn
    monkeypatch.setattr(view.tree, "sizeHintForColumn", lambda c: measured.append(c) or measure(c))
    width = view.sizeHint().width()
    for _ in range(5):  # as the window's layout passes ask, e.g. on every status message
        assert view.sizeHint().width() == width
    assert len(measured) <= len(COLUMNS)  # measured once at most: a walk over every row
    longer = node("a_layer_with_a_much_longer_name_than_the_others", "Dense", [5], 30)
    view.set_layers([*LAYERS, longer])
    assert view.sizeHint().width() > width


def test_an_empty_view_asks_for_a_typical_models_width(qtbot):
    empty = LayerTreeView()
    qtbot.addWidget(empty)
    filled = LayerTreeView()
    qtbot.addWidget(filled)
    filled.set_layers(LAYERS)
    assert abs(empty.sizeHint().width() - filled.sizeHint().width()) < 150


def test_conv_layers_stand_out_from_vector_layers(view):
    conv_type = row_index(view, "mobilenet/Conv1", TYPE)
    dense_type = row_index(view, "predictions", TYPE)
    assert conv_type.data(Qt.ItemDataRole.FontRole).bold()
    font = dense_type.data(Qt.ItemDataRole.FontRole)
    assert font is None or not font.bold()
    assert "activation maps" in conv_type.data(Qt.ItemDataRole.ToolTipRole)


def test_filter_matches_name_or_type_case_insensitively_and_keeps_parents(qtbot, view):
    qtbot.keyClicks(view.filter_edit, "DEPTHWISE")
    assert visible_rows(view) == [("mobilenet", 0), ("block_1_depthwise", 1)]

    view.filter_edit.clear()
    qtbot.keyClicks(view.filter_edit, "dense")  # the type, not the name "predictions"
    assert visible_rows(view) == [("predictions", 0)]

    view.filter_edit.clear()
    assert len(visible_rows(view)) == 8


def test_filter_with_regex_characters_is_taken_literally(qtbot, view):
    qtbot.keyClicks(view.filter_edit, "bn_conv1.")
    assert visible_rows(view) == []


def test_clicking_a_row_emits_its_path(qtbot, view):
    with qtbot.waitSignal(view.layer_selected) as blocker:
        click_row(qtbot, view, "mobilenet/block_1_depthwise")
    assert blocker.args == ["mobilenet/block_1_depthwise"]
    assert view.selected_layer() == "mobilenet/block_1_depthwise"


def test_arrow_keys_move_the_selection(qtbot, view):
    click_row(qtbot, view, "mobilenet/Conv1")
    with qtbot.waitSignal(view.layer_selected) as blocker:
        qtbot.keyClick(view.tree, Qt.Key.Key_Down)
    assert blocker.args == ["mobilenet/bn_Conv1"]


def test_select_layer_selects_the_row(qtbot, view):
    with qtbot.waitSignal(view.layer_selected) as blocker:
        view.select_layer("global_average_pooling2d")
    assert blocker.args == ["global_average_pooling2d"]
    assert view.tree.currentIndex().data() == "global_average_pooling2d"
    assert view.selected_layer() == "global_average_pooling2d"


def test_typing_a_filter_does_not_select_another_layer(qtbot, view):
    view.select_layer("mobilenet/Conv1")
    with qtbot.assertNotEmitted(view.layer_selected):
        qtbot.keyClicks(view.filter_edit, "relu")
        view.filter_edit.clear()
    assert view.selected_layer() == "mobilenet/Conv1"
    assert view.tree.currentIndex().data() == "Conv1"  # selection back once visible again


def test_ctrl_l_focuses_the_filter_in_a_window_that_binds_it(qtbot, view):
    """The window holding the tree binds Ctrl+L (the main window: its View menu; see
    tests/gui/main/test_window_shortcuts.py); the tree itself binds nothing."""
    assert not view.findChildren(QShortcut)
    view.add_shortcut(view)
    view.tree.setFocus()
    qtbot.waitUntil(view.tree.hasFocus)
    qtbot.keyClick(view.tree, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(view.filter_edit.hasFocus)


def test_clear_empties_the_tree(view):
    view.select_layer("predictions")
    view.clear()
    assert visible_rows(view) == []
    assert view.selected_layer() is None


# -- freezing --------------------------------------------------------------------------


def click_checkbox(qtbot, view, path):
    """Click the check indicator of the Trainable cell, where a user would."""
    index = row_index(view, path, TRAINABLE)
    option = QStyleOptionViewItem()
    view.tree.itemDelegateForIndex(index).initStyleOption(option, index)
    option.rect = view.tree.visualRect(index)
    rect = view.tree.style().subElementRect(
        QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, view.tree
    )
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def check_state(view, path):
    return Qt.CheckState(row_index(view, path, TRAINABLE).data(Qt.ItemDataRole.CheckStateRole))


def test_read_only_trainable_column_has_no_checkboxes_or_freeze_actions(view):
    assert (
        row_index(view, "mobilenet/Conv1", TRAINABLE).data(Qt.ItemDataRole.CheckStateRole) is None
    )
    assert view.context_menu("mobilenet/Conv1").isEmpty()


def test_unticking_a_block_freezes_all_its_layers(qtbot, view):
    view.set_trainable_editable(True)
    assert check_state(view, "mobilenet") == Qt.CheckState.Checked
    with qtbot.waitSignal(view.trainable_changed) as blocker:
        click_checkbox(qtbot, view, "mobilenet")
    expected = {path: not path.startswith("mobilenet/") for path in LEAVES}
    assert blocker.args == [expected]
    assert view.trainable_state() == expected
    assert check_state(view, "mobilenet/bn_Conv1") == Qt.CheckState.Unchecked
    assert check_state(view, "predictions") == Qt.CheckState.Checked


def test_ticking_one_layer_of_a_frozen_block_makes_it_partly_checked(qtbot, view):
    view.set_trainable_editable(True)
    click_checkbox(qtbot, view, "mobilenet")
    with qtbot.waitSignal(view.trainable_changed) as blocker:
        click_checkbox(qtbot, view, "mobilenet/out_relu")
    assert blocker.args[0]["mobilenet/out_relu"] is True
    assert blocker.args[0]["mobilenet/Conv1"] is False
    assert check_state(view, "mobilenet") == Qt.CheckState.PartiallyChecked

    click_checkbox(qtbot, view, "mobilenet")  # a mixed block becomes wholly trainable
    assert all(view.trainable_state().values())
    assert check_state(view, "mobilenet") == Qt.CheckState.Checked


def test_initially_frozen_layers_show_unchecked(qtbot):
    layers = [node("a", "Conv2D", [4, 4, 2], 10, trainable=False), node("b", "Dense", [3], 9)]
    view = LayerTreeView()
    qtbot.addWidget(view)
    view.set_layers(layers)
    assert row_index(view, "a", TRAINABLE).data() == "no"
    view.set_trainable_editable(True)
    assert check_state(view, "a") == Qt.CheckState.Unchecked
    assert view.trainable_state() == {"a": False, "b": True}


def right_click_menu(qtbot, view, path):
    """Right-click path's row and return the menu that pops up."""
    pos = view.tree.visualRect(row_index(view, path)).center()
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, pos, view.tree.viewport().mapToGlobal(pos)
    )
    QApplication.sendEvent(view.tree.viewport(), event)

    def popups():
        return [menu for menu in view.findChildren(QMenu) if menu.isVisible()]

    qtbot.waitUntil(lambda: len(popups()) == 1)
    return popups()[0]


def action(menu, text):
    matches = [a for a in menu.actions() if a.text() == text]
    assert matches, f"no {text!r} in {[a.text() for a in menu.actions()]}"
    return matches[0]


def test_freeze_up_to_here_freezes_that_layer_and_everything_before(qtbot, view):
    view.set_trainable_editable(True)
    menu = right_click_menu(qtbot, view, "mobilenet/bn_Conv1")
    with qtbot.waitSignal(view.trainable_changed) as blocker:
        action(menu, "Freeze up to here").trigger()
    frozen = [path for path, trainable in blocker.args[0].items() if not trainable]
    assert frozen == ["input_layer", "mobilenet/Conv1", "mobilenet/bn_Conv1"]
    assert check_state(view, "mobilenet") == Qt.CheckState.PartiallyChecked
    assert check_state(view, "predictions") == Qt.CheckState.Checked

    menu.close()
    menu = right_click_menu(qtbot, view, "predictions")
    action(menu, "Unfreeze all").trigger()
    assert all(view.trainable_state().values())
    assert check_state(view, "mobilenet") == Qt.CheckState.Checked


def test_freeze_up_to_a_block_freezes_the_whole_block(qtbot, view):
    view.set_trainable_editable(True)
    action(view.context_menu("mobilenet"), "Freeze up to here").trigger()
    assert [p for p, t in view.trainable_state().items() if t] == [
        "global_average_pooling2d",
        "predictions",
    ]
    assert check_state(view, "mobilenet") == Qt.CheckState.Unchecked


def test_editability_off_again_shows_state_as_text(view):
    view.set_trainable_editable(True)
    view.freeze_up_to("mobilenet/Conv1")
    view.set_trainable_editable(False)
    assert row_index(view, "mobilenet/Conv1", TRAINABLE).data() == "no"
    assert row_index(view, "mobilenet", TRAINABLE).data() == "partly"
    assert row_index(view, "mobilenet", TRAINABLE).data(Qt.ItemDataRole.CheckStateRole) is None
