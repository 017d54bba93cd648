"""Getting photos into the window: drops anywhere, File → Open, paste; each image's state."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QGraphicsView

from gui.main.pasted_images import PASTED_MAX_AGE_S, pasted_folder
from gui.main.session import Session
from gui.widgets.image_list import DONE, FAILED
from tests.gui.conftest import wait_idle
from tests.image_corpus import write_truncated


def drop(widget, paths) -> tuple[QDragEnterEvent, QDropEvent]:
    """Send a real drag-enter and drop of file URLs to widget, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    center = widget.rect().center()
    enter = QDragEnterEvent(  # QPoint: the one signature PySide6 6.11 and 6.12 share
        center,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    dropped = QDropEvent(
        QPointF(center),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    if enter.isAccepted():
        QApplication.sendEvent(widget, dropped)
    return enter, dropped


def row_text(window, path) -> dict:
    model = window.session.images
    index = model.index(model.row_of(str(path)))
    return {
        "display": index.data(Qt.ItemDataRole.DisplayRole),
        "tooltip": index.data(Qt.ItemDataRole.ToolTipRole),
        "state": window.session.images.entry(str(path)).state,
    }


def test_dropping_files_and_a_folder_shows_done_and_failed_states(window, photos, photo_folder):
    enter, dropped = drop(window, [photos["chelsea"], photo_folder])
    assert enter.isAccepted() and dropped.isAccepted()
    wait_idle(window)

    listed = [Path(p) for p in window.session.images.paths()]
    # The folder is searched recursively; a text file in it is not an image.
    assert [p.name for p in listed] == ["chelsea.jpg", "broken.jpg", "chelsea.jpg", "coffee.jpg"]
    cat = row_text(window, photos["chelsea"])
    assert cat["state"] == DONE
    assert cat["display"].splitlines() == ["chelsea.jpg", cat["display"].splitlines()[1]]
    assert "cat" in cat["display"].splitlines()[1]  # tiger cat / Egyptian cat / tabby
    assert "tabby" in cat["tooltip"] or "tiger cat" in cat["tooltip"]
    coffee = row_text(window, photo_folder / "kitchen" / "coffee.jpg")
    assert coffee["state"] == DONE and "espresso" in coffee["display"]
    broken = row_text(window, photo_folder / "broken.jpg")
    assert broken["state"] == FAILED
    assert "could not be read" in broken["display"]
    assert "truncated or damaged" in broken["tooltip"]  # the reason, on hover
    # The first dropped image is shown, with its predictions in the top-5 panel.
    assert window.image_pane.current_path() == str(photos["chelsea"])
    assert "cat" in window.top5.text()
    assert window.task_status.text() == "Classified 3 images, 1 could not be read"


def test_a_drop_on_any_part_of_the_window_is_taken(window, photos):
    # pyqtgraph's views accept drops themselves; the window must still get the photos.
    views = window.activation_view.findChildren(QGraphicsView)
    targets = [v.viewport() for v in views if v.viewport().acceptDrops()]
    targets += [v for v in views if v.acceptDrops()]
    assert targets
    enter, dropped = drop(targets[0], [photos["coffee"]])
    assert enter.isAccepted() and dropped.isAccepted()
    drop(window.top5, [photos["chelsea"]])
    assert sorted(Path(p).name for p in window.session.images.paths()) == [
        "chelsea.jpg",
        "coffee.jpg",
    ]
    wait_idle(window)


def test_a_drop_without_files_is_refused(window):
    mime = QMimeData()
    mime.setText("just text")
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_thumbnails_are_made_in_the_background(window, photos, qtbot):
    window.add_images([str(photos["chelsea"])])
    qtbot.waitUntil(lambda: window.session.images.thumbnail(str(photos["chelsea"])) is not None)
    thumbnail = window.session.images.thumbnail(str(photos["chelsea"]))
    assert max(thumbnail.width(), thumbnail.height()) == 96
    wait_idle(window)


def test_paste_adds_the_clipboard_image(window, qtbot, photos):
    image = QImage(str(photos["coffee"]))
    QGuiApplication.clipboard().setImage(image)
    window.actions["paste"].trigger()
    wait_idle(window)
    (path,) = window.session.images.paths()
    assert Path(path).suffix == ".png" and Path(path).is_file()
    entry = window.session.images.entry(path)
    assert entry.state == DONE and entry.labels[0].label == "espresso"
    assert window.image_pane.current_path() == path


def test_old_pasted_images_are_removed_at_start_up(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLENS_CACHE_DIR", str(tmp_path / "cache"))
    folder = pasted_folder()
    folder.mkdir(parents=True)
    now = time.time()
    ages = {"pasted-old.png": PASTED_MAX_AGE_S + 60, "pasted-recent.png": 60}
    ages["screenshot.png"] = 10 * PASTED_MAX_AGE_S  # not a pasted image: not ours to delete
    for name, age in ages.items():
        (folder / name).write_bytes(b"png")
        os.utime(folder / name, (now - age, now - age))
    session = Session()
    try:
        assert sorted(p.name for p in folder.iterdir()) == ["pasted-recent.png", "screenshot.png"]
    finally:
        assert session.shutdown()


def test_remove_and_clear(window, photos):
    window.add_images([str(photos["chelsea"]), str(photos["coffee"])])
    wait_idle(window)
    window.image_pane.select_path(str(photos["coffee"]))
    window.actions["remove_images"].trigger()
    assert window.session.images.paths() == [str(photos["chelsea"])]
    window.actions["clear_images"].trigger()
    assert window.session.images.paths() == []
    assert window.image_pane.current_path() is None


def test_what_the_network_sees_shows_the_model_input(window, photos, qtbot):
    window.add_images([str(photos["chelsea"])])
    qtbot.waitUntil(lambda: window.image_pane.picture.has_image())
    assert window.image_pane.caption.text() == "chelsea.jpg"
    window.actions["network_view"].trigger()
    qtbot.waitUntil(
        lambda: window.image_pane.caption.text() == "chelsea.jpg: network input 224×224"
    )
    assert window.image_pane.network_toggle.isChecked()
    assert window.image_pane.picture._pixmap.size().width() == 224
    wait_idle(window)


def test_copy_predictions_as_text(window, photos):
    window.add_images([str(photos["chelsea"])])
    wait_idle(window)
    window.actions["copy_predictions"].trigger()
    text = QGuiApplication.clipboard().text()
    lines = text.splitlines()
    assert lines[0] == "chelsea.jpg (EfficientNet-Lite0)"
    assert len(lines) == 6 and lines[1].startswith("1. ") and "%" in lines[1]


def test_the_status_counts_what_was_classified(window, photos, tmp_path):
    broken = []
    for i in range(5):
        broken.append(tmp_path / f"broken_{i}.jpg")
        write_truncated(broken[-1])
    drop(window, broken)
    wait_idle(window)
    assert window.task_status.text() == "None of the 5 images could be read"
    drop(window, [photos["coffee"]])
    wait_idle(window)
    assert window.task_status.text() == "Classified 1 image"


def test_rows_keep_one_height_and_a_16_bit_png_gets_a_thumbnail(window, photos, tmp_path, qtbot):
    import skimage.data

    gray16 = tmp_path / "cat_gray16.png"
    Image.fromarray((skimage.data.chelsea().mean(axis=2) * 257).astype(np.uint16)).save(gray16)
    assert Image.open(gray16).mode == "I;16"
    portrait = tmp_path / "portrait.jpg"
    Image.open(photos["coffee"]).crop((0, 0, 150, 400)).save(portrait)
    broken = tmp_path / "broken.jpg"
    write_truncated(broken)
    model = window.session.images
    list_view = window.image_pane.list

    def heights():
        return {list_view.visualRect(model.index(row)).height() for row in range(model.rowCount())}

    drop(window, [photos["chelsea"]])
    first = heights()
    drop(window, [gray16, portrait, broken])
    wait_idle(window)
    qtbot.waitUntil(lambda: all(model.thumbnail(str(p)) is not None for p in (gray16, portrait)))
    QApplication.processEvents()
    assert heights() == first and len(first) == 1
    thumb = model.thumbnail(str(gray16)).toImage()
    center = thumb.pixelColor(thumb.width() // 2, thumb.height() // 2)
    assert center.red() == center.green() == center.blue() and center.alpha() == 255  # gray
