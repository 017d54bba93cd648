"""``convlens train``: usage errors, an end-to-end run with --json and --tflite, exit statuses, Ctrl+C."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.cli import progress as cli_progress
from core.cli.main import main
from core.models.loading import load_model_file
from core.models.tflite_export import labels_path
from tests.image_corpus import write_truncated
from tests.training_data import TEXTURES, make_texture_dataset


@pytest.fixture(scope="module")
def textures(tmp_path_factory):
    return make_texture_dataset(tmp_path_factory.mktemp("cli-textures"), 12, 4)


def _run(capsys, *argv):
    status = main(["train", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--freeze", "some"], "--freeze must be all, none or up-to:LAYER"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--augment", "flip,blur"], "unknown augmentation blur"),
        (["--fine-tune-top", "4", "--freeze", "none"], "use it with --freeze all"),
        (["--val-dir", "/no/such/folder"], "/no/such/folder is not a folder"),
        (["--tflite", "model.onnx"], "must end in .tflite"),
        (["--model", "AlexNet"], "unknown model 'AlexNet'"),
        (["--weights", "/no/weights.h5"], "weights file /no/weights.h5 does not exist"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, textures, tmp_path, options, message):
    status, out, err = _run(capsys, textures.train_dir, "--out", tmp_path / "m.keras", *options)
    assert status == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("convlens train: error: ") and message in line


def test_an_unknown_freeze_layer_is_a_usage_error_found_once_the_base_is_built(
    capsys, textures, tmp_path
):
    status, out, err = _run(
        capsys, textures.train_dir, "--out", tmp_path / "m.keras", "--freeze", "up-to:nowhere"
    )
    assert status == 2 and out == "" and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("convlens train: error: --freeze up-to:nowhere")
    assert not (tmp_path / "m.keras").exists()


def test_output_paths_are_checked_before_training(capsys, textures, tmp_path):
    existing = tmp_path / "m.keras"
    existing.write_bytes(b"keep me")
    status, _, err = _run(capsys, textures.train_dir, "--out", existing)
    assert status == 2 and "already exists; pass --overwrite" in err
    assert existing.read_bytes() == b"keep me"
    status, _, err = _run(capsys, textures.train_dir, "--out", tmp_path / "m.h5")
    assert status == 2 and "must end in .keras" in err
    status, _, err = _run(capsys, tmp_path / "missing", "--out", tmp_path / "n.keras")
    assert status == 2 and "is not a folder" in err


def test_train_end_to_end_with_json_and_tflite(capsys, textures, tmp_path):
    out, tflite = tmp_path / "textures.keras", tmp_path / "textures.tflite"
    status, stdout, stderr = _run(
        capsys,
        textures.train_dir,
        "--val-dir",
        textures.val_dir,
        "--input-size",
        "96",
        "--epochs",
        "6",
        "--lr",
        "0.003",
        "--out",
        out,
        "--tflite",
        tflite,
        "--json",
    )
    assert status == 0, stderr
    summary = json.loads(stdout)  # stdout holds the JSON and nothing else
    assert summary["model"] == str(out) and summary["tflite"] == str(tflite)
    assert summary["classes"] == list(TEXTURES) and summary["fast_path"]
    assert summary["val_accuracy"] >= 0.9
    assert sum(map(sum, summary["confusion"])) == 12
    assert summary["dataset"]["counts"] == dict.fromkeys(TEXTURES, 12)
    assert [e["epoch"] for e in summary["history"]] == list(range(1, len(summary["history"]) + 1))
    assert "Epoch 1/6" in stderr
    assert load_model_file(out).class_names == list(TEXTURES)
    assert tflite.stat().st_size > 1_000_000
    assert labels_path(tflite).read_text().split() == list(TEXTURES)

    status = main(["classify", "--model", str(out), "--json", "--top", "1", str(textures.val_dir)])
    results = json.loads(capsys.readouterr().out)
    assert status == 0 and len(results) == 12
    assert {r["predictions"][0]["label"] for r in results} <= set(TEXTURES)


def test_unreadable_images_are_skipped_reported_and_exit_1(capsys, textures, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(textures.train_dir, data)
    write_truncated(data / "grass" / "broken.png")
    out = tmp_path / "m.keras"
    status, stdout, stderr = _run(capsys, data, "--input-size", "64", "--epochs", "1", "--out", out)
    assert status == 1
    assert "broken.png: error:" in stderr and "1 unreadable image(s)" in stderr
    assert "Validation accuracy" in stderr and stdout == ""
    assert out.is_file()


# -- Ctrl+C ----------------------------------------------------------------------------------

LINE_TIMEOUT_S = 300  # the first epoch comes after TensorFlow's import and the model's load


def _stderr_lines(process) -> queue.Queue:
    """process's stderr lines (tqdm's carriage returns end lines too), then None at its end."""
    lines = queue.Queue()

    def read():
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def interrupt_at_epoch(argv: list[str], epoch_prefix: str) -> tuple[int, str]:
    """Run `convlens` argv, press Ctrl+C (SIGINT) once a line starting with epoch_prefix
    reports accuracy, and return its exit status and everything it wrote to stderr."""
    command = str(Path(sys.executable).parent / "convlens")
    process = subprocess.Popen(
        [command, *map(str, argv)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        lines, seen = _stderr_lines(process), []
        while not any(line.startswith(epoch_prefix) and "accuracy" in line for line in seen):
            line = lines.get(timeout=LINE_TIMEOUT_S)
            assert line is not None, "".join(seen)  # it ended before that epoch
            seen.append(line)
        process.send_signal(signal.SIGINT)
        while (line := lines.get(timeout=LINE_TIMEOUT_S)) is not None:
            seen.append(line)
        status = process.wait(timeout=LINE_TIMEOUT_S)
    finally:
        process.kill()
        process.wait()
    return status, "".join(seen)


def test_ctrl_c_stops_after_the_batch_and_saves_the_best_epoch(textures, tmp_path):
    out, tflite = tmp_path / "m.keras", tmp_path / "m.tflite"
    argv = [
        "train",
        str(textures.train_dir),
        "--val-dir",
        str(textures.val_dir),
        "--input-size",
        "64",
        "--augment",
        "flip",  # trained on images, not cached features: epochs take seconds
        "--epochs",
        "100",
        "--patience",
        "0",
        "--out",
        str(out),
        "--tflite",
        str(tflite),
    ]
    status, stderr = interrupt_at_epoch(argv, "Epoch 1/100")
    assert status == 1, stderr
    assert "Stopping after the current batch (press Ctrl+C again to quit at once)" in stderr
    note = stderr.strip().splitlines()[-1]
    assert note.startswith("note: stopped early at epoch ") and "of 100 (Ctrl+C)" in note
    assert note.endswith(")") and "saved the best epoch (" in note
    assert "Epoch 100/100" not in stderr
    assert load_model_file(out).class_names == list(TEXTURES)
    assert labels_path(tflite).read_text().split() == list(TEXTURES)
    assert sorted(os.listdir(tmp_path)) == ["m.keras", "m.tflite", "m_labels.txt"]


def _send_sigint_when(monkeypatch, method: str, condition) -> None:
    """Ctrl+C from inside the run: SIGINT to this process once ProgressBars.<method>(arg) matches."""
    real = getattr(cli_progress.ProgressBars, method)

    def report(self, *args):
        real(self, *args)
        if condition(*args):
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(cli_progress.ProgressBars, method, report)


def test_ctrl_c_before_the_first_epoch_ends_saves_nothing(capsys, textures, tmp_path, monkeypatch):
    _send_sigint_when(monkeypatch, "batch", lambda log: (log.epoch, log.batch) == (1, 1))
    before = signal.getsignal(signal.SIGINT)
    status, _, stderr = _run(
        capsys,
        textures.train_dir,
        "--input-size",
        "64",
        "--batch-size",
        "4",
        "--out",
        tmp_path / "m.keras",
    )
    assert status == 130
    assert "Stopping after the current batch" in stderr
    assert stderr.strip().splitlines()[-1] == (
        "convlens train: stopped before the first epoch finished; nothing was saved"
    )
    assert os.listdir(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl+C is the test runner's again


def test_a_second_ctrl_c_quits_at_once(capsys, textures, tmp_path, monkeypatch):
    _send_sigint_when(monkeypatch, "batch", lambda log: (log.epoch, log.batch) == (2, 1))
    _send_sigint_when(monkeypatch, "progress", lambda done, total, message: "Evaluat" in message)
    status, _, stderr = _run(
        capsys,
        textures.train_dir,
        "--input-size",
        "64",
        "--batch-size",
        "4",
        "--out",
        tmp_path / "m.keras",
    )
    assert status == 130
    assert "Stopping after the current batch" in stderr and "Epoch 1/10" in stderr
    assert stderr.strip().splitlines()[-1] == "convlens: interrupted"
    assert os.listdir(tmp_path) == []
