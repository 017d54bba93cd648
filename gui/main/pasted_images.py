"""Images pasted from the clipboard, kept as PNG files in the cache so they are listed like
photos; old ones are removed at start-up."""

from __future__ import annotations

import contextlib
import itertools
import time
from pathlib import Path

from PySide6.QtGui import QImage

from core.io.paths import app_cache_dir

# No list outlives its window, and a window rarely runs for days.
PASTED_MAX_AGE_S = 3 * 24 * 3600


def pasted_folder() -> Path:
    return app_cache_dir() / "pasted"


def save_pasted_image(image: QImage) -> Path:
    """The image as a new PNG in pasted_folder(); OSError when it cannot be written."""
    folder = pasted_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"pasted-{stamp}.png"
    counter = itertools.count(2)
    while path.exists():
        path = folder / f"pasted-{stamp}-{next(counter)}.png"
    # Fast compression: a screenshot pasted must not stall the window.
    if not image.save(str(path), "PNG", 80):
        raise OSError(f"Could not save the pasted image to {path}.")
    return path


def prune_pasted_images(max_age_s: float = PASTED_MAX_AGE_S) -> list[Path]:
    """Delete the pasted images older than max_age_s; returns the ones deleted."""
    now, removed = time.time(), []
    for path in pasted_folder().glob("pasted-*.png"):
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if now - path.stat().st_mtime > max_age_s:
                path.unlink()
                removed.append(path)
    return removed
