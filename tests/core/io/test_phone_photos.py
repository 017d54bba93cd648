"""Phone photos: HEIC/HEIF (iPhones) and AVIF open wherever other photos do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import ImageLoadError
from core.io.images import find_images, load_fitted, load_image, load_thumbnail

ROOT = Path(__file__).resolve().parents[3]


def halves(width: int = 64, height: int = 48) -> np.ndarray:
    """Red left half, blue right half: which side is which survives lossy coding."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = (230, 20, 20)
    pixels[:, width // 2 :] = (20, 20, 230)
    return pixels


@pytest.mark.parametrize("name", ["IMG_0001.HEIC", "photo.heif", "photo.avif"])
def test_a_phone_photo_reads_with_its_colours_in_place(tmp_path, name):
    path = tmp_path / name
    Image.fromarray(halves()).save(path, quality=95)

    image = load_image(path)
    assert image.shape == (48, 64, 3)
    left, right = image[:, :24].reshape(-1, 3).mean(0), image[:, 40:].reshape(-1, 3).mean(0)
    assert left[0] > 180 and left[2] < 70, left
    assert right[2] > 180 and right[0] < 70, right
    # The other readers the window and the model use take it too.
    assert load_fitted(path, (32, 32), "squash").shape == (32, 32, 3)
    assert max(load_thumbnail(path, 16).shape[:2]) == 16


def test_folders_list_heic_and_avif_photos(tmp_path):
    for name in ["a.jpg", "b.heic", "c.HEIF", "d.avif", "e.hif", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in find_images([tmp_path])] == [
        "a.jpg",
        "b.heic",
        "c.HEIF",
        "d.avif",
        "e.hif",
    ]


@pytest.mark.parametrize("name,kind", [("cut.heic", "a HEIF"), ("cut.avif", "an AVIF")])
def test_a_truncated_phone_photo_is_called_damaged(tmp_path, name, kind):
    rng = np.random.default_rng(0)
    path = tmp_path / name
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert f"looks like {kind} image but is truncated or damaged" in str(info.value)


def test_convlens_registers_the_heif_reader_itself(tmp_path):
    # tests/image_corpus registers pillow-heif for writing; a fresh interpreter shows that
    # ConvLens does not depend on that.
    path = tmp_path / "IMG_0002.heic"
    Image.fromarray(halves()).save(path)
    script = (
        "import sys; from core.io.images import load_image; "
        "assert 'pillow_heif' not in sys.modules; "
        f"print(load_image({str(path)!r}).shape)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(48, 64, 3)"
