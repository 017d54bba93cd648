"""Ctrl+C (SIGINT) to a real ``convlens train`` keeps the best epoch, not the last one."""

from __future__ import annotations

from tests.best_epoch import assert_saved_model_is_the_best_epoch
from tests.core.cli.test_train import interrupt_at_epoch
from tests.training_data import make_texture_dataset, rotated_validation


def test_ctrl_c_saves_the_best_epoch_not_the_last(tmp_path):
    data = make_texture_dataset(tmp_path / "textures", 8, 4)
    val = rotated_validation(data.val_dir, tmp_path / "rotated")
    out = tmp_path / "stopped.keras"
    argv = ["train", data.train_dir, "--val-dir", val, "--out", out, "--input-size", "64"]
    argv += ["--epochs", "100000", "--patience", "0", "--lr", "0.01"]
    status, stderr = interrupt_at_epoch(argv, "Epoch 4/")
    assert status == 1, stderr
    best = assert_saved_model_is_the_best_epoch(out, val)
    note = stderr.strip().splitlines()[-1]
    assert note.startswith("note: stopped early at epoch ")
    assert note.endswith(f"saved the best epoch ({best['epoch']})")
