"""The training results list shows a thumbnail for every mistake, HEIC and AVIF photos too
(Qt has no reader for them; ConvLens' own reader steps in)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import tests.image_corpus  # noqa: F401  (lets Pillow write HEIC)
from gui.training.results import THUMBNAIL, _thumbnail


@pytest.mark.parametrize("name", ["wrong.jpg", "IMG_0001.HEIC", "IMG_0002.avif"])
def test_a_thumbnail_for_every_photo_format(qtbot, tmp_path, name):
    pixels = np.zeros((60, 90, 3), np.uint8)
    pixels[:, :45] = (220, 30, 30)
    path = tmp_path / name
    Image.fromarray(pixels).save(path, quality=95)
    icon = _thumbnail(path)
    assert not icon.isNull()
    image = icon.pixmap(THUMBNAIL).toImage()
    assert image.width() == THUMBNAIL.width() and image.height() == 32  # 90×60 kept 3:2
    assert image.pixelColor(5, 16).red() > 180  # the red half is on the left
