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
    found: list[Path] = []
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
                found.append(candidate)
    return found


def _walk(folder: Path, recursive: bool, visited: set[str]) -> Iterator[Path]:
    real = os.path.realpath(folder)
    if real in visited:  # a symlink loop
        return
    visited.add(real)
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda entry: _natural_key(entry.name))
    except OSError:
        return  # an unreadable subfolder should not abort a whole drop
    subfolders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir():
                subfolders.append(Path(entry.path))
            elif Path(entry.name).suffix.lower() in IMAGE_SUFFIXES and entry.is_file():
                yield Path(entry.path)
        except OSError:
            continue
    if recursive:
        for sub in subfolders:
            yield from _walk(sub, recursive, visited)


def _natural_key(name: str) -> tuple[list[str | int], str]:
    parts = re.split(r"(\d+)", name)
    return [int(p) if i % 2 else p.casefold() for i, p in enumerate(parts)], name
