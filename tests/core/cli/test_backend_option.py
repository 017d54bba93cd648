"""--backend on the commands: the same answers on ONNX Runtime, the backend in exported
metadata, and ``convlens classify`` answering from the ONNX cache without TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import skimage
from PIL import Image

from core.cli.main import main
from core.io.export import read_features
from core.models.metadata import write_metadata
from tests.image_corpus import write_noise
from tests.model_factory import make_distinctive, tiny_cnn, transfer_model, write_keras2_h5

NAMES = ["cat", "dog", "fish"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("backend-photos")
    Image.fromarray(skimage.data.chelsea()).save(root / "chelsea.jpg", quality=95)
    Image.fromarray(skimage.data.coffee()).save(root / "coffee.jpg", quality=95)
    write_noise(root / "noise.png", size=(64, 48), seed=4)
    return root


def _classify(capsys, *argv) -> dict:
    status = main(["classify", "--json", *map(str, argv)])
    out, err = capsys.readouterr()
    assert status == 0, err
    return {os.path.basename(r["path"]): r["predictions"] for r in json.loads(out)}, err


def _assert_same_answers(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert [p["label"] for p in ours[name]] == [p["label"] for p in theirs[name]]
        np.testing.assert_allclose(
            [p["probability"] for p in ours[name]],
            [p["probability"] for p in theirs[name]],
            atol=1e-5,
        )


def test_classify_answers_from_the_cache_without_importing_tensorflow(photos, capsys):
    reference, _ = _classify(capsys, "--backend", "tf", photos)
    converted, err = _classify(capsys, photos)  # auto: converts, verifies, caches
    assert "Converting EfficientNet-Lite0 for ONNX Runtime" in err
    _assert_same_answers(converted, reference)
    assert converted["chelsea.jpg"][0]["label"] in ("tiger_cat", "Egyptian_cat", "tabby")

    code = (
        "import json, sys\n"
        "from core.cli.main import main\n"
        f"status = main(['classify', '--json', {str(photos)!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(json.dumps({'status': status, 'heavy': heavy}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=300
    )
    *results, summary = done.stdout.strip().splitlines()
    summary = json.loads(summary)
    assert summary == {"status": 0, "heavy": []}, done.stderr
    answers = {os.path.basename(r["path"]): r["predictions"] for r in json.loads("".join(results))}
    _assert_same_answers(answers, reference)


def test_a_model_file_changed_on_disk_is_not_answered_from_the_old_conversion(
    tmp_path, photos, capsys
):
    path = tmp_path / "pets.keras"
    tiny_cnn(classes=3, size=32).save(path)
    write_metadata(path, {"class_names": NAMES, "preprocess": "tf"})
    _classify(capsys, "--model", path, photos)
    make_distinctive(tiny_cnn(classes=3, size=32), seed=3).save(path)  # retrained, same name
    write_metadata(path, {"class_names": NAMES, "preprocess": "tf"})

    answers, _ = _classify(capsys, "--model", path, photos)
    reference, _ = _classify(capsys, "--model", path, "--backend", "tf", photos)

    _assert_same_answers(answers, reference)


def test_a_keras2_h5_with_a_nested_base_runs_on_onnx_runtime(tmp_path, photos, capsys):
    path = tmp_path / "legacy.h5"
    write_keras2_h5(path, size=32)
    (tmp_path / "legacy_labels.txt").write_text("\n".join(NAMES))
    options = ["--model", path, "--preprocess", "tf", photos]

    ours, err = _classify(capsys, "--backend", "onnx", *options)
    theirs, _ = _classify(capsys, "--backend", "tf", *options)

    assert "note:" not in err  # no fallback
    _assert_same_answers(ours, theirs)


def test_extract_records_the_backend_that_computed_the_vectors(tmp_path, photos, capsys):
    path = tmp_path / "flowers.keras"
    model = transfer_model(size=32)
    make_distinctive(model.get_layer("mobilenetv2_1.00_32"))
    model.save(path)
    layer = "mobilenetv2_1.00_32/block_16_project"
    results = {}
    for backend in ("onnx", "tf"):
        out = tmp_path / f"{backend}.npz"
        argv = ["extract", "--model", path, "--preprocess", "tf", "--layer", layer]
        status = main([*map(str, argv), "--backend", backend, "--out", str(out), str(photos)])
        assert status == 0, capsys.readouterr().err
        results[backend] = read_features(out)

    (onnx_vectors, _, onnx_meta), (tf_vectors, _, tf_meta) = results["onnx"], results["tf"]
    assert onnx_meta["backend"] == "onnx" and tf_meta["backend"] == "keras"
    np.testing.assert_allclose(onnx_vectors, tf_vectors, atol=1e-4)


def test_a_model_trained_by_convlens_runs_on_onnx_runtime(tmp_path, photos, capsys):
    from tests.training_data import make_texture_dataset

    data = make_texture_dataset(tmp_path / "data", 6, 2)
    model = tmp_path / "textures.keras"
    argv = ["train", data.train_dir, "--model", "MobileNetV2", "--weights", "none"]
    argv += ["--input-size", "32", "--epochs", "1", "--out", model, "--backend", "onnx"]
    assert main(list(map(str, argv))) == 0, capsys.readouterr().err
    capsys.readouterr()

    ours, err = _classify(capsys, "--model", model, "--backend", "onnx", photos)
    theirs, _ = _classify(capsys, "--model", model, "--backend", "tf", photos)

    assert "note:" not in err
    _assert_same_answers(ours, theirs)
    # The saved model says which runtime computed the base features it was trained on.
    from core.models.metadata import read_metadata

    assert read_metadata(model)["features_runtime"] == "onnx"
