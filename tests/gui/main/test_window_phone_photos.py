"""Phone photos in the window: an iPhone's HEIC and an AVIF are listed, shown and classified."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from gui.widgets.image_list import DONE
from tests.gui.conftest import wait_idle
from tests.gui.main.test_window_images import drop, row_text


def test_a_dropped_folder_of_heic_and_avif_photos_is_classified(window, photos, tmp_path):
    album = tmp_path / "iphone"
    album.mkdir()
    cat = np.asarray(Image.open(photos["chelsea"]))
    Image.fromarray(cat).save(album / "IMG_0001.HEIC", quality=90)
    Image.fromarray(np.asarray(Image.open(photos["coffee"]))).save(album / "IMG_0002.avif")

    enter, dropped = drop(window, [album])
    assert enter.isAccepted() and dropped.isAccepted()
    wait_idle(window)

    assert [p.rsplit("/", 1)[-1] for p in window.session.images.paths()] == [
        "IMG_0001.HEIC",
        "IMG_0002.avif",
    ]
    heic = row_text(window, album / "IMG_0001.HEIC")
    assert heic["state"] == DONE and "cat" in heic["display"]
    avif = row_text(window, album / "IMG_0002.avif")
    assert avif["state"] == DONE and "espresso" in avif["display"]
    assert window.image_pane.current_path() == str(album / "IMG_0001.HEIC")
    assert "cat" in window.top5.text()


def test_file_open_offers_heic_and_avif(window, photos, tmp_path, monkeypatch, qtbot):
    path = tmp_path / "IMG_0003.heif"
    Image.open(photos["chelsea"]).save(path)
    asked = {}

    def choose(parent, caption, folder, filters, *args, **kwargs):
        asked["filters"] = filters
        return [str(path)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", choose)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    wait_idle(window)

    images_filter = asked["filters"].split(";;")[0]
    for pattern in ("*.heic", "*.heif", "*.avif", "*.jpg"):
        assert pattern in images_filter
    assert row_text(window, path)["state"] == DONE
    assert "cat" in row_text(window, path)["display"]
