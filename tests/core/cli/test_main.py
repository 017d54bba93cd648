"""The ``convlens`` command line: output, JSON schema, exit status and one-line errors.

Commands run in-process through core.cli.main for speed; one test runs the installed
entry point to prove the console command itself works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

import core
from core.cli.main import main
from core.io.export import read_features
from core.models.metadata import write_metadata
from tests.image_corpus import write_noise, write_truncated
from tests.model_factory import tiny_cnn, transfer_model

NAMES = ["cat", "dog", "fish"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Three readable photos and one broken file, in a folder with a subfolder."""
    root = tmp_path_factory.mktemp("photos")
    write_noise(root / "a.png", size=(40, 30), seed=1)
    write_noise(root / "b.jpg", size=(64, 64), seed=2)
    write_truncated(root / "c.png")
    write_noise(root / "sub" / "d.bmp", size=(20, 50), seed=3)
    return root


@pytest.fixture(scope="module")
def good_photos(photos, tmp_path_factory):
    root = tmp_path_factory.mktemp("good")
    for name in ("a.png", "b.jpg"):
        (root / name).write_bytes((photos / name).read_bytes())
    return root


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A small classifier file with its class names and preprocessing stored inside."""
    path = tmp_path_factory.mktemp("model") / "pets.keras"
    tiny_cnn(classes=3, size=32).save(path)
    write_metadata(path, {"class_names": NAMES, "preprocess": "tf"})
    return path


@pytest.fixture(scope="module")
def nested_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("nested") / "flowers.keras"
    transfer_model().save(path)
    return path


@pytest.fixture(scope="module")
def twin_file(tmp_path_factory):
    """Two nested CNNs whose layers have the same names: "conv2" means two layers."""
    import keras

    inputs = keras.Input((32, 32, 3), name="photo")
    left, right = tiny_cnn(name="left")(inputs), tiny_cnn(name="right")(inputs)
    outputs = keras.layers.Average(name="average")([left, right])
    path = tmp_path_factory.mktemp("twins") / "twins.keras"
    keras.Model(inputs, outputs, name="twins").save(path)
    write_metadata(path, {"class_names": NAMES, "preprocess": "tf"})
    return path


def _error_line(err: str, command: str) -> str:
    """The single error line a usage error prints; fails on tracebacks or chatter."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"convlens {command}: error: ")
    assert "Traceback" not in err
    return lines[0]


# --- classify -------------------------------------------------------------------------


def test_builtin_model_recognises_the_cat_and_the_espresso(tmp_path, capsys):
    Image.fromarray(skimage.data.chelsea()).save(tmp_path / "chelsea.jpg", quality=95)
    Image.fromarray(skimage.data.coffee()).save(tmp_path / "coffee.jpg", quality=95)
    Image.fromarray(skimage.data.rocket()).save(tmp_path / "rocket.jpg", quality=95)

    status = main(["classify", "--json", "--top", "3", str(tmp_path)])

    assert status == 0
    results = {Path(r["path"]).name: r for r in json.loads(capsys.readouterr().out)}
    cat = [p["label"] for p in results["chelsea.jpg"]["predictions"]]
    assert set(cat) == {"tiger_cat", "Egyptian_cat", "tabby"}
    coffee = results["coffee.jpg"]["predictions"][0]
    assert (coffee["label"], coffee["class_id"], coffee["index"]) == ("espresso", "n07920052", 967)
    # The default centre crop keeps the rocket's proportions; squashing the wide photo
    # makes it a "drilling_platform" (the measurement behind DEFAULT_RESIZE).
    assert results["rocket.jpg"]["predictions"][0]["label"] in {"missile", "projectile"}


def test_classify_json_schema_and_partial_failure(model_file, photos, capsys):
    status = main(["classify", "--model", str(model_file), "--json", "-k", "2", str(photos)])
    assert status == 1  # one broken file; the others are still classified
    results = json.loads(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in results] == ["a.png", "b.jpg", "c.png", "d.bmp"]
    for result in results:
        if Path(result["path"]).name == "c.png":
            assert set(result) == {"path", "error"}
            assert isinstance(result["error"], str) and result["error"]
            continue
        assert set(result) == {"path", "predictions", "weights"}
        assert result["weights"] == str(model_file)  # a model file brings its own weights
        assert len(result["predictions"]) == 2
        for prediction in result["predictions"]:
            assert set(prediction) == {"label", "class_id", "index", "probability"}
            assert prediction["label"] in NAMES
            assert prediction["class_id"] == prediction["label"]
            assert NAMES[prediction["index"]] == prediction["label"]
            assert 0.0 <= prediction["probability"] <= 1.0
        probabilities = [p["probability"] for p in result["predictions"]]
        assert probabilities == sorted(probabilities, reverse=True)


def test_classify_text_output(model_file, photos, capsys):
    status = main(["classify", "--model", str(model_file), "--top", "1", str(photos)])
    out, err = capsys.readouterr()
    assert status == 1
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{photos / 'a.png'}: ") and lines[0].endswith("%")
    assert f"{photos / 'c.png'}: error: " in err
    assert "Traceback" not in err


def test_classify_all_good_exits_0(model_file, good_photos, capsys):
    assert main(["classify", "-m", str(model_file), str(good_photos)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_a_missing_path_among_others_fails_alone(model_file, good_photos, tmp_path, capsys):
    missing = tmp_path / "gone.jpg"
    status = main(["classify", "-m", str(model_file), "--json", str(missing), str(good_photos)])
    assert status == 1
    results = json.loads(capsys.readouterr().out)
    assert results[0]["path"] == str(missing) and "does not exist" in results[0]["error"]
    assert all("predictions" in r for r in results[1:]) and len(results) == 3


# --- usage errors: exit 2, one line ---------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["classify", "--model", "AlexNet", "{good}"], "Unknown model 'AlexNet'"),
        (["classify", "--model", "{tmp}/gone.keras", "{good}"], "does not exist"),
        (["classify", "--model", "{tmp}/gone.h5", "{good}"], "does not exist"),
        (["classify", "--top", "0", "{good}"], "--top"),
        (["classify", "{tmp}/nothing-here"], "no such file or folder"),
        (["classify", "{tmp}"], "no images found"),
        (["classify", "--weights", "{tmp}/w.h5", "-m", "MobileNetV2", "{good}"], "w.h5"),
        (["layers", "--model", "vgg99"], "Unknown model"),
        (["extract", "-m", "{model}", "--layer", "nope", "-o", "{tmp}/f.npz", "{good}"], "nope"),
        (
            [
                "extract",
                "-m",
                "{model}",
                "-l",
                "nope",
                "--pool",
                "avg",
                "-o",
                "{tmp}/f.npz",
                "{good}",
            ],
            "nope",
        ),
        (["extract", "-m", "{model}", "-o", "{tmp}/f.txt", "{good}"], ".npz"),
        (["extract", "-m", "{model}", "-o", "{tmp}/no/f.npz", "{good}"], "does not exist"),
        (["extract", "-m", "{model}", "--batch-size", "0", "-o", "{tmp}/f.npz", "{good}"], "batch"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv, expected, model_file, good_photos, tmp_path, capsys
):
    argv = [arg.format(good=good_photos, tmp=tmp_path, model=model_file) for arg in argv]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert expected in _error_line(err, argv[0])
    assert out == ""
    assert not list(tmp_path.glob("f.*"))


def test_model_whose_preprocessing_is_unknown_needs_preprocess(tmp_path, good_photos, capsys):
    path = tmp_path / "mine.keras"
    tiny_cnn().save(path)
    assert main(["classify", "-m", str(path), str(good_photos)]) == 2
    assert "--preprocess" in _error_line(capsys.readouterr().err, "classify")
    assert main(["classify", "-m", str(path), "--preprocess", "tf", str(good_photos)]) == 0
    capsys.readouterr()
    assert main(["classify", "-m", str(path), str(good_photos)]) == 0  # remembered


def test_lambda_model_needs_trust_model(tmp_path, good_photos, capsys):
    import keras

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Lambda(lambda t: t / 255.0)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x)).save(path)
    argv = ["classify", "-m", str(path), "--preprocess", "none", str(good_photos)]
    assert main(argv) == 2
    assert "--trust-model" in _error_line(capsys.readouterr().err, "classify")
    assert main([*argv, "--trust-model"]) == 0


def test_argparse_errors_return_2(capsys):
    assert main(["classify", "--top", "many", "x.jpg"]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["extract", "photos"],
            "convlens extract: error: the following arguments are required: --out/-o "
            "(see 'convlens extract --help')",
        ),
        (
            ["classify", "--top", "many", "x.jpg"],
            "convlens classify: error: argument --top/-k: invalid int value: 'many' "
            "(see 'convlens classify --help')",
        ),
        (
            ["extract", "--pool", "mean", "-o", "f.npz", "photos"],
            "convlens extract: error: argument --pool: invalid choice: 'mean' "
            "(choose from 'avg', 'max', 'flatten', 'none') (see 'convlens extract --help')",
        ),
        (
            ["frobnicate"],
            "convlens: error: argument COMMAND: invalid choice: 'frobnicate' (choose from "
            "'models', 'classify', 'layers', 'extract', 'train', 'explain', 'export-onnx', "
            "'map', 'similar', 'duplicates') "
            "(see 'convlens --help')",
        ),
    ],
)
def test_argparse_usage_errors_are_one_line_pointing_to_help(argv, expected, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == expected + "\n"  # no usage block above it


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"convlens {core.__version__}\n"


def test_headless_model_cannot_classify(tmp_path, good_photos, capsys):
    path = tmp_path / "features_only.keras"
    import keras

    inputs = keras.Input((32, 32, 3))
    keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs)).save(path)
    assert main(["classify", "-m", str(path), "--preprocess", "none", str(good_photos)]) == 2
    assert "convlens extract" in _error_line(capsys.readouterr().err, "classify")


def test_offline_weights_error_is_one_line_exit_1(keras_home, good_photos, capsys):
    assert main(["classify", "-m", "mobilenetv2", str(good_photos)]) == 1
    err = capsys.readouterr().err
    line = [line for line in err.splitlines() if "error" in line]
    assert len(line) == 1 and str(keras_home) in line[0]
    assert "Traceback" not in err


# --- layers ---------------------------------------------------------------------------


def test_layers_json_has_the_nested_tree(nested_file, capsys):
    assert main(["layers", "--model", str(nested_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"]["name"] == "flowers.keras"
    assert data["model"]["preprocess"] == "tf"
    base = data["layers"][1]
    assert base["name"] == "mobilenetv2_1.00_96"
    assert base["children"][1]["path"] == "mobilenetv2_1.00_96/Conv1"
    assert base["output_shape"] == [3, 3, 1280]


def test_layers_text_indents_children(nested_file, capsys):
    assert main(["layers", "--model", str(nested_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    base = next(i for i, line in enumerate(lines) if line.startswith("mobilenetv2_1.00_96"))
    assert lines[base + 1].startswith("  input_layer")
    assert "Conv2D" in lines[base + 2] and "48×48×32" in lines[base + 2]
    assert "(frozen)" not in lines[0]


def test_layers_table_has_a_header_and_each_layer_s_full_path(nested_file, capsys):
    assert main(["layers", "--model", str(nested_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "params", "trainable", "path"]
    relu = next(line for line in lines if line.strip().startswith("block_13_expand_relu"))
    assert relu.startswith("  block_13_expand_relu")  # indented under its model
    assert relu.endswith("  mobilenetv2_1.00_96/block_13_expand_relu")
    base = next(line for line in lines if line.startswith("mobilenetv2_1.00_96"))
    assert base.split()[-2:] == ["no", "mobilenetv2_1.00_96"]  # the frozen base
    # The path column starts at the same place on every row.
    column = lines[0].index("path")
    assert relu[column:] == "mobilenetv2_1.00_96/block_13_expand_relu"


# --- extract --------------------------------------------------------------------------


def test_extract_npz_with_progress_on_stderr(model_file, photos, tmp_path, capsys):
    out = tmp_path / "features.npz"
    status = main(["extract", "-m", str(model_file), "-o", str(out), str(photos)])
    _, err = capsys.readouterr()
    assert status == 1  # c.png is broken; the other three are written
    vectors, paths, metadata = read_features(out)
    assert vectors.shape == (3, 16)
    assert [Path(p).name for p in paths] == ["a.png", "b.jpg", "d.bmp"]
    assert metadata["model"] == "pets.keras"
    assert (metadata["layer"], metadata["pooling"]) == ("gap", "none")
    assert metadata["preprocessing"] == "tf" and metadata["input_size"] == [32, 32]
    assert "Extracting" in err and "4/4" in err  # the progress bar reached the end
    assert f"{photos / 'c.png'}: error: " in err
    assert f"Wrote 3 vectors of (16,) to {out}" in err


@pytest.mark.parametrize(
    ("name", "layer", "pool", "shape"),
    [
        ("f.csv", "conv2", "max", (2, 16)),
        ("f.h5", "conv2", None, (2, 16)),  # a conv layer is averaged by default
        ("f.npy", "conv2", "none", (2, 13, 13, 16)),
    ],
)
def test_extract_format_follows_the_extension(
    model_file, good_photos, tmp_path, capsys, name, layer, pool, shape
):
    out = tmp_path / name
    argv = ["extract", "-m", str(model_file), "-l", layer, "-o", str(out), str(good_photos)]
    assert main(argv + (["--pool", pool] if pool else [])) == 0
    vectors, paths, metadata = read_features(out)
    if name.endswith(".csv"):
        shape = (shape[0], int(np.prod(shape[1:])))
    assert vectors.shape == shape
    if name.endswith(".h5"):
        assert metadata["pooling"] == "avg" and metadata["layer"] == "conv2"
    with open(out, "rb") as f:
        head = f.read(8)
    expected_magic = {".csv": b"path,f0,", ".h5": b"\x89HDF\r\n\x1a\n", ".npy": b"\x93NUMPY"}
    assert head.startswith(expected_magic[out.suffix])


def test_extract_overwrite(model_file, good_photos, tmp_path, capsys):
    out = tmp_path / "f.npz"
    out.write_bytes(b"old")
    argv = ["extract", "-m", str(model_file), "-o", str(out), str(good_photos)]
    assert main(argv) == 2 and out.read_bytes() == b"old"
    assert main([*argv, "--overwrite"]) == 0
    assert read_features(out)[0].shape == (2, 16)


def test_extract_inner_layer_of_a_nested_base(nested_file, good_photos, tmp_path, capsys):
    out = tmp_path / "inner.npz"
    layer = "mobilenetv2_1.00_96/block_2_add"
    assert (
        main(["extract", "-m", str(nested_file), "-l", layer, "-o", str(out), str(good_photos)])
        == 0
    )
    vectors, _, metadata = read_features(out)
    assert vectors.shape == (2, 24) and metadata["layer"] == layer


# --- models and the installed command -------------------------------------------------


def test_models_json_lists_cache_state(keras_home, capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["EfficientNet-Lite0"]["builtin"] and rows["EfficientNet-Lite0"]["weights_cached"]
    assert rows["ConvNeXtTiny"]["weights_cached"] is False
    assert rows["DenseNet121"]["preprocess"] == "torch"


def test_installed_convlens_command(keras_home):
    command = Path(sys.executable).parent / "convlens"
    done = subprocess.run(
        [str(command), "models"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KERAS_HOME": str(keras_home.parent)},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["model", "input"]
    assert any(line.startswith("EfficientNet-Lite0") and "built in" in line for line in lines)
    assert any(line.startswith("VGG16") and "download 528 MB" in line for line in lines)


def test_installed_command_prints_results_without_tensorflow_start_up_noise(tmp_path):
    """TF's native loader writes INFO/ERROR lines (CUDA probes) to stderr; users should not see them."""
    from skimage import data

    photo = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(photo)
    command = Path(sys.executable).parent / "convlens"
    done = subprocess.run(
        [str(command), "classify", "--top", "1", str(photo)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "espresso" in done.stdout
    noise = [
        line for line in done.stderr.splitlines() if "cuda" in line.lower() or "oneDNN" in line
    ]
    assert noise == []


def test_extract_takes_a_bare_layer_name_when_it_is_unique(
    nested_file, good_photos, tmp_path, capsys
):
    out = tmp_path / "inner.npz"
    argv = ["extract", "-m", str(nested_file), "-l", "block_2_add", "-o", str(out)]
    assert main([*argv, str(good_photos)]) == 0
    vectors, _, metadata = read_features(out)
    assert vectors.shape == (2, 24)
    assert metadata["layer"] == "mobilenetv2_1.00_96/block_2_add"


def test_an_ambiguous_layer_name_lists_the_paths_it_could_mean(
    twin_file, good_photos, tmp_path, capsys
):
    out = tmp_path / "f.npz"
    argv = ["extract", "-m", str(twin_file), "-l", "conv2", "-o", str(out), str(good_photos)]
    assert main(argv) == 2
    assert _error_line(capsys.readouterr().err, "extract") == (
        "convlens extract: error: 'conv2' names several layers; give one of: left/conv2, "
        f"right/conv2. See the layer names with: convlens layers --model {twin_file}"
    )
    assert not out.exists()
    assert main([*argv[:4], "right/conv2", *argv[5:]]) == 0
    assert read_features(out)[2]["layer"] == "right/conv2"


def test_extract_with_no_readable_image_says_why_and_writes_nothing(model_file, tmp_path, capsys):
    broken = write_truncated(tmp_path / "photos" / "broken.png")
    out = tmp_path / "f.npz"
    assert main(["extract", "-m", str(model_file), "-o", str(out), str(broken.parent)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}: error: " in err
    assert err.splitlines()[-1] == (
        "convlens extract: error: None of the images could be read, so nothing was written."
    )
    assert "Traceback" not in err and "Wrote" not in err
    assert list(tmp_path.iterdir()) == [broken.parent]


def test_command_modules_do_not_import_the_command_line_that_imports_them():
    """main imports the commands; a command importing main would be an import circle."""
    import ast

    from core.cli.main import COMMANDS

    for command in COMMANDS:
        tree = ast.parse(Path(command.__file__).read_text(encoding="utf-8"))
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        cli = {name for name in imported if name.startswith("core.cli")}
        assert cli <= {"core.cli.common", "core.cli.progress"}, command.__name__
