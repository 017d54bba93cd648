"""ExportDialog: choices, the path and format kept in step, validation, overwrite, values()."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from gui.widgets.export_dialog import SCOPE_ALL, SCOPE_SELECTED, ExportDialog, ExportOptions

LAYERS = ["input_layer", "block1_conv", "block2_conv", "global_average_pooling2d", "predictions"]


@pytest.fixture
def make_dialog(qtbot, tmp_path):
    def make(**overrides):
        options = {
            "layers": LAYERS,
            "default_layer": "global_average_pooling2d",
            "image_count": 7,
            "has_selection": True,
            "start_dir": str(tmp_path),
        }
        options.update(overrides)
        dialog = ExportDialog(None, **options)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    return make


def set_format(dialog, suffix):
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(suffix))


def type_path(qtbot, dialog, text):
    dialog.path_edit.clear()
    qtbot.keyClicks(dialog.path_edit, text)


def test_defaults(make_dialog):
    dialog = make_dialog()
    assert dialog.layer_combo.currentText() == "global_average_pooling2d"
    assert dialog.all_radio.text() == "All 7 images"
    assert dialog.all_radio.isChecked()
    assert dialog.format_combo.currentData() == ".npz"
    assert "pooled penultimate layer" in " ".join(
        label.text() for label in dialog.findChildren(type(dialog.hint))
    )
    assert [dialog.format_combo.itemText(i).split(" — ")[0] for i in range(4)] == [
        ".npz",
        ".npy",
        ".csv",
        ".h5",
    ]


def test_selected_image_is_disabled_without_a_selection(make_dialog):
    dialog = make_dialog(has_selection=False)
    assert not dialog.selected_radio.isEnabled()
    assert dialog.values().scope == SCOPE_ALL


def test_ok_is_disabled_until_a_valid_path_is_set(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    assert not dialog.ok_button.isEnabled()
    assert "Choose a file" in dialog.hint.text()

    type_path(qtbot, dialog, str(tmp_path / "missing" / "features.npz"))
    assert not dialog.ok_button.isEnabled()
    assert "does not exist" in dialog.hint.text()

    type_path(qtbot, dialog, str(tmp_path / "features.txt"))
    assert not dialog.ok_button.isEnabled()

    type_path(qtbot, dialog, str(tmp_path / "features.npz"))
    assert dialog.ok_button.isEnabled()
    assert str(tmp_path / "features.npz") in dialog.hint.text()


def test_unknown_layer_disables_ok(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    type_path(qtbot, dialog, str(tmp_path / "f.npz"))
    dialog.layer_combo.setEditText("no_such_layer")
    assert not dialog.ok_button.isEnabled()
    assert "no_such_layer" in dialog.hint.text()
    dialog.layer_combo.setEditText("")
    qtbot.keyClicks(dialog.layer_combo.lineEdit(), "block2_conv")
    assert dialog.ok_button.isEnabled()


def test_layer_completer_matches_anywhere_in_the_name(make_dialog):
    dialog = make_dialog()
    completer = dialog.layer_combo.completer()
    completer.setCompletionPrefix("conv")
    matches = [completer.completionModel().index(i, 0).data() for i in range(2)]
    assert matches == ["block1_conv", "block2_conv"]


def test_changing_the_format_changes_the_suffix(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    type_path(qtbot, dialog, str(tmp_path / "features.npz"))
    set_format(dialog, ".csv")
    assert dialog.path_edit.text() == str(tmp_path / "features.csv")
    set_format(dialog, ".h5")
    assert dialog.values().path == tmp_path / "features.h5"


def test_typing_a_suffix_changes_the_format(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    type_path(qtbot, dialog, str(tmp_path / "features.npy"))
    assert dialog.format_combo.currentData() == ".npy"
    type_path(qtbot, dialog, str(tmp_path / "features.hdf5"))
    assert dialog.format_combo.currentData() == ".h5"
    assert dialog.values().format == ".h5"


def test_a_name_without_suffix_gets_the_formats(qtbot, make_dialog, tmp_path):
    dialog = make_dialog(default_format=".csv")
    type_path(qtbot, dialog, "vectors")  # relative: in the start folder
    assert dialog.ok_button.isEnabled()
    assert dialog.values().path == tmp_path / "vectors.csv"


def test_browse_uses_the_chosen_file_and_filter(qtbot, make_dialog, tmp_path, monkeypatch):
    calls = []

    def fake_get_save_file_name(parent, caption, start, filters, selected, options):
        calls.append((start, filters, selected, options))
        return str(tmp_path / "picked"), "CSV (*.csv)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_get_save_file_name)
    dialog = make_dialog()
    qtbot.mouseClick(dialog.browse_button, Qt.MouseButton.LeftButton)
    assert dialog.path_edit.text() == str(tmp_path / "picked.csv")
    assert dialog.format_combo.currentData() == ".csv"
    start, filters, selected, options = calls[0]
    assert start == str(tmp_path / "features.npz")
    assert selected.endswith("(*.npz)")
    # The dialog asks about replacing itself, at OK: the file dialog must not ask too.
    assert options & QFileDialog.Option.DontConfirmOverwrite


def test_browse_cancelled_keeps_the_path(qtbot, make_dialog, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: ("", ""))
    dialog = make_dialog()
    type_path(qtbot, dialog, str(tmp_path / "keep.npz"))
    qtbot.mouseClick(dialog.browse_button, Qt.MouseButton.LeftButton)
    assert dialog.path_edit.text() == str(tmp_path / "keep.npz")


def test_existing_file_asks_before_replacing(qtbot, make_dialog, tmp_path, monkeypatch):
    existing = tmp_path / "features.npz"
    existing.write_bytes(b"old")
    questions = []

    def answer(reply):
        def question(parent, title, text, *args):
            questions.append(text)
            return reply

        return question

    dialog = make_dialog()
    type_path(qtbot, dialog, str(existing))

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # still open, to choose another name
    assert "features.npz already exists" in questions[0]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.values().overwrite is True


def test_new_file_is_accepted_without_asking(qtbot, make_dialog, tmp_path, monkeypatch):
    def fail(*args):
        raise AssertionError("asked about a file that does not exist")

    monkeypatch.setattr(QMessageBox, "question", fail)
    dialog = make_dialog()
    type_path(qtbot, dialog, str(tmp_path / "new.npz"))
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.values().overwrite is False


def test_values_round_trip(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    qtbot.mouseClick(dialog.selected_radio, Qt.MouseButton.LeftButton)
    dialog.layer_combo.setEditText("")
    qtbot.keyClicks(dialog.layer_combo.lineEdit(), "block1_conv")
    dialog.pooling_combo.setCurrentIndex(dialog.pooling_combo.findData("max"))
    set_format(dialog, ".csv")
    type_path(qtbot, dialog, str(tmp_path / "out.csv"))
    assert dialog.values() == ExportOptions(
        scope=SCOPE_SELECTED,
        layer="block1_conv",
        pooling="max",
        path=Path(tmp_path / "out.csv"),
        overwrite=False,
    )
    assert dialog.values().format == ".csv"
    with pytest.raises(AttributeError):
        dialog.values().layer = "other"  # frozen


def test_a_complete_layer_name_closes_the_completion_popup(make_dialog, qtbot):
    dialog = make_dialog()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    edit = dialog.layer_combo.lineEdit()
    edit.setFocus()
    edit.clear()
    qtbot.keyClicks(edit, "block1_co")
    popup = dialog.layer_combo.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClicks(edit, "nv")  # the whole name: nothing left to complete
    qtbot.waitUntil(lambda: not popup.isVisible())
    # So the next click reaches the widget under the pointer.
    assert dialog.all_radio.isChecked()
    qtbot.mouseClick(dialog.selected_radio, Qt.MouseButton.LeftButton)
    assert dialog.selected_radio.isChecked()
    assert dialog.values().layer == "block1_conv"


def test_a_suggested_name_fills_the_path_in_the_last_folder(make_dialog, tmp_path):
    dialog = make_dialog(default_format=".csv", suggested_name="features")
    assert dialog.path_edit.text() == str(tmp_path / "features.csv")
    assert dialog.format_combo.currentData() == ".csv" and dialog.ok_button.isEnabled()
