"""Random weights are unmistakable on the command line: a warning line, and "weights" in JSON."""

from __future__ import annotations

import json

import pytest
import skimage.data
from PIL import Image

from core.cli.main import main

WARNING = (
    "warning: MobileNetV2 has random weights (--weights none): its predictions and features "
    "are meaningless; use --weights imagenet or a weights file for real ones"
)


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    path = tmp_path_factory.mktemp("photos") / "chelsea.jpg"
    Image.fromarray(skimage.data.chelsea()).save(path, quality=92)
    return path


def classify(capsys, *argv):
    status = main(["classify", *map(str, argv)])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out, err


def test_random_weights_warn_and_say_so_in_json(capsys, cat):
    out, err = classify(capsys, "--model", "MobileNetV2", "--weights", "none", "--json", cat)
    assert WARNING in err.splitlines()
    [record] = json.loads(out)
    assert record["weights"] == "random" and len(record["predictions"]) == 5

    out, err = classify(capsys, "--model", "MobileNetV2", "--weights", "none", cat)
    assert WARNING in err.splitlines()
    assert out.startswith(f"{cat}: ")  # the predictions still print, after the warning


def test_real_weights_say_imagenet_and_do_not_warn(capsys, cat):
    out, err = classify(capsys, "--json", cat)  # the built-in EfficientNet-Lite0
    assert "warning" not in err and "random" not in err
    [record] = json.loads(out)
    assert record["weights"] == "imagenet"
    assert record["predictions"][0]["label"] in ("tiger_cat", "tabby", "Egyptian_cat")


def test_layers_of_a_random_model_do_not_warn_and_json_says_random(capsys):
    status = main(["layers", "--model", "MobileNetV2", "--weights", "none", "--json"])
    out, err = capsys.readouterr()
    assert status == 0 and "warning" not in err
    assert json.loads(out)["model"]["weights"] == "random"
