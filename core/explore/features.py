"""A table of feature vectors with their images, from a features file or computed by a model.

Light module. Folder labels: when the images sit in two or more folders, the folder name
is the class (the layout training folders have).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import ConvLensError

FEATURE_SUFFIXES = frozenset({".npz", ".npy", ".csv", ".h5", ".hdf5"})


class ExploreError(ConvLensError):
    """Features cannot be explored as asked (too few images, an unreadable file)."""


@dataclass
class FeatureTable:
    """One row per image: vectors (float32, N×D), paths and where they came from."""

    vectors: np.ndarray
    paths: list[str]
    metadata: dict = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    def __post_init__(self) -> None:
        vectors = np.asarray(self.vectors, dtype=np.float32)
        self.vectors = vectors.reshape(len(vectors), -1)
        if not self.paths:  # a bare .npy: name the rows
            self.paths = [f"#{i}" for i in range(len(self.vectors))]
        if len(self.paths) != len(self.vectors):
            raise ExploreError(f"{len(self.vectors)} vectors but {len(self.paths)} paths.")

    def __len__(self) -> int:
        return len(self.vectors)

    def index_of(self, path: str | Path) -> int | None:
        """The row of an image, matched by its path as stored or resolved; None if absent."""
        wanted = {str(path), str(Path(path).resolve())}
        for i, stored in enumerate(self.paths):
            if stored in wanted or str(Path(stored).resolve()) in wanted:
                return i
        return None


def is_feature_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in FEATURE_SUFFIXES and Path(path).is_file()


def read_feature_table(path: str | Path) -> FeatureTable:
    """A features file written by ``convlens extract`` (or any .npz/.npy/.csv/.h5 alike)."""
    from core.io.export import read_features

    try:
        vectors, paths, metadata = read_features(path)
    except ConvLensError:
        raise
    except Exception as exc:  # numpy, csv and h5py each raise their own
        raise ExploreError(
            f"Could not read features from {path}: {exc}. "
            "Use a file written by 'convlens extract' or File → Export features."
        ) from exc
    if np.asarray(vectors).ndim < 2 or len(vectors) == 0:
        raise ExploreError(f"{path} holds no feature vectors.")
    return FeatureTable(vectors, list(paths), dict(metadata))


def folder_labels(paths: list[str]) -> list[str] | None:
    """Each image's folder name, when the images sit in two or more folders; else None."""
    folders = [Path(p).parent.name for p in paths]
    return folders if len(set(folders)) >= 2 else None


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero): cosine similarity is a dot product."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
