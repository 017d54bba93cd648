"""What every command shows on stderr while it works: step lines, bars, epoch summaries."""

from __future__ import annotations

import sys
from types import SimpleNamespace

from core.cli.progress import ProgressBars


def test_a_model_load_shows_each_step_once_and_a_download_in_bytes(capsys):
    with ProgressBars() as bars:
        for _ in range(2):  # loads repeat their step message as they go
            bars.progress(0, 0, "Loading MobileNetV2…")
        bars.progress(0, 3, "Converting built-in model…")
        bars.progress(3, 3, "Converting built-in model…")
        bars.progress(0, 2_000_000, "Downloading weights.h5")
        bars.progress(2_000_000, 2_000_000, "Downloading weights.h5")
    err = capsys.readouterr().err
    lines = err.replace("\r", "\n").splitlines()
    assert lines.count("Loading MobileNetV2…") == 1
    assert lines.count("Converting built-in model…") == 1
    assert any(
        line.startswith("Downloading weights.h5: 100%") and "2.00M/2.00M" in line for line in lines
    )


def test_the_item_bar_counts_images_and_results_print_clear_of_it(capsys):
    with ProgressBars() as bars:
        bars.items("Extracting", 4)
        bars.progress(2, 4, "2/4 images")
        bars.write("a.png: tabby 90.0%", sys.stdout)
        bars.progress(4, 4, "4/4 images")
        bars.progress(4, 4, "Writing features.npz…")  # a step after the counts
    out, err = capsys.readouterr()
    assert out == "a.png: tabby 90.0%\n"  # stdout holds the results and nothing else
    lines = err.replace("\r", "\n").splitlines()
    assert any(line.startswith("Extracting: 100%") and "4/4" in line for line in lines)
    assert lines[-1] == "Writing features.npz…"


def test_training_shows_a_bar_per_phase_and_a_line_per_epoch(capsys):
    log = {"epoch": 1, "epochs": 2, "loss": 0.5}
    with ProgressBars(phase_bars=True) as bars:
        bars.progress(0, 10, "Checking images…")
        bars.progress(0, 0, "Training…")
        bars.batch(SimpleNamespace(**log, batch=1, batches=3))
        bars.epoch(
            SimpleNamespace(
                **log, accuracy=0.75, val_loss=0.25, val_accuracy=1.0, seconds=1.5, stage=2
            )
        )
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert any(line.startswith("Checking images:   0%") and "0/10" in line for line in lines)
    assert "Training…" in lines
    assert any(line.startswith("Epoch 1/2:") and "batch" in line for line in lines)
    assert lines[-1] == (
        "Epoch 1/2  loss 0.5000  accuracy 0.750  val_loss 0.2500  val_accuracy 1.000  1.5s"
        "  (fine-tuning)"
    )
