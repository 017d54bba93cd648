"""``convlens train textures/`` on a folder holding train/ and val/: three textures, not two
classes called "train" and "val"."""

from __future__ import annotations

import json

from core.cli.main import main
from tests.training_data import TEXTURES, make_texture_dataset


def test_train_on_a_split_folder_uses_train_and_validates_on_val(capsys, tmp_path):
    data = make_texture_dataset(tmp_path / "textures", 4, 2)
    out = tmp_path / "textures.keras"
    argv = ["train", str(tmp_path / "textures"), "--out", str(out), "--json"]
    status = main([*argv, "--epochs", "1", "--input-size", "64", "--val-split", "0.5"])
    printed, err = capsys.readouterr()
    assert status == 0, err
    assert (
        "Validation: textures/ is split already: training on textures/train/, validating on "
        "textures/val/; --val-split does not apply"
    ) in err
    summary = json.loads(printed)
    assert summary["dataset"]["classes"] == list(TEXTURES)
    assert summary["dataset"]["counts"] == dict.fromkeys(TEXTURES, data.train_per_class)
    assert summary["dataset"]["split_folders"]["val"] == str(data.val_dir)
    assert summary["val_images"] == len(TEXTURES) * data.val_per_class


def test_without_the_layout_the_share_is_said(capsys, tmp_path):
    data = make_texture_dataset(tmp_path / "textures", 4, 2)
    out = tmp_path / "m.keras"
    status = main(
        ["train", str(data.train_dir), "--out", str(out), "--epochs", "1"] + ["--input-size", "64"]
    )
    _, err = capsys.readouterr()
    assert status == 0, err
    assert "Validation: 20% of each class's images (--val-split)" in err
