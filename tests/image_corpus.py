"""Small image files for tests, written with Pillow: solid colours and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image

# So that the tests can write HEIC/HEIF files with Image.save (ConvLens itself registers the
# reader on its first open; tests/core/io/test_phone_photos.py checks that without this).
pillow_heif.register_heif_opener()


def write_solid(
    path: Path, color: tuple[int, ...], size: tuple[int, int] = (24, 16), mode: str = "RGB", **save
) -> Path:
    """Write a one-colour image of size (width, height); the suffix picks the format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, **save)
    return path


def write_noise(path: Path, size: tuple[int, int] = (64, 48), seed: int = 0) -> Path:
    """Write a random RGB image, which compresses badly and so fills many bytes."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def write_truncated(path: Path, keep: float = 0.5) -> Path:
    """Write a valid noisy image, then cut the file short, as an interrupted copy would."""
    data = write_noise(path).read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_not_an_image(path: Path) -> Path:
    """Write a text file, whatever the suffix says."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("These are my holiday notes, not a photo.\n")
    return path
