"""Finding image files: folders expanded in natural order, by suffix. Light module."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
    | {".heic", ".heif", ".hif", ".avif"}  # phone photos: pillow-heif, and Pillow's own AVIF
)


def find_images(paths: Iterable[str | Path], recursive: bool = True) -> list[Path]:
    """Expand folders into their image files; keep explicit files whatever their suffix.

    Within a folder, files come first and then subfolders, each in natural order (img2
    before img10). Hidden names inside folders are skipped; duplicates are dropped.
    """
    return list(iter_images(paths, recursive))


def iter_images(paths: Iterable[str | Path], recursive: bool = True) -> Iterator[Path]:
    """find_images as a generator: the first files come before the whole tree is listed, and
    a folder of a million photos is never held as a list (one folder's names at a time)."""
    seen: set[str] = set()
    for item in paths:
        path = Path(item)
        # An explicit file is kept even if unreadable or unknown, so the user gets an error
        # for it rather than silence.
        candidates = _walk(path, recursive, set()) if os.path.isdir(path) else [path]
        for candidate in candidates:
            key = os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                yield candidate


def count_images(paths: Iterable[str | Path], recursive: bool = True) -> int:
    """How many images iter_images yields, without keeping them."""
    return sum(1 for _ in iter_images(paths, recursive))


def _walk(folder: Path, recursive: bool, visited: set[str]) -> Iterator[Path]:
    real = os.path.realpath(folder)
    if real in visited:  # a symlink loop
        return
    visited.add(real)
    # Only the names are kept while the folder is read (not os.DirEntry objects), so a
    # folder of 100,000 photos costs a few megabytes to list.
    files, subfolders = [], []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                name = entry.name
                if name.startswith("."):
                    continue
                try:
                    if entry.is_dir():
                        subfolders.append(name)
                    elif os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES and entry.is_file():
                        files.append(name)
                except OSError:
                    continue
    except OSError:
        return  # an unreadable subfolder should not abort a whole drop
    files.sort(key=_natural_key)
    for name in files:
        yield folder / name
    if recursive:
        subfolders.sort(key=_natural_key)
        for name in subfolders:
            yield from _walk(folder / name, recursive, visited)


def _natural_key(name: str) -> tuple[list[str | int], str]:
    parts = re.split(r"(\d+)", name)
    return [int(p) if i % 2 else p.casefold() for i, p in enumerate(parts)], name
