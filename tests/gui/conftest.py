"""Fixtures for the window tests: real photos, isolated settings, a window with the real model.

The built-in model is real and offline; TensorFlow is imported once per test session (on
the first window's worker) and the converted model is cached in CONVLENS_CACHE_DIR.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from tests.image_corpus import write_truncated

WORKER_THREAD = "convlens-worker"
LOAD_TIMEOUT_MS = 120_000  # the first load imports TensorFlow and may convert the model


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Each test starts like a first run: no settings, no remembered preprocessing."""
    folder = tmp_path / "config"
    monkeypatch.setenv("CONVLENS_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_leftover_workers():
    """Fail a test that leaves a worker thread running (the window must end it on close)."""
    yield
    alive = [t for t in threading.enumerate() if t.name == WORKER_THREAD and t.is_alive()]
    for thread in alive:
        thread.join(5)
    assert not [t for t in alive if t.is_alive()], "a ConvLens worker thread was left running"


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory) -> Path:
    """scikit-image's cat and coffee photos as JPEGs."""
    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(skimage.data.chelsea()).save(folder / "chelsea.jpg", quality=92)
    Image.fromarray(skimage.data.coffee()).save(folder / "coffee.jpg", quality=92)
    return folder


@pytest.fixture
def photos(photo_dir, tmp_path) -> dict[str, Path]:
    """Per-test copies, so a test may rename, delete or add to them."""
    folder = tmp_path / "photos"
    shutil.copytree(photo_dir, folder)
    return {path.stem: path for path in folder.iterdir()}


@pytest.fixture
def photo_folder(photos, tmp_path) -> Path:
    """A folder with a photo, a broken JPEG and a subfolder with another photo."""
    root = tmp_path / "album"
    (root / "kitchen").mkdir(parents=True)
    shutil.copy(photos["chelsea"], root / "chelsea.jpg")
    shutil.copy(photos["coffee"], root / "kitchen" / "coffee.jpg")
    write_truncated(root / "broken.jpg")
    (root / "notes.txt").write_text("not an image, and not listed")
    return root


@pytest.fixture
def many_photos(photo_dir, tmp_path) -> list[Path]:
    """40 small, distinct photos: a batch that takes the worker a few seconds."""
    folder = tmp_path / "many"
    folder.mkdir()
    base = np.asarray(Image.open(photo_dir / "chelsea.jpg"))
    paths = []
    for i in range(40):
        crop = base[i : i + 240, 2 * i : 2 * i + 320]
        path = folder / f"cat_{i:02d}.jpg"
        Image.fromarray(crop).save(path, quality=85)
        paths.append(path)
    return paths


def open_window(qtbot, start: bool = True):
    """A MainWindow with the model of the settings (the built-in one on a first run) loaded."""
    from gui.main.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)  # closed (and its worker ended) after the test
    window.show()
    if start:
        window.start()
        wait_for_model(qtbot, window)
    return window


def wait_for_model(qtbot, window, name: str | None = None) -> None:
    def loaded():
        model = window.session.model
        assert model is not None and not window.session.is_loading()
        if name is not None:
            assert model.name == name

    qtbot.waitUntil(loaded, timeout=LOAD_TIMEOUT_MS)


def wait_idle(window, timeout: float = 120) -> None:
    window.session.wait_until_idle(timeout)


@pytest.fixture
def window(qtbot):
    return open_window(qtbot)


@pytest.fixture(scope="session")
def small_classifier(tmp_path_factory) -> Path:
    """A tiny three-class .keras model with class names stored in the file."""
    import keras

    from core.models.metadata import write_metadata

    path = tmp_path_factory.mktemp("models") / "fruit.keras"
    inputs = keras.Input((224, 224, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=4, activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    keras.Model(inputs, outputs, name="fruit").save(path)
    write_metadata(path, {"class_names": ["apple", "banana", "cherry"]})
    return path
