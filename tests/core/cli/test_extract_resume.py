"""``convlens extract`` interrupted for real (Ctrl+C, then kill -9) and resumed: the file is
the same as an uninterrupted run's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from core.cli.main import main
from core.io.run_folder import RunFolder
from core.models.metadata import write_metadata
from tests.image_corpus import write_noise
from tests.model_factory import tiny_cnn

COUNT = 900


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "pets.keras"
    tiny_cnn(classes=3, size=32).save(path)
    write_metadata(path, {"class_names": ["cat", "dog", "fish"], "preprocess": "tf"})
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("many")
    for i in range(COUNT):
        write_noise(root / f"{i // 300}" / f"p{i}.png", (12, 12), seed=i)
    return root


def start(argv):
    return subprocess.Popen(
        [sys.executable, "-m", "core.cli.main", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupt_when_done(process, run: RunFolder, shards: int, sig) -> None:
    """Send sig once the run has saved at least `shards` shards (polling the folder)."""
    deadline = time.monotonic() + 120
    while len(run.shards()) < shards:
        assert time.monotonic() < deadline, "the run saved nothing in two minutes"
        try:  # waits on the process itself: a run that ends before its shards fails here
            process.wait(timeout=0.005)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"the run ended early: {process.stderr.read()}")
    process.send_signal(sig)


def test_ctrl_c_and_kill_9_then_resume_give_the_uninterrupted_file(
    model_file, photos, tmp_path, capsys
):
    whole, out = tmp_path / "whole.npy", tmp_path / "resumed.npy"
    options = ["extract", "-m", str(model_file), "--batch-size", "4", "--checkpoint", "16"]
    assert main([*options, "-o", str(whole), str(photos)]) == 0
    run = RunFolder(out)

    first = start([*options, "-o", str(out), str(photos)])
    interrupt_when_done(first, run, 2, signal.SIGINT)  # Ctrl+C
    assert first.wait(120) == 130
    assert "--resume to continue" in first.stderr.read()
    kept = run.done()
    assert 32 <= kept < COUNT and not out.exists()

    assert main([*options, "-o", str(out), str(photos)]) == 2  # neither --resume nor --restart
    assert "--resume" in capsys.readouterr().err

    second = start([*options, "-o", str(out), "--resume", str(photos)])
    interrupt_when_done(second, run, len(run.shards()) + 2, signal.SIGKILL)  # a crash
    assert second.wait(120) == -signal.SIGKILL
    assert run.done() > kept and not out.exists()

    capsys.readouterr()
    assert main([*options, "-o", str(out), "--resume", str(photos)]) == 0
    assert "Resumed after" in capsys.readouterr().err
    assert out.read_bytes() == whole.read_bytes()
    assert sorted(os.listdir(tmp_path)) == ["resumed.npy", "whole.npy"]
