"""Shared data of the explore tests: a tiny model, photos with a duplicate, feature files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from core.io.export import write_features
from tests.core.explore.synthetic import clustered
from tests.image_corpus import write_noise, write_truncated

CLASSES = ["cat", "dog", "fish"]


@pytest.fixture(scope="session")
def tiny_engine():
    """A tiny classifier whose every forward pass is counted."""
    from core.engine.engine import Engine
    from core.models.loaded import LoadedModel
    from tests.model_factory import tiny_cnn

    engine = Engine(
        LoadedModel(tiny_cnn(classes=3, size=32), "tiny", "file", (32, 32), "tf", CLASSES)
    )
    engine.passes = 0
    backend_outputs, backend_predict = engine.backend.layer_outputs, engine.backend.predict

    def layer_outputs(batch, paths):
        engine.passes += 1
        return backend_outputs(batch, paths)

    def predict(batch):
        engine.passes += 1
        return backend_predict(batch)

    engine.backend.layer_outputs, engine.backend.predict = layer_outputs, predict
    return engine


@pytest.fixture(scope="session")
def album(tmp_path_factory):
    """Smooth pictures in two folders, one an exact copy under another name, one broken."""
    root = tmp_path_factory.mktemp("album")
    rng = np.random.default_rng(0)
    for folder in ("red", "blue"):
        (root / folder).mkdir()
    for i in range(6):
        base = np.zeros((40, 40, 3), np.uint8)
        channel = 0 if i < 3 else 2
        base[..., channel] = 100 + 25 * i
        base[: 10 + 4 * i, :, 1] = rng.integers(0, 255)
        Image.fromarray(base).save(root / ("red" if i < 3 else "blue") / f"img{i}.png")
    shutil.copy(root / "red" / "img1.png", root / "blue" / "copy_of_img1.png")
    write_noise(root / "blue" / "noise.png", size=(40, 40), seed=3)
    write_truncated(root / "red" / "broken.png")
    return root


@pytest.fixture(scope="session")
def features_npz(tmp_path_factory):
    """120 synthetic vectors in three class folders; row 121 duplicates row 7."""
    root = tmp_path_factory.mktemp("features")
    vectors, labels = clustered(classes=3, per_class=40, dims=32)
    vectors = np.vstack([vectors, vectors[7] * 1.01])
    labels = np.append(labels, labels[7])
    paths = [f"/data/{CLASSES[c]}/{i:03d}.jpg" for i, c in enumerate(labels)]
    metadata = {"model": "tiny", "layer": "gap", "pooling": "none"}
    return write_features(root / "features.npz", vectors, paths, metadata), labels
