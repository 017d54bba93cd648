"""A trained model is never thrown away silently: closing the training window or the main
window (Ctrl+Q) asks Save / Discard / Cancel; Save suggests the dataset's name in the folder
of the last save."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from gui.app.settings import Settings
from tests.gui.conftest import open_window
from tests.gui.dialogs import activate, answer_next_dialog
from tests.gui.training.test_window import RUN_TIMEOUT_MS, _finished, _small_run
from tests.training_data import make_texture_dataset


@pytest.fixture(scope="module")
def textures(tmp_path_factory):
    return make_texture_dataset(tmp_path_factory.mktemp("fruitbowl"), 8, 3)


def train_once(qtbot, view, textures) -> None:
    _small_run(view, textures, epochs=1)
    _finished(qtbot, view)
    view.start_button.click()
    _finished(qtbot, view)
    assert view.result is not None and view.controller.unsaved()


def test_closing_the_training_window_asks_and_save_writes_then_closes(
    qtbot, textures, tmp_path, monkeypatch
):
    window = open_window(qtbot)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    view = window.training_window
    train_once(qtbot, view, textures)

    answer = answer_next_dialog("Cancel")
    assert not view.close()
    assert answer.done() and view.isVisible() and view.result is not None
    assert answer.seen[0]["title"] == "Save the trained model?"
    assert sorted(answer.seen[0]["buttons"]) == ["Cancel", "Discard", "Save"]

    saves = tmp_path / "models"
    saves.mkdir()
    suggested = []

    def save_as(parent, title, start, file_filter):
        suggested.append(start)
        return str(saves / "bowl.keras"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    answer = answer_next_dialog("Save")
    assert not view.close()  # stays open until the file is written
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=RUN_TIMEOUT_MS)
    assert (saves / "bowl.keras").is_file()
    # The dataset is .../fruitbowl0/train: its name, not "train", in the home folder.
    assert Path(suggested[0]) == Path.home() / f"{textures.train_dir.parent.name}.keras"
    assert Settings().last_model_save_dir == str(saves)
    assert str(saves / "bowl.keras") in window.model_selector.keys()

    # The next save starts in that folder; closing a saved model asks nothing.
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    view.save_button.click()
    _finished(qtbot, view)
    assert Path(suggested[1]).parent == saves
    assert view.close()


def test_ctrl_q_after_training_asks_and_discard_quits(qtbot, textures):
    window = open_window(qtbot)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    view = window.training_window
    train_once(qtbot, view, textures)
    activate(qtbot, window)

    answer = answer_next_dialog("Cancel")
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert answer.done() and window.isVisible() and view.isVisible()

    activate(qtbot, window)
    answer = answer_next_dialog("Discard")
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert answer.done()
    assert not window.isVisible() and not view.isVisible() and window.worker_stopped
