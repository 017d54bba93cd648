"""``convlens map``, ``similar`` and ``duplicates`` on features files and on folders of images."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from core.cli.main import main
from core.explore.export import PALETTE
from core.models.metadata import write_metadata
from tests.core.explore.synthetic import knn_accuracy


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from tests.model_factory import tiny_cnn

    path = tmp_path_factory.mktemp("model") / "pets.keras"
    tiny_cnn(classes=3, size=32).save(path)
    write_metadata(path, {"class_names": ["cat", "dog", "fish"], "preprocess": "tf"})
    return path


def test_map_csv_of_a_features_file_separates_its_folders(features_npz, tmp_path, capsys):
    path, labels = features_npz
    out = tmp_path / "map.csv"
    assert main(["map", str(path), "--method", "pca", "--out", str(out)]) == 0
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 121 and rows[0]["path"] == "/data/cat/000.jpg"
    assert {row["label"] for row in rows} == {"cat", "dog", "fish"}
    points = np.array([[float(row["x"]), float(row["y"])] for row in rows])
    assert knn_accuracy(points, labels) > 0.9
    assert "pca map of 121 images" in capsys.readouterr().err


def test_map_png_has_a_colour_per_folder_and_a_legend(features_npz, tmp_path):
    path, _ = features_npz
    out = tmp_path / "map.png"
    assert main(["map", str(path), "--method", "tsne", "--out", str(out)]) == 0
    image = np.asarray(Image.open(out).convert("RGB"))
    colours = {tuple(c) for c in image.reshape(-1, 3)}
    assert set(PALETTE[:3]) <= colours and PALETTE[3] not in colours  # three groups
    legend = image[:, -260:]  # the legend's swatches are on the right
    assert (legend == PALETTE[0]).all(axis=-1).sum() > 100


def test_map_of_a_folder_with_thumbnails_and_predicted_colours(model_file, album, tmp_path):
    out = tmp_path / "map.png"
    argv = ["map", str(album), "-m", str(model_file), "--out", str(out), "--thumbnails", "4"]
    assert main([*argv, "--color-by", "predicted"]) == 1  # broken.png is reported
    assert Image.open(out).size == (1400, 1000)


def test_map_usage_errors_are_one_line(features_npz, tmp_path, capsys):
    path, _ = features_npz
    assert main(["map", str(path), "--out", str(tmp_path / "map.txt")]) == 2
    assert "the map is written as .csv or .png" in capsys.readouterr().err
    (tmp_path / "taken.csv").write_text("x")
    assert main(["map", str(path), "--out", str(tmp_path / "taken.csv")]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_similar_json_finds_the_near_duplicate(features_npz, capsys):
    path, _ = features_npz
    argv = ["similar", "/data/cat/007.jpg", "--in", str(path), "--top", "3", "--json"]
    assert main(argv) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["query"] == "/data/cat/007.jpg"
    assert result["neighbours"][0]["path"] == "/data/cat/120.jpg"
    assert result["neighbours"][0]["similarity"] > 0.999
    assert len(result["neighbours"]) == 3


def test_similar_in_a_folder_computes_a_new_query(model_file, album, tmp_path, capsys):
    query = tmp_path / "q.png"
    query.write_bytes((album / "red" / "img2.png").read_bytes())
    argv = ["similar", str(query), "--in", str(album), "-m", str(model_file), "-k", "2"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{query}:" and lines[1].endswith("img2.png")
    assert lines[1].split()[0] == "1.000"


def test_duplicates_of_a_folder(model_file, album, capsys):
    argv = ["duplicates", str(album), "-m", str(model_file), "--threshold", "0.9999"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Group 1: 2 images")
    assert str(album / "red" / "img1.png") in out and "copy_of_img1.png" in out


def test_duplicates_json_with_least_typical(features_npz, capsys):
    path, _ = features_npz
    assert main(["duplicates", str(path), "-t", "0.999", "--least-typical", "1", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["images"] == 121
    assert found["groups"][0]["paths"] == ["/data/cat/007.jpg", "/data/cat/120.jpg"]
    assert [a["label"] for a in found["least_typical"]] == ["cat", "dog", "fish"]


def test_duplicates_none_found_and_a_bad_threshold(features_npz, capsys):
    path, _ = features_npz
    assert main(["duplicates", str(path), "-t", "1.0"]) == 0
    assert "No near-duplicates (similarity ≥ 1.0) among 121 images." in capsys.readouterr().out
    assert main(["duplicates", str(path), "-t", "1.5"]) == 2
    assert "--threshold must be above 0" in capsys.readouterr().err
