"""Dataset folders: scanning, warnings, unreadable images, stratified and folder splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled, DatasetError
from core.progress import CancelToken
from core.training.datasets import scan_dataset, split_dataset, split_with_folder
from tests.image_corpus import write_not_an_image, write_solid, write_truncated


def _make(root: Path, counts: dict[str, int], suffix: str = ".png") -> Path:
    for name, count in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            write_solid(root / name / f"{name}{i}{suffix}", (i * 20 % 256, 80, 160))
    return root


def test_scan_lists_classes_in_order_with_their_images(tmp_path):
    root = _make(tmp_path, {"dogs": 6, "Cats": 5, "birds": 7})
    info = scan_dataset(root)
    assert info.classes == ["birds", "Cats", "dogs"]
    assert info.counts == {"birds": 7, "Cats": 5, "dogs": 6}
    assert info.total == 18
    assert info.warnings == [] and info.unreadable == [] and info.verified
    paths, labels = info.samples()
    assert [p.parent.name for p in paths] == ["birds"] * 7 + ["Cats"] * 5 + ["dogs"] * 6
    assert labels.tolist() == [0] * 7 + [1] * 5 + [2] * 6


def test_hidden_folders_and_files_are_ignored_and_nested_images_count(tmp_path):
    root = _make(tmp_path, {"a": 5, "b": 5})
    _make(root / ".thumbnails", {"x": 3})
    write_solid(root / "a" / ".hidden.png", (0, 0, 0))
    write_solid(root / "b" / "more" / "deep.jpg", (9, 9, 9))
    info = scan_dataset(root)
    assert info.classes == ["a", "b"]
    assert info.counts == {"a": 5, "b": 6}


def test_empty_tiny_classes_and_stray_images_are_warned_about(tmp_path):
    root = _make(tmp_path, {"many": 8, "few": 2, "none": 0})
    write_solid(root / "stray.png", (1, 2, 3))
    info = scan_dataset(root)
    text = "\n".join(info.warnings)
    assert "'none' has no images" in text
    assert "'few' has only 2 image(s)" in text
    assert "'many'" not in text
    assert "1 image(s) directly in" in text


def test_unreadable_images_are_listed_and_skipped(tmp_path):
    root = _make(tmp_path, {"a": 5, "b": 5})
    write_truncated(root / "a" / "cut.png")
    write_not_an_image(root / "b" / "notes.jpg")
    info = scan_dataset(root)
    assert sorted(p.name for p, _ in info.unreadable) == ["cut.png", "notes.jpg"]
    reasons = dict((p.name, r) for p, r in info.unreadable)
    assert "truncated or damaged" in reasons["cut.png"]
    assert "not an image" in reasons["notes.jpg"]
    assert info.counts == {"a": 5, "b": 5}
    assert any("2 unreadable image(s)" in w for w in info.warnings)


def test_without_verify_the_scan_only_lists(tmp_path):
    root = _make(tmp_path, {"a": 5, "b": 5})
    write_truncated(root / "a" / "cut.png")
    info = scan_dataset(root, verify=False)
    assert info.counts == {"a": 6, "b": 5} and not info.verified and info.unreadable == []


def test_verifying_reports_progress_and_can_be_cancelled(tmp_path):
    root = _make(tmp_path, {"a": 6, "b": 6})
    reports = []
    scan_dataset(root, progress=lambda done, total, msg: reports.append((done, total)))
    assert reports[-1] == (12, 12)
    token = CancelToken()

    def cancel_midway(done, total, message):
        if done == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        scan_dataset(root, progress=cancel_midway, cancel=token)


def test_a_folder_without_class_subfolders_is_refused(tmp_path):
    write_solid(tmp_path / "one.png", (0, 0, 0))
    with pytest.raises(DatasetError, match="no subfolders"):
        scan_dataset(tmp_path)
    with pytest.raises(DatasetError, match="is not a folder"):
        scan_dataset(tmp_path / "one.png")


def test_split_is_stratified_seeded_and_disjoint(tmp_path):
    info = scan_dataset(_make(tmp_path, {"a": 20, "b": 10, "c": 5}))
    split = split_dataset(info, val_split=0.2, seed=1)
    assert split.class_names == ["a", "b", "c"]
    assert np.bincount(split.val_labels).tolist() == [4, 2, 1]
    assert np.bincount(split.train_labels).tolist() == [16, 8, 4]
    assert set(split.train_paths).isdisjoint(split.val_paths)
    assert len(split.train_paths) + len(split.val_paths) == 35
    for path, label in zip(split.val_paths, split.val_labels, strict=True):
        assert path.parent.name == split.class_names[label]
    again = split_dataset(info, val_split=0.2, seed=1)
    other = split_dataset(info, val_split=0.2, seed=2)
    assert again.val_paths == split.val_paths
    assert other.val_paths != split.val_paths


def test_small_classes_keep_an_image_on_each_side_when_they_can(tmp_path):
    info = scan_dataset(_make(tmp_path, {"a": 10, "pair": 2, "single": 1}))
    split = split_dataset(info, val_split=0.2)
    assert np.bincount(split.val_labels, minlength=3).tolist() == [2, 1, 0]
    assert np.bincount(split.train_labels, minlength=3).tolist() == [8, 1, 1]
    assert any("'single' has one image" in w for w in split.warnings)


def test_a_classifier_needs_two_classes_with_images(tmp_path):
    info = scan_dataset(_make(tmp_path, {"a": 10, "empty": 0}))
    with pytest.raises(DatasetError, match="at least two"):
        split_dataset(info)
    with pytest.raises(DatasetError, match="between 0 and 1"):
        split_dataset(scan_dataset(_make(tmp_path / "x", {"a": 3, "b": 3})), val_split=1.0)


def test_a_validation_folder_must_have_the_training_classes(tmp_path):
    train = scan_dataset(_make(tmp_path / "train", {"cat": 6, "dog": 6}))
    val = scan_dataset(_make(tmp_path / "val", {"cat": 2, "dog": 3}))
    split = split_with_folder(train, val)
    assert split.class_names == ["cat", "dog"]
    assert np.bincount(split.val_labels).tolist() == [2, 3]
    assert len(split.train_paths) == 12
    wrong = scan_dataset(_make(tmp_path / "wrong", {"cat": 2, "fox": 2}))
    with pytest.raises(DatasetError) as caught:
        split_with_folder(train, wrong)
    message = str(caught.value)
    assert "no validation images for dog" in message
    assert "not in training: fox" in message
