"""Stopping a run keeps its best epoch, not its last: in core.training (the cancel token)."""

from __future__ import annotations

import pytest

from core.progress import CancelToken
from core.training.config import TrainConfig
from core.training.trainer import save_model, train
from tests.best_epoch import assert_saved_model_is_the_best_epoch
from tests.training_data import make_texture_dataset, rotated_validation


def test_stop_keeps_the_best_epoch(tmp_path):
    data = make_texture_dataset(tmp_path / "textures", 8, 4)
    val = rotated_validation(data.val_dir, tmp_path / "rotated")
    stop = CancelToken()
    config = TrainConfig(data.train_dir, val_dir=val, input_size=64, epochs=50, patience=0, lr=0.01)
    result = train(config, cancel=stop, on_epoch=lambda log: log.epoch == 5 and stop.cancel())
    assert result.cancelled and len(result.history) == 5
    assert result.best_epoch < 5
    path = save_model(result, tmp_path / "stopped.keras")
    best = assert_saved_model_is_the_best_epoch(path, val)
    assert best["epoch"] == result.best_epoch
    assert result.evaluation.accuracy == pytest.approx(best["val_accuracy"])
