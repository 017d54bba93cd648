"""Every shortcut of the README's table, pressed on the real main window, does what it says;
no key is bound twice in a window (Qt then fires neither: "Ambiguous shortcut overload")."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from gui.main import about, model_dialogs
from gui.widgets.export_dialog import ExportDialog
from gui.widgets.image_list import CANCELLED, DONE
from tests.gui.conftest import open_window, wait_for_model, wait_idle
from tests.gui.dialogs import activate, answer_next_dialog
from tests.gui.main.test_window_model import hold_after_first_result

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_shortcuts() -> list[str]:
    """The keys of the README's shortcut table (the rows under "| Shortcut | Action |")."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| Shortcut | Action |") + 2
    keys = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        keys.append(line.split("|")[1].strip())
    return keys


def bound_keys(window: QWidget) -> list[str]:
    """Every key sequence an action or shortcut of window (and its children) answers to."""
    keys = [
        seq.toString()
        for action in window.findChildren(QAction)
        for seq in action.shortcuts()
        if not seq.isEmpty()
    ]
    keys += [s.key().toString() for s in window.findChildren(QShortcut) if not s.key().isEmpty()]
    return keys


def assert_bound_once(window: QWidget) -> None:
    twice = [key for key, count in Counter(bound_keys(window)).items() if count > 1]
    assert twice == [], f"bound twice in {type(window).__name__}: {twice}"


def press(qtbot, window, keys: str) -> None:
    """A real key press of a README key name ("Ctrl+Shift+E", "Delete", "F1")."""
    combo = QKeySequence(keys)[0]
    qtbot.keyClick(window, combo.key(), combo.keyboardModifiers())


def test_every_readme_shortcut_is_listed_in_help_and_bound_once(qtbot):
    window = open_window(qtbot, start=False)
    readme = readme_shortcuts()
    listed = [keys for keys, _ in about.SHORTCUTS if keys != "Drop"]
    assert sorted(QKeySequence(k).toString() for k in readme) == sorted(
        QKeySequence(k).toString() for k in listed
    )
    bound = bound_keys(window)
    for keys in readme:
        assert QKeySequence(keys).toString() in bound, f"{keys} does nothing in the window"
    assert_bound_once(window)
    training = window.show_training()
    assert_bound_once(training)
    assert "Ctrl+L" in bound_keys(training)  # its layer tree's filter


def test_pressing_every_shortcut_of_the_readme(
    qtbot, photos, many_photos, small_classifier, tmp_path, monkeypatch
):
    window = open_window(qtbot)
    activate(qtbot, window)
    pressed = []

    def key(keys):
        pressed.append(QKeySequence(keys).toString())
        press(qtbot, window, keys)

    # Ctrl+O: the open dialog; the chosen photos are listed and classified.
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        lambda *a, **k: ([str(photos["chelsea"]), str(photos["coffee"])], ""),
    )
    key("Ctrl+O")
    wait_idle(window)
    assert len(window.session.images.paths([DONE])) == 2

    # Ctrl+Shift+F: a folder, searched recursively.
    folder = tmp_path / "more"
    (folder / "sub").mkdir(parents=True)
    Image_path = folder / "sub" / "cat.jpg"
    Image_path.write_bytes(photos["chelsea"].read_bytes())
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    key("Ctrl+Shift+F")
    # Folders are listed in the background.
    qtbot.waitUntil(lambda: str(Image_path) in window.session.images.paths())

    # Delete: the selected image goes (the focus in the image list, as after a click).
    window.image_pane.select_path(str(Image_path))
    window.image_pane.list.setFocus()
    key("Delete")
    assert str(Image_path) not in window.session.images.paths()

    # Ctrl+V: a copied picture is listed as a pasted PNG.
    QGuiApplication.clipboard().setImage(QImage(str(photos["coffee"])))
    key("Ctrl+V")
    wait_idle(window)
    pasted = [p for p in window.session.images.paths() if Path(p).name.startswith("pasted-")]
    assert len(pasted) == 1 and window.image_pane.current_path() == pasted[0]

    # Ctrl+Shift+C: the predictions as text on the clipboard.
    window.image_pane.select_path(str(photos["chelsea"]))
    qtbot.waitUntil(lambda: len(window.top5.labels()) == 5)
    key("Ctrl+Shift+C")
    assert QGuiApplication.clipboard().text().startswith("chelsea.jpg (EfficientNet-Lite0)")

    # N: what the network sees, and back.
    key("N")
    assert window.image_pane.network_toggle.isChecked()
    key("N")
    assert not window.image_pane.network_toggle.isChecked()

    # Ctrl+L: the filter box takes the focus, and typing filters the layers.
    key("Ctrl+L")
    assert QApplication.focusWidget() is window.layer_tree.filter_edit
    qtbot.keyClicks(window.layer_tree.filter_edit, "top_conv")
    assert window.layer_tree._proxy_index("top_conv").isValid()
    assert not window.layer_tree._proxy_index("stem_conv").isValid()
    window.layer_tree.filter_edit.clear()
    window.image_pane.list.setFocus()

    # Ctrl+Shift+E: the activation grid as PNG (after choosing a conv layer).
    window.layer_tree.select_layer("top_conv")
    wait_idle(window)
    qtbot.waitUntil(window.activation_view.has_grid)
    grid_png = tmp_path / "grid.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(grid_png), ""))
    key("Ctrl+Shift+E")
    assert grid_png.is_file()

    # X: the Explain heatmap on, Ctrl+Shift+X saves it, X again turns it off.
    key("X")
    wait_idle(window)
    qtbot.waitUntil(window.image_pane.has_overlay)
    heat_png = tmp_path / "heat.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(heat_png), ""))
    key("Ctrl+Shift+X")
    assert heat_png.is_file()
    key("X")
    assert not window.image_pane.has_overlay()

    # Ctrl+E: the export dialog opens (and is cancelled).
    opened = []
    monkeypatch.setattr(ExportDialog, "exec", lambda self: opened.append(self) or 0)
    key("Ctrl+E")
    assert len(opened) == 1

    # Ctrl+Alt+C: the compare window.
    key("Ctrl+Alt+C")
    compare = window.explaining.compare_window
    assert compare is not None and compare.isVisible()
    compare.close()
    activate(qtbot, window)
    key("X")  # compare turned Explain on
    wait_idle(window)

    # Ctrl+Alt+O: the model as ONNX, checked against TensorFlow before it is written.
    onnx_file = tmp_path / "lite0.onnx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(onnx_file), ""))
    key("Ctrl+Alt+O")
    wait_idle(window)
    assert onnx_file.is_file() and "checked against TensorFlow" in window.task_status.text()

    # Ctrl+T: the training window.
    key("Ctrl+T")
    assert window.training_window is not None and window.training_window.isVisible()
    window.training_window.close()
    activate(qtbot, window)

    # Ctrl+M: the Feature map of the window's images; Ctrl+Shift+D: its near-duplicates.
    key("Ctrl+M")
    wait_idle(window)
    qtbot.waitUntil(lambda: window.exploring.result is not None)
    key("Ctrl+Shift+D")
    wait_idle(window)
    assert window.exploring.panel.tabs.tabText(2).startswith("Duplicates (")
    key("Ctrl+M")
    assert not window.exploring.dock.isVisible()

    # F1: the list of shortcuts, in a dialog answered with OK.
    answer = answer_next_dialog("OK")
    key("F1")
    assert answer.done() and answer.seen[0]["title"] == "Keyboard shortcuts"
    assert "Ctrl+L" in answer.seen[0]["text"]
    activate(qtbot, window)

    # Esc cancels a running batch; F5 classifies what was cancelled.
    wait_idle(window)
    held, release = hold_after_first_result(window.session.worker)
    try:
        window.add_images([str(p) for p in many_photos])
        assert held.wait(60)
        qtbot.waitUntil(lambda: window.task_status.current() == "classify")
        key("Escape")
    finally:
        release.set()
    wait_idle(window)
    cancelled = window.session.images.paths([CANCELLED])
    assert cancelled and window.task_status.text() == (
        f"Classification cancelled: {40 - len(cancelled)} of 40 images classified"
    )
    key("F5")
    wait_idle(window)
    assert window.session.images.paths([CANCELLED]) == []
    assert set(cancelled) <= set(window.session.images.paths([DONE]))

    # Ctrl+Shift+O: a model file.
    monkeypatch.setattr(model_dialogs, "ask_model_file", lambda *a: str(small_classifier))
    key("Ctrl+Shift+O")
    wait_for_model(qtbot, window, "fruit.keras")
    wait_idle(window)

    # Ctrl+Alt+R: squash whole photos (the model is loaded again with it); Ctrl+Alt+I: the
    # input size dialog (cancelled: nothing changes).
    key("Ctrl+Alt+R")
    qtbot.waitUntil(lambda: window.session.model.resize_mode == "squash", timeout=60_000)
    wait_for_model(qtbot, window, "fruit.keras")
    answer = answer_next_dialog("Cancel")
    key("Ctrl+Alt+I")
    assert answer.done() and answer.seen[0]["title"] == "Input size"
    activate(qtbot, window)

    # Ctrl+Q: the window closes and its worker ends.
    key("Ctrl+Q")
    assert not window.isVisible() and window.worker_stopped

    readme = {QKeySequence(k).toString() for k in readme_shortcuts()}
    assert readme == set(pressed), f"not pressed: {readme - set(pressed)}"


def test_ctrl_l_focuses_the_layer_filter_wherever_the_focus_is(window, qtbot):
    window.image_pane.list.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.layer_tree.filter_edit
    assert re.search("Ctrl\\+L", window.layer_tree.filter_edit.placeholderText())
