"""The training window and a dataset folder holding train/ and val/: it says so, validates on
val/ and disables the validation share; another folder gives the share back."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.training.test_window import RUN_TIMEOUT_MS, _finished, drop_folder
from tests.training_data import TEXTURES, make_texture_dataset


def table_rows(view) -> dict[str, str]:
    table = view.settings.class_table
    return {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}


def test_a_split_folder_validates_on_its_val_folder(qtbot, view, tmp_path):
    data = make_texture_dataset(tmp_path / "textures", 4, 2)
    root = tmp_path / "textures"
    assert drop_folder(view, root).isAccepted()
    _finished(qtbot, view)

    assert table_rows(view) == dict.fromkeys(TEXTURES, "4")  # not "train" and "val"
    settings = view.settings
    assert "textures/ is split already: training on textures/train/, validating on " in (
        settings.dataset_status.text()
    )
    assert settings.val_dir_edit.text() == str(data.val_dir)
    assert not settings.val_split.isEnabled()
    assert settings.validation_note.text() == (
        "Validation: the dataset's own val/ folder (the share does not apply)."
    )

    settings.input_size.setValue(64)
    settings.epochs.setValue(1)
    settings.resize_combo.setCurrentIndex(settings.resize_combo.findData("squash"))
    with qtbot.waitSignal(
        view.worker.job_finished,
        timeout=RUN_TIMEOUT_MS,
        check_params_cb=lambda job, r: job.kind == "train",
    ):
        QTest.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    assert view.result.evaluation.count == len(TEXTURES) * data.val_per_class
    assert (view.result.loaded.resize, view.result.config.resize) == ("squash", "squash")
    assert f"on {len(TEXTURES) * data.val_per_class} images" in view.results.summary.text()

    # A plain dataset folder: its own validation share again.
    assert drop_folder(view, data.train_dir).isAccepted()
    _finished(qtbot, view)
    assert settings.val_dir_edit.text() == ""
    assert settings.val_split.isEnabled()
    assert settings.validation_note.text() == "Validation: a share of each class's images."


def test_typing_a_validation_folder_disables_the_share(qtbot, view, tmp_path):
    settings = view.settings
    assert settings.val_split.isEnabled()
    QTest.keyClicks(settings.val_dir_edit, str(tmp_path))
    assert not settings.val_split.isEnabled()
    assert settings.validation_note.text() == (
        f"Validation: the folder {tmp_path.name}/ (the share does not apply)."
    )
    settings.val_dir_edit.selectAll()
    QTest.keyClick(settings.val_dir_edit, Qt.Key.Key_Backspace)
    assert settings.val_split.isEnabled()
