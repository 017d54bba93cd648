"""The check behind "a stopped run keeps its best epoch", shared by the core, CLI and window
tests: the saved model file is the best epoch of its history, by its metadata and by what it
predicts on the validation images."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.engine.engine import Engine
from core.models.loading import load_model_file
from core.models.metadata import read_metadata


def assert_saved_model_is_the_best_epoch(path: Path, val_dir: Path) -> dict:
    """Returns the history's best epoch (a dict of EpochLog fields)."""
    metadata = read_metadata(path)
    history = metadata["history"]
    best = min(history, key=lambda log: log["val_loss"])
    assert best["epoch"] < history[-1]["epoch"], "arranged so that the last epoch is not the best"
    assert metadata["metrics"]["best_epoch"] == best["epoch"]
    assert metadata["metrics"]["val_accuracy"] == pytest.approx(best["val_accuracy"], abs=1e-4)

    loaded = load_model_file(path)
    engine = Engine(loaded)
    right = total = 0
    for folder in sorted(Path(val_dir).iterdir()):
        for result in engine.classify_paths([folder], top=1):
            total += 1
            right += result.predictions[0].label == folder.name
    assert total and right / total == pytest.approx(best["val_accuracy"], abs=1e-6)
    return best
