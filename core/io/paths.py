"""Where ConvLens and Keras keep files on this machine."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def app_cache_dir() -> Path:
    """ConvLens' own cache (converted built-in model). ``CONVLENS_CACHE_DIR`` overrides it."""
    override = os.environ.get("CONVLENS_CACHE_DIR")
    path = Path(override) if override else Path(platformdirs.user_cache_dir("convlens"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# Bump when the built-in architecture or conversion changes, so old caches are not reused.
BUILTIN_CACHE_FILE = "efficientnet_lite0_imagenet_v1.keras"


def builtin_model_cache() -> Path:
    """The built-in model converted to a .keras file (core.models.builtin writes it)."""
    return app_cache_dir() / BUILTIN_CACHE_FILE


def keras_models_dir() -> Path:
    """The folder Keras caches downloaded weights in, honouring ``KERAS_HOME``."""
    keras_home = os.environ.get("KERAS_HOME")
    if keras_home:
        base = Path(keras_home)
    else:
        base = Path(os.path.expanduser("~")) / ".keras"
        if not os.access(base.parent, os.W_OK):
            base = Path("/tmp") / ".keras"  # Keras itself falls back the same way
    return base / "models"
