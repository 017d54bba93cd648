"""Ctrl+C (SIGINT) to a real ``convlens train`` keeps the best epoch, not the last one."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.best_epoch import assert_saved_model_is_the_best_epoch
from tests.core.cli.test_train import LINE_TIMEOUT_S, _stderr_lines
from tests.training_data import make_texture_dataset, rotated_validation


def test_ctrl_c_saves_the_best_epoch_not_the_last(tmp_path):
    data = make_texture_dataset(tmp_path / "textures", 8, 4)
    val = rotated_validation(data.val_dir, tmp_path / "rotated")
    out = tmp_path / "stopped.keras"
    command = Path(sys.executable).parent / "convlens"
    argv = [str(command), "train", str(data.train_dir), "--val-dir", str(val), "--out", str(out)]
    argv += ["--input-size", "64", "--epochs", "100000", "--patience", "0", "--lr", "0.01"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines, seen = _stderr_lines(process), []
        while not any(line.startswith("Epoch 4/") and "accuracy" in line for line in seen):
            line = lines.get(timeout=LINE_TIMEOUT_S)
            assert line is not None, "".join(seen)  # it ended before the fourth epoch
            seen.append(line)
        process.send_signal(signal.SIGINT)
        while (line := lines.get(timeout=LINE_TIMEOUT_S)) is not None:
            seen.append(line)
        status = process.wait(timeout=LINE_TIMEOUT_S)
    finally:
        process.kill()
        process.wait()
    stderr = "".join(seen)
    assert status == 1, stderr
    best = assert_saved_model_is_the_best_epoch(out, val)
    note = stderr.strip().splitlines()[-1]
    assert note.startswith("note: stopped early at epoch ")
    assert note.endswith(f"saved the best epoch ({best['epoch']})")
