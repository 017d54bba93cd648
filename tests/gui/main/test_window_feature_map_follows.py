"""The Feature map follows the window: images classified after the map was opened (a folder
dropped later, a classification still running) join it — redrawn when the classification
ends with PCA, offered in one click with the slower layouts — without computing again the
features of the images already mapped."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import wait_idle
from tests.gui.main.test_window_feature_map_layers import count_forward_passes
from tests.gui.main.test_window_images import drop

CTRL = Qt.KeyboardModifier.ControlModifier


def new_photos(photos, folder, count: int) -> list[str]:
    """Photos with content of their own (the feature cache matches files by content)."""
    folder.mkdir()
    cat = np.asarray(Image.open(photos["chelsea"]))
    made = []
    for i in range(count):
        path = folder / f"cat_{i}.jpg"
        Image.fromarray(np.ascontiguousarray(cat[20 * i :, ::-1])).save(path, quality=90)
        made.append(str(path))
    return made


def test_the_map_follows_a_classification_and_a_folder_dropped_later(
    qtbot, window, photos, tmp_path
):
    first = [str(photos["chelsea"]), str(photos["coffee"])]
    window.add_images(first)
    # The map opened while the images are being classified shows them once they are.
    qtbot.keyClick(window, Qt.Key.Key_M, CTRL)
    exploring, panel = window.exploring, window.exploring.panel
    assert panel.status.text() == "The images are being classified; the map follows."
    wait_idle(window)
    qtbot.waitUntil(lambda: exploring.result is not None)
    assert sorted(exploring.result.paths) == sorted(first)
    assert "not classified" not in " ".join(exploring.result.labels)
    assert not panel.update_button.isVisible()

    # A folder dropped on the window: its images are classified, and the map redraws with them.
    passes = count_forward_passes(window.session.worker._engine)
    later = new_photos(photos, tmp_path / "later", 2)
    drop(window, [tmp_path / "later"])
    wait_idle(window)
    qtbot.waitUntil(lambda: len(exploring.result.paths) == 4)
    assert sorted(exploring.result.paths) == sorted(first + later)
    assert "4 images at avg_pool by PCA" in panel.status.text()
    assert not panel.update_button.isVisible()
    # Classification kept the new images' features: the map computed none again.
    assert [layers for layers, _size in passes if layers == ("avg_pool",)] == []


def test_a_slow_layout_offers_the_update_in_one_click(qtbot, window, photos, tmp_path):
    first = [str(photos["chelsea"]), str(photos["coffee"])]
    window.add_images(first)
    wait_idle(window)
    qtbot.keyClick(window, Qt.Key.Key_M, CTRL)
    exploring, panel = window.exploring, window.exploring.panel
    panel.method.setFocus()
    qtbot.keyClick(panel.method, Qt.Key.Key_End)  # t-SNE
    wait_idle(window)
    qtbot.waitUntil(
        lambda: exploring.result is not None and exploring.result.request.method == "tsne"
    )

    [later] = new_photos(photos, tmp_path / "later", 1)
    drop(window, [later])
    wait_idle(window)
    # t-SNE is not redrawn unasked: the map keeps its two images and offers the update.
    assert panel.update_button.isVisible()
    assert panel.update_button.text() == "1 newly classified — Update map"
    assert sorted(exploring.result.paths) == sorted(first)

    qtbot.mouseClick(panel.update_button, Qt.MouseButton.LeftButton)
    wait_idle(window)
    qtbot.waitUntil(lambda: len(exploring.result.paths) == 3)
    assert exploring.result.request.method == "tsne"
    assert not panel.update_button.isVisible()


def test_another_model_maps_the_images_again_once_it_has_classified_them(
    qtbot, window, photos, small_classifier
):
    from core.ops.load import LoadModelRequest
    from tests.gui.conftest import wait_for_model

    paths = [str(photos["chelsea"]), str(photos["coffee"])]
    window.add_images(paths)
    wait_idle(window)
    qtbot.keyClick(window, Qt.Key.Key_M, CTRL)
    exploring, panel = window.exploring, window.exploring.panel
    wait_idle(window)
    qtbot.waitUntil(lambda: exploring.result is not None)

    window.load_model(LoadModelRequest(str(small_classifier)))
    wait_for_model(qtbot, window, "fruit.keras")
    wait_idle(window)

    # The new model's layers are offered, its default feature layer chosen ...
    assert panel.layer.currentText() == "pool  4 (default)"
    offered = [panel.layer.itemData(i) for i in range(panel.layer.count())]
    assert len(offered) == 4 and offered[1:] == ["conv", "pool", "head"]  # after a Rescaling
    # ... and the map shows the images by its labels, once it has classified them.
    qtbot.waitUntil(lambda: exploring.result.layer == "pool")
    assert sorted(exploring.result.paths) == sorted(paths)
    assert set(exploring.result.labels) <= {"apple", "banana", "cherry"}
    assert "2 images at pool by PCA" in panel.status.text()
    assert not window.task_status.is_busy("map")
