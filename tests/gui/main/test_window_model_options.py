"""Model → Squash whole photos (Ctrl+Alt+R) and Input size… (Ctrl+Alt+I), pressed like a user.

The options reload the model, change what the network is fed and are remembered.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

from core.io.images import load_fitted
from gui.app.settings import Settings
from tests.gui.conftest import open_window, wait_idle
from tests.gui.main.test_window_images import drop

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def to_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : 3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def press(qtbot, window, key) -> None:
    # The window has the focus again after a dialog, as a window manager gives it back.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, key, CTRL_ALT)


def wait_for(qtbot, window, condition) -> None:
    def loaded():
        model = window.session.model
        assert model is not None and not window.session.is_loading() and condition(model)

    qtbot.waitUntil(loaded, timeout=120_000)


def test_ctrl_alt_r_squashes_photos_and_is_remembered(qtbot, window, photos):
    drop(window, [photos["chelsea"]])
    wait_idle(window)
    assert window.session.model.resize_mode == "crop"
    assert not window.actions["squash"].isChecked()

    press(qtbot, window, Qt.Key.Key_R)
    wait_for(qtbot, window, lambda model: model.resize_mode == "squash")
    assert window.actions["squash"].isChecked()
    assert Settings().resize_mode == "squash"
    wait_idle(window)
    assert "cat" in window.top5.text()  # classified again with the new fitting
    # N: what the network sees is the whole photo, stretched, as keras.utils.load_img gives it.
    with qtbot.waitSignal(window.session.loader.picture_ready, timeout=30_000) as shown:
        qtbot.keyClick(window, Qt.Key.Key_N)
    seen = to_array(shown.args[2])
    np.testing.assert_array_equal(seen, load_fitted(photos["chelsea"], (224, 224), "squash"))
    assert np.abs(seen.astype(int) - load_fitted(photos["chelsea"], (224, 224))).mean() > 5
    window.close()

    again = open_window(qtbot)
    assert again.session.model.resize_mode == "squash"
    assert again.actions["squash"].isChecked()
    press(qtbot, again, Qt.Key.Key_R)  # and back
    wait_for(qtbot, again, lambda model: model.resize_mode == "crop")
    assert Settings().resize_mode == "crop"


def answer_input_dialog(qtbot, text: str) -> None:
    """Once the input dialog is up, type text into it and press Enter, as a user would."""

    def answer():
        dialogs = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QInputDialog) and w.isVisible()
        ]
        if not dialogs:  # not open yet: look again soon (the dialog's own loop runs this)
            QTimer.singleShot(20, answer)
            return
        field = dialogs[0].findChild(QLineEdit)
        field.selectAll()
        qtbot.keyClick(field, Qt.Key.Key_Backspace)  # what was there goes
        qtbot.keyClicks(field, text)
        qtbot.keyClick(field, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)


def test_ctrl_alt_i_builds_the_model_headless_at_that_size(qtbot, window, photos):
    answer_input_dialog(qtbot, "160,192")
    press(qtbot, window, Qt.Key.Key_I)
    wait_for(qtbot, window, lambda model: model.input_size == (160, 192))
    info = window.session.model
    assert not info.is_classifier
    assert info.layers[-1]["output_shape"] == [5, 6, 1280]  # the built-in model's last maps
    assert "160×192 without its ImageNet classifier" in window.statusBar().currentMessage()
    assert Settings().input_size == (160, 192)
    assert "160×192" in window.actions["input_size"].text()

    drop(window, [photos["chelsea"]])
    wait_idle(window)
    assert "no classifier head" in window.top5.message.text()

    answer_input_dialog(qtbot, "")  # empty: back to the model's own size, with its top
    press(qtbot, window, Qt.Key.Key_I)
    wait_for(qtbot, window, lambda model: model.is_classifier)
    assert window.session.model.input_size == (224, 224)
    assert Settings().input_size is None


def test_a_bad_input_size_is_refused_with_a_message(qtbot, window, monkeypatch):
    shown = []
    monkeypatch.setattr(
        "gui.main.model_options.QMessageBox.warning", lambda *args: shown.append(args[2])
    )
    answer_input_dialog(qtbot, "12")
    press(qtbot, window, Qt.Key.Key_I)
    qtbot.waitUntil(lambda: bool(shown))
    assert "at least 32 pixels" in shown[0]
    assert Settings().input_size is None
    assert window.session.model.is_classifier
