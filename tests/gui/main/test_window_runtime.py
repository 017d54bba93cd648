"""The window's runtime: ONNX Runtime from the cache without TensorFlow for the first answer,
TensorFlow while a conversion runs, the preference in the Model menu, the status bar."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMenu

from core.ops.load import LoadModelRequest
from gui.app.settings import Settings
from gui.widgets.image_list import DONE
from tests.gui.conftest import open_window, wait_for_model, wait_idle


@pytest.fixture(scope="module")
def builtin_converted():
    """The built-in model converted, verified and indexed in the ONNX cache, as after the
    first classification with it (the cache is the test session's)."""
    from core.engine.engine import Engine, make_backend
    from core.engine.onnx_cache import source_key
    from core.models.loading import load_model
    from core.models.zoo import BUILTIN_NAME

    loaded = load_model(BUILTIN_NAME)
    backend = make_backend(loaded, "auto", source_key=source_key(BUILTIN_NAME))
    Engine(loaded, backend).classify_arrays([np.zeros((224, 224, 3), np.uint8)])
    assert backend.name == "onnx", backend.notice


def _engine(window):
    return window.session.worker._engine


def _click_menu_path(qtbot, window, *texts: str) -> None:
    """Open menus with mouse clicks, as a user does: the menu bar entry, then each item."""
    bar = window.menuBar()
    (top,) = [a for a in bar.actions() if a.text().replace("&", "") == texts[0]]
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(top).center())
    menu = top.menu()
    qtbot.waitUntil(menu.isVisible)
    for text in texts[1:]:
        (action,) = [a for a in menu.actions() if a.text().replace("&", "") == text]
        point: QPoint = menu.actionGeometry(action).center()
        qtbot.mouseMove(menu, point)
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=point)
        if action.menu() is not None:
            menu = action.menu()
            qtbot.waitUntil(menu.isVisible)
    for popup in QApplication.topLevelWidgets():
        if isinstance(popup, QMenu) and popup.isVisible():
            popup.close()


def test_a_cached_conversion_answers_first_then_tensorflow_comes_in_the_background(
    builtin_converted, qtbot, photos
):
    window = open_window(qtbot)
    engine = _engine(window)
    seen = []
    window.session.image_classified.connect(
        lambda result: seen.append((result.backend, engine.backend.keras_loaded))
    )

    window.add_images([str(photos["chelsea"])])
    qtbot.waitUntil(lambda: len(window.top5.labels()) == 5, timeout=60_000)

    assert seen[0] == ("onnx", False)  # answered without the Keras model
    assert window.runtime.label.text() == "Runtime: ONNX Runtime"
    assert window.top5.labels()[0].label in ("tiger_cat", "Egyptian_cat", "tabby")
    qtbot.waitUntil(lambda: engine.backend.keras_loaded, timeout=120_000)
    # A layer's activations need TensorFlow: they come from the Keras model now loaded.
    window.layer_tree.select_layer("top_conv")
    qtbot.waitUntil(window.activation_view.has_grid, timeout=60_000)


def test_tensorflow_waits_until_the_photos_dropped_after_the_first_are_classified(
    builtin_converted, qtbot, photos, tmp_path
):
    """Importing TensorFlow while photos are classified froze the window for up to 0.5 s."""
    folder = tmp_path / "more"
    folder.mkdir()
    for i in range(6):
        shutil.copy(photos["chelsea"], folder / f"cat{i}.jpg")
    window = open_window(qtbot)
    engine = _engine(window)
    loading_seen = []

    def on_classified(result) -> None:
        loading_seen.append(engine.backend.keras_requested)
        if len(loading_seen) == 1:  # the user drops a folder as the first answer shows
            window.add_images([str(folder)])

    window.session.image_classified.connect(on_classified)
    window.add_images([str(photos["chelsea"])])
    qtbot.waitUntil(lambda: len(loading_seen) == 7, timeout=60_000)

    assert loading_seen == [False] * 7  # not while there were photos to classify
    qtbot.waitUntil(lambda: engine.backend.keras_loaded, timeout=120_000)
    assert not window.session.is_classifying()


def test_a_new_model_answers_on_tensorflow_until_its_conversion_is_verified(
    qtbot, photos, small_classifier, tmp_path
):
    window = open_window(qtbot, start=False)
    first, second = photos["chelsea"], tmp_path / "chelsea-again.jpg"
    shutil.copy(first, second)
    window.load_model(LoadModelRequest(str(small_classifier)))
    wait_for_model(qtbot, window, "fruit.keras")
    window.add_images([str(first)])
    wait_idle(window)
    entry = window.session.images.entry(str(first))
    assert entry.state == DONE
    assert window.runtime.status in ("converting", "onnx")
    assert _engine(window).backend.wait_converted(timeout=120)

    window.add_images([str(second)])  # the same picture under another name
    wait_idle(window)

    assert window.runtime.label.text() == "Runtime: ONNX Runtime"
    again = window.session.images.entry(str(second))
    assert [label.label for label in again.labels] == [label.label for label in entry.labels]
    np.testing.assert_allclose(
        [label.probability for label in again.labels],
        [label.probability for label in entry.labels],
        atol=1e-5,
    )


def test_the_runtime_preference_is_a_menu_choice_that_is_remembered(qtbot, window, photos):
    _click_menu_path(qtbot, window, "Model", "Runtime", "TensorFlow only")
    wait_for_model(qtbot, window)
    window.add_images([str(photos["coffee"])])
    wait_idle(window)

    assert window.runtime.label.text() == "Runtime: TensorFlow"
    assert window.runtime.actions["tf"].isChecked()
    assert Settings().backend == "tf"
    assert _engine(window).backend.name == "keras"
