"""A dataset folder already split into train/ and val/ (the Keras layout) trains as such."""

from __future__ import annotations

import pytest

from core.training.datasets import scan_dataset, split_folders
from tests.image_corpus import write_solid


def make(root, layout: dict[str, int]):
    """Write one tiny image per count under root/<path>/ for {"train/cat": 3, ...}."""
    for folder, count in layout.items():
        for i in range(count):
            write_solid(root / folder / f"{i}.png", (10 * i, 80, 120), size=(8, 8))
    return root


@pytest.mark.parametrize("val_name", ["val", "validation", "Val"])
def test_train_and_val_folders_are_found_and_train_is_scanned(tmp_path, val_name):
    root = make(
        tmp_path / "pets",
        {"train/cat": 3, "train/dog": 2, f"{val_name}/cat": 1, f"{val_name}/dog": 1},
    )
    info = scan_dataset(root, verify=False)
    assert info.classes == ["cat", "dog"]  # not "train" and "val"
    assert info.counts == {"cat": 3, "dog": 2}
    assert info.root == root and info.split.train == root / "train"
    assert info.split.val == root / val_name
    assert info.split.test is None
    assert info.split.describe() == (
        f"pets/ is split already: training on pets/train/, validating on pets/{val_name}/"
    )


def test_a_test_folder_is_named_and_left_alone(tmp_path):
    root = make(tmp_path / "pets", {"train/cat": 2, "val/cat": 1, "test/cat": 4})
    split = split_folders(root)
    assert split.test == root / "test"
    assert "(pets/test/ is left for your own testing)" in split.describe()
    assert scan_dataset(root, verify=False).total == 2


def test_classes_called_train_and_val_are_still_classes(tmp_path):
    # Images straight inside train/ and val/: those are two classes, not a split.
    root = make(tmp_path / "trains", {"train": 3, "val": 2})
    assert split_folders(root) is None
    info = scan_dataset(root, verify=False)
    assert info.classes == ["train", "val"] and info.split is None


def test_train_without_val_is_a_plain_dataset(tmp_path):
    root = make(tmp_path / "data", {"train/cat": 2, "extra/cat": 2})
    assert split_folders(root) is None
    assert scan_dataset(root, verify=False).classes == ["extra", "train"]
