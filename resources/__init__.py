"""Data files shipped with ConvLens."""

from pathlib import Path

RESOURCE_DIR = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """Absolute path of a shipped resource file."""
    return RESOURCE_DIR / name
