"""Choosing models from the tool-bar selector by mouse; the weights dialog's real buttons;
random weights unmistakable; failed files kept out of "Recent model files"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from core.models.zoo import BUILTIN_NAME
from gui.main import model_dialogs
from gui.widgets.model_selector import OPEN_FILE, RANDOM_BADGE
from gui.widgets.top5_panel import RANDOM_WARNING
from tests.gui.conftest import wait_for_model, wait_idle
from tests.gui.dialogs import activate, answer_next_dialog


@pytest.fixture(autouse=True)
def no_double_click_guard():
    """A combo box ignores a release within the double-click interval of its popup opening
    (a user's press-drag-release); a test's click comes at once, so the interval is 0."""
    interval = QApplication.doubleClickInterval()
    QApplication.setDoubleClickInterval(0)
    yield
    QApplication.setDoubleClickInterval(interval)


def choose_in_selector(qtbot, selector, key: str) -> None:
    """Open the tool bar's model list with a click and click the entry of key."""
    qtbot.mouseClick(selector, Qt.MouseButton.LeftButton)
    view = selector.view()
    qtbot.waitUntil(view.isVisible)
    index = selector.model().index(selector._row(key), 0)
    view.scrollTo(index)
    where = view.visualRect(index).center()
    qtbot.mouseMove(view.viewport(), where + QPoint(0, 3))  # a move, wherever it was
    qtbot.mouseMove(view.viewport(), where)  # the list follows the pointer
    qtbot.waitUntil(lambda: view.currentIndex().row() == index.row())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: not view.isVisible())


def test_random_weights_are_badged_in_the_selector_title_and_top5(window, photos, qtbot):
    window.add_images([str(photos["chelsea"])])
    window.image_pane.select_path(str(photos["chelsea"]))
    wait_idle(window)
    answer = answer_next_dialog("Use random weights")
    choose_in_selector(qtbot, window.model_selector, "MobileNet")
    wait_for_model(qtbot, window, "MobileNet")
    wait_idle(window)
    (dialog,) = answer.seen
    assert dialog["title"] == "Weights not available"
    assert "mobilenet_1_0_224_tf.h5" in dialog["informative"]
    assert "--weights" not in dialog["informative"]  # no command-line flags in the window
    assert "Retry" in dialog["informative"]

    assert window.session.model.weights == "random"
    assert RANDOM_BADGE in window.model_selector.currentText()
    assert "download" not in window.model_selector.currentText()
    assert window.windowTitle() == f"ConvLens — MobileNet  ·  {RANDOM_BADGE}"
    qtbot.waitUntil(lambda: len(window.top5.labels()) == 5)
    assert window.top5.warning.isVisible() and window.top5.warning.text() == RANDOM_WARNING
    assert all(bar.muted for bar in window.top5.bars)
    activate(qtbot, window)
    qtbot.keyClick(
        window,
        Qt.Key.Key_C,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert QGuiApplication.clipboard().text().splitlines()[1] == RANDOM_WARNING

    # Back to the built-in model: no badge anywhere.
    choose_in_selector(qtbot, window.model_selector, BUILTIN_NAME)
    wait_for_model(qtbot, window, BUILTIN_NAME)
    wait_idle(window)
    assert window.windowTitle() == f"ConvLens — {BUILTIN_NAME}"
    assert RANDOM_BADGE not in " ".join(
        window.model_selector.itemText(i) for i in range(window.model_selector.count())
    )
    qtbot.waitUntil(lambda: len(window.top5.labels()) == 5)
    assert not window.top5.warning.isVisible() and not window.top5.bars[0].muted


def test_retry_asks_again_and_cancel_keeps_the_model(window, qtbot):
    answer = answer_next_dialog("Retry", "Cancel")
    choose_in_selector(qtbot, window.model_selector, "MobileNet")
    qtbot.waitUntil(answer.done, timeout=120_000)
    qtbot.waitUntil(lambda: not window.session.is_loading(), timeout=120_000)
    wait_idle(window)
    assert [d["title"] for d in answer.seen] == ["Weights not available"] * 2
    assert window.session.model.name == BUILTIN_NAME
    assert window.model_selector.current_key() == BUILTIN_NAME
    assert window.windowTitle() == f"ConvLens — {BUILTIN_NAME}"


def test_choose_weights_file_loads_them(window, qtbot, tmp_path, monkeypatch):
    import keras

    weights = tmp_path / "my_mobilenet.weights.h5"
    keras.applications.MobileNet(weights=None).save_weights(weights)
    asked = []

    def choose(parent, title, folder, *args):
        asked.append(folder)
        return str(weights), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    answer = answer_next_dialog("Choose weights file")
    choose_in_selector(qtbot, window.model_selector, "MobileNet")
    wait_for_model(qtbot, window, "MobileNet")
    assert answer.done() and len(asked) == 1
    assert window.session.model.weights == str(weights)
    assert RANDOM_BADGE not in window.windowTitle() + window.model_selector.currentText()


def test_a_model_file_that_fails_is_not_a_recent_model(window, qtbot, tmp_path, monkeypatch):
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip archive")
    monkeypatch.setattr(model_dialogs, "ask_model_file", lambda *a: str(bad))
    choose_in_selector(qtbot, window.model_selector, OPEN_FILE)
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()
        ),
        timeout=60_000,
    )
    for box in QApplication.topLevelWidgets():
        if isinstance(box, QMessageBox) and box.isVisible():
            box.close()
    wait_idle(window)
    assert str(bad) not in window.model_selector.keys()
    assert str(bad) not in window.settings.recent_models
    assert window.model_selector.current_key() == BUILTIN_NAME
