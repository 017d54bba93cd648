"""The training window's Stop button keeps the best epoch, not the last: the saved model is it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from tests.best_epoch import assert_saved_model_is_the_best_epoch
from tests.gui.training.test_window import RUN_TIMEOUT_MS, _finished, drop_folder
from tests.training_data import make_texture_dataset, rotated_validation


def test_stop_button_keeps_the_best_epoch(qtbot, view, tmp_path, monkeypatch):
    data = make_texture_dataset(tmp_path / "textures", 8, 4)
    val = rotated_validation(data.val_dir, tmp_path / "rotated")
    assert drop_folder(view, data.train_dir).isAccepted()
    _finished(qtbot, view)
    QTest.keyClicks(view.settings.val_dir_edit, str(val))
    view.settings.input_size.setValue(64)
    view.settings.epochs.setValue(1000)
    view.settings.patience.setValue(0)
    view.settings.lr.setValue(0.01)

    QTest.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(view.curves.points("loss")[0]) >= 4, timeout=RUN_TIMEOUT_MS)
    QTest.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    _finished(qtbot, view)
    result = view.result
    assert result.cancelled and len(result.history) < 1000

    target = tmp_path / "stopped.keras"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(view.model_saved, timeout=RUN_TIMEOUT_MS):
        QTest.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    best = assert_saved_model_is_the_best_epoch(target, val)
    assert best["epoch"] == result.best_epoch
