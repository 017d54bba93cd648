"""Shared, expensive fixtures of the explanation tests: the trained model and its engine."""

from __future__ import annotations

import pytest

from core.engine.engine import Engine
from core.models.loaded import LoadedModel
from tests.core.explain.synthetic import CLASSES, SIZE, scenes, trained_spot_model


def spot_engine(model) -> Engine:
    """An Engine for a spot model: raw pixels in (the model rescales them itself)."""
    return Engine(LoadedModel(model, model.name, "file", (SIZE, SIZE), "none", list(CLASSES)))


@pytest.fixture(scope="session")
def trained_model():
    return trained_spot_model()


@pytest.fixture(scope="session")
def trained_engine(trained_model) -> Engine:
    return spot_engine(trained_model)


@pytest.fixture(scope="session")
def test_scenes():
    """Scenes the model was not trained on."""
    return scenes(30, seed=1)
