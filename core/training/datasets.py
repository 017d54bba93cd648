"""Labelled image folders for training: scanning, checking and splitting them.

A dataset is a folder with one subfolder per class, the layout of Keras'
``image_dataset_from_directory``: ``root/cat/*.jpg``, ``root/dog/*.jpg``. Images may sit
in nested folders below a class folder. Hidden files and folders are ignored. A folder
already split, ``root/train/<class>/…`` with ``root/val/`` or ``root/validation/`` (and
perhaps ``root/test/``), is recognised: training uses train/ and validates on val/.
Light module: stdlib, numpy and Pillow only, so the GUI can scan a dropped folder on its
main thread (``verify=False``) and check the images on the worker.
"""

from __future__ import annotations

import os
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import DatasetError, ImageLoadError
from core.io.images import find_images, load_image
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

TINY_CLASS = 5  # fewer images than this in a class earns a warning
DEFAULT_VAL_SPLIT = 0.2


_VAL_NAMES = ("val", "validation")


@dataclass(frozen=True)
class SplitFolders:
    """A dataset folder that is already split: train/ and val/ (or validation/), maybe test/."""

    root: Path
    train: Path
    val: Path
    test: Path | None = None

    def describe(self) -> str:
        """One line for the command line and the training window."""
        name = self.root.name
        text = (
            f"{name}/ is split already: training on {name}/{self.train.name}/, "
            f"validating on {name}/{self.val.name}/"
        )
        if self.test is not None:
            text += f" ({name}/{self.test.name}/ is left for your own testing)"
        return text

    def to_dict(self) -> dict:
        return {
            "train": str(self.train),
            "val": str(self.val),
            "test": str(self.test) if self.test else None,
        }


def split_folders(root: str | Path) -> SplitFolders | None:
    """The train/val(/test) folders of root when it is laid out that way, else None.

    Only folders that hold class subfolders count, so a dataset whose classes happen to be
    called "train" and "val" (images straight inside) is still read as classes.
    """
    root = Path(root)
    try:
        folders = {folder.name.lower(): folder for folder in _class_folders(root)}
    except OSError:
        return None
    train = folders.get("train")
    val = next((folders[name] for name in _VAL_NAMES if name in folders), None)
    if train is None or val is None or not (_class_folders(train) and _class_folders(val)):
        return None
    test = folders.get("test")
    return SplitFolders(root, train, val, test if test and _class_folders(test) else None)


@dataclass
class DatasetInfo:
    """What a dataset folder holds: class names in label order and their readable images."""

    root: Path
    classes: list[str]
    files: dict[str, list[Path]]  # class name -> image paths, unreadable ones removed
    unreadable: list[tuple[Path, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[str] = field(default_factory=list)
    verified: bool = False  # whether every image was decoded once
    split: SplitFolders | None = None  # root holds train/ + val/: the classes are train/'s

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(self.files[name]) for name in self.classes}

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def samples(self) -> tuple[list[Path], np.ndarray]:
        """All images and their integer labels (indices into classes), class by class."""
        paths = [path for name in self.classes for path in self.files[name]]
        labels = [index for index, name in enumerate(self.classes) for _ in self.files[name]]
        return paths, np.asarray(labels, dtype=np.int64)

    def to_dict(self) -> dict:
        return {
            "root": str(self.root),
            "classes": list(self.classes),
            "counts": self.counts,
            "unreadable": [{"path": str(p), "error": reason} for p, reason in self.unreadable],
            "warnings": list(self.warnings),
            "split_folders": self.split.to_dict() if self.split else None,
        }


@dataclass
class Split:
    """Training and validation samples over one list of class names."""

    class_names: list[str]
    train_paths: list[Path]
    train_labels: np.ndarray
    val_paths: list[Path]
    val_labels: np.ndarray
    warnings: list[str] = field(default_factory=list)


def _class_folders(root: Path) -> list[Path]:
    with os.scandir(root) as entries:
        folders = [Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")]
    return sorted(folders, key=lambda p: p.name.casefold())


def scan_dataset(
    root: str | Path,
    verify: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    workers: int = 2,
) -> DatasetInfo:
    """List the classes and images of a dataset folder; with verify, decode each image once.

    Raises DatasetError when root is not a folder or has no class subfolders. Problems a
    user can live with (empty or tiny classes, unreadable images, stray files) are warnings.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder. Choose a folder with one subfolder per class.")
    split = split_folders(root)
    classes_root = split.train if split else root  # root stays what the user chose
    folders = _class_folders(classes_root)
    if not folders:
        raise DatasetError(
            f"{root} has no subfolders. Put the images of each class in their own subfolder "
            "(for example cats/ and dogs/) and choose the folder that holds them."
        )
    files = {folder.name: find_images([folder]) for folder in folders}
    info = DatasetInfo(root, [folder.name for folder in folders], files, split=split)
    stray = find_images([classes_root], recursive=False)
    if stray:
        info.warnings.append(
            f"{len(stray)} image(s) directly in {classes_root.name}/ belong to no class and "
            "are ignored."
        )
    if verify:
        _verify(info, progress, cancel, workers)
    info.warnings += class_warnings(info.counts)
    return info


def _verify(info: DatasetInfo, progress, cancel: CancelToken, workers: int) -> None:
    """Decode every image; drop those that fail into info.unreadable."""
    paths, _labels = info.samples()
    bad: dict[Path, str] = {}
    message = "Checking images…"
    progress(0, len(paths), message)
    with futures.ThreadPoolExecutor(workers, thread_name_prefix="convlens-scan") as pool:
        jobs = [pool.submit(_check, path, cancel) for path in paths]
        try:
            for done, (path, job) in enumerate(zip(paths, jobs, strict=True), start=1):
                cancel.raise_if_cancelled()
                reason = job.result()
                if reason is not None:
                    bad[path] = reason
                progress(done, len(paths), message)
        finally:
            for job in jobs:
                job.cancel()
    cancel.raise_if_cancelled()
    for name in info.classes:
        info.files[name] = [p for p in info.files[name] if p not in bad]
    info.unreadable = [(path, bad[path]) for path in paths if path in bad]
    if info.unreadable:
        info.warnings.append(f"{len(info.unreadable)} unreadable image(s) will be skipped.")
    info.verified = True


def _check(path: Path, cancel: CancelToken) -> str | None:
    if cancel.cancelled:
        return None
    try:
        load_image(path)
    except ImageLoadError as exc:
        return exc.reason
    return None


def class_warnings(counts: dict[str, int]) -> list[str]:
    """Warnings about classes a classifier cannot learn well from."""
    found = []
    for name, count in counts.items():
        if count == 0:
            found.append(f"Class '{name}' has no images; it will be left out.")
        elif count < TINY_CLASS:
            found.append(
                f"Class '{name}' has only {count} image(s); a few dozen per class work much better."
            )
    return found


def usable_classes(info: DatasetInfo) -> list[str]:
    """Classes with at least one image; DatasetError when fewer than two remain."""
    names = [name for name in info.classes if info.files[name]]
    if len(names) < 2:
        raise DatasetError(
            f"{info.root} has {len(names)} class(es) with images; a classifier needs at "
            "least two. Add a subfolder of images for each class."
        )
    return names


def split_dataset(info: DatasetInfo, val_split: float = DEFAULT_VAL_SPLIT, seed: int = 0) -> Split:
    """A stratified, seeded split: about val_split of each class goes to validation.

    Every class with two or more images keeps at least one image on each side; a class
    with a single image trains only (with a warning).
    """
    if not 0 < val_split < 1:
        raise DatasetError(f"The validation split must be between 0 and 1, not {val_split}.")
    names = usable_classes(info)
    rng = np.random.default_rng(seed)
    split = Split(names, [], np.zeros(0, np.int64), [], np.zeros(0, np.int64))
    train_labels, val_labels = [], []
    for label, name in enumerate(names):
        paths = list(info.files[name])
        order = rng.permutation(len(paths))
        n_val = min(max(round(len(paths) * val_split), 1), len(paths) - 1)
        if len(paths) == 1:
            split.warnings.append(f"Class '{name}' has one image: nothing left to validate it.")
        for rank, index in enumerate(order):
            if rank < n_val:
                split.val_paths.append(paths[index])
                val_labels.append(label)
            else:
                split.train_paths.append(paths[index])
                train_labels.append(label)
    split.train_labels = np.asarray(train_labels, np.int64)
    split.val_labels = np.asarray(val_labels, np.int64)
    return split


def split_with_folder(train: DatasetInfo, val: DatasetInfo) -> Split:
    """Use a separate validation folder; its classes must be the training classes."""
    names = usable_classes(train)
    val_names = [name for name in val.classes if val.files[name]]
    missing = [name for name in names if name not in val_names]
    extra = [name for name in val_names if name not in names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no validation images for {', '.join(missing)}")
        if extra:
            parts.append(f"validation classes not in training: {', '.join(extra)}")
        raise DatasetError(
            f"The validation folder {val.root} does not match the training classes "
            f"({'; '.join(parts)}). Use the same subfolder names in both."
        )
    train_paths, train_labels = _labelled(train, names)
    val_paths, val_labels = _labelled(val, names)
    return Split(names, train_paths, train_labels, val_paths, val_labels)


def _labelled(info: DatasetInfo, names: list[str]) -> tuple[list[Path], np.ndarray]:
    paths = [path for name in names for path in info.files[name]]
    labels = [label for label, name in enumerate(names) for _ in info.files[name]]
    return paths, np.asarray(labels, np.int64)
