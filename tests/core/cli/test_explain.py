"""``convlens explain``: the files it writes, its output, exit status and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli.main import main
from core.models.metadata import write_metadata
from tests.image_corpus import write_noise, write_truncated
from tests.model_factory import tiny_cnn

NAMES = ["cat", "dog", "fish"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "pets.keras"
    tiny_cnn(classes=3, size=32).save(path)
    write_metadata(path, {"class_names": NAMES, "preprocess": "tf"})
    return str(path)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    write_noise(root / "a.png", size=(60, 40), seed=1)
    write_noise(root / "sub" / "b.jpg", size=(48, 48), seed=2)
    return root


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and "Loading" not in line]
    assert len(lines) == 1, err
    assert lines[0].startswith("convlens explain: error: ") and "Traceback" not in err
    return lines[0]


def test_writes_an_overlay_and_a_raw_map_per_image_and_class(model_file, photos, tmp_path, capsys):
    out = tmp_path / "maps"
    status = main(["explain", "-m", model_file, "--top", "2", "--out", str(out), str(photos)])
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(" at conv2 -> " in line for line in lines)
    pngs, npys = sorted(out.glob("*.png")), sorted(out.glob("*.npy"))
    assert len(pngs) == len(npys) == 4
    assert {p.stem.split("_")[0] for p in pngs} == {"a", "b"}
    assert all(p.stem.endswith("_gradcam") and p.stem.split("_")[1] in NAMES for p in pngs)
    a_png = next(p for p in pngs if p.name.startswith("a_"))
    assert Image.open(a_png).size == (60, 40)  # the photo's size: the map sits on the photo
    raw = np.load(a_png.with_suffix(".npy"))
    assert raw.shape == (13, 13) and raw.dtype == np.float32  # conv2's resolution


def test_one_class_by_name_as_json(model_file, photos, tmp_path, capsys):
    out = tmp_path / "maps"
    args = ["explain", "-m", model_file, "--class", "Dog", "--method", "occlusion"]
    status = main([*args, "--json", "--out", str(out), str(photos / "a.png")])
    assert status == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["class"] == "dog" and record["index"] == 1 and record["method"] == "occlusion"
    assert record["layer"] is None and record["score"] == "probability"
    assert Path(record["overlay"]) == out / "a_dog_occlusion.png" and Path(record["map"]).is_file()
    assert record["map_shape"] == [32, 32] and 0 <= record["probability"] <= 1


def test_an_unreadable_image_fails_alone(model_file, photos, tmp_path, capsys):
    broken = write_truncated(tmp_path / "broken.png")
    out = tmp_path / "maps"
    status = main(
        ["explain", "-m", model_file, "--out", str(out), str(photos / "a.png"), str(broken)]
    )
    assert status == 1
    err = capsys.readouterr().err
    assert f"{broken}: error: " in err and "Traceback" not in err
    assert len(list(out.glob("a_*.png"))) == 1


def test_existing_files_are_kept_unless_overwrite(model_file, photos, tmp_path, capsys):
    out = tmp_path / "maps"
    args = ["explain", "-m", model_file, "--out", str(out), str(photos / "a.png")]
    assert main(args) == 0
    (png,) = out.glob("*.png")
    png.write_bytes(b"mine")
    assert main(args) == 1
    assert "pass --overwrite" in capsys.readouterr().err and png.read_bytes() == b"mine"
    assert main([*args, "--overwrite"]) == 0
    assert Image.open(png).size == (60, 40)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--class", "dgo"], "has no class 'dgo'; did you mean dog?"),
        (["--class", "9"], "has 3 classes"),
        (["--layer", "head"], "not maps"),
        (["--layer", "nope"], "no layer 'nope'"),
        (["--opacity", "2"], "--opacity must be between 0 and 1"),
        (["--steps", "0"], "--steps must be at least 1"),
    ],
)
def test_usage_errors_are_one_line(model_file, photos, tmp_path, capsys, extra, message):
    status = main(["explain", "-m", model_file, "--out", str(tmp_path / "o"), *extra, str(photos)])
    assert status == 2
    assert message in _error_line(capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def test_class_and_top_exclude_each_other(model_file, photos, tmp_path, capsys):
    status = main(["explain", "-m", model_file, "--class", "dog", "--top", "2", "--out", "o", "x"])
    assert status == 2 and "not allowed with argument" in capsys.readouterr().err
