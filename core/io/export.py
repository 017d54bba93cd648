"""Feature files (.npz, .npy, .csv, .h5, .parquet): checking, writing atomically, reading.

A file is written under a temporary name in the destination folder and renamed into place
only when complete, so an error or a cancel never leaves a partial file, and an existing
file is replaced only when the caller asks for it. The formats themselves are written by
core.io.writers, streaming. Light module: no TensorFlow.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ExportError
from core.io.atomic import atomic_path
from core.io.writers import WRITERS, ArrayRows, Rows

EXPORT_FORMATS = {
    ".npz": "NumPy archive: vectors, paths and metadata",
    ".npy": "NumPy array: vectors only",
    ".csv": "CSV: path, then one column per dimension",
    ".h5": "HDF5: vectors, paths and metadata attributes",
    ".parquet": "Parquet: path, vector, error; metadata in the schema",
}

_WRITERS = dict(WRITERS)  # by suffix; tests replace one to simulate a full disk


def export_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".hdf5":
        suffix = ".h5"
    if suffix not in EXPORT_FORMATS:
        raise ExportError(
            f"Cannot write {Path(path).name}: choose a file ending in {', '.join(EXPORT_FORMATS)}."
        )
    return suffix


def check_destination(path: str | Path, overwrite: bool = False) -> str:
    """The export format of path, after checking it can be written: ExportError if not.

    Asked before any work starts (by the command line, the window and the extract
    operation alike), so a typo costs no minutes of extraction.
    """
    path = Path(path)
    suffix = export_format(path)
    if path.exists() and not overwrite:
        raise ExportError(
            f"{path} already exists. Choose another name or allow replacing it (--overwrite)."
        )
    if not path.parent.is_dir():
        raise ExportError(f"The folder {path.parent} does not exist.")
    return suffix


def plain_metadata(metadata: dict | None) -> dict:
    """Through JSON once, so every format stores (and returns) the same plain values."""
    metadata = json.loads(json.dumps(metadata or {}, default=str))
    return {key: value for key, value in metadata.items() if value is not None}


def write_features(
    path: str | Path,
    vectors: np.ndarray,
    paths: Sequence[str | Path],
    metadata: dict | None = None,
    overwrite: bool = False,
) -> Path:
    """Write vectors (one row per image) with their image paths and provenance metadata."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) != len(paths):
        raise ExportError(f"{len(vectors)} vectors but {len(paths)} image paths.")
    rows = ArrayRows(paths, [""] * len(paths), vectors, plain_metadata(metadata))
    return write_rows(path, rows, overwrite)


def write_rows(path: str | Path, rows: Rows, overwrite: bool = False) -> Path:
    """Write rows streaming, atomically, in the format path's suffix names."""
    path = Path(path)
    suffix = check_destination(path, overwrite)
    try:
        with atomic_path(path, overwrite=overwrite) as partial:
            _WRITERS[suffix](partial, rows)
    except ExportError:
        raise
    except Exception as exc:  # h5py, numpy and pyarrow raise more than OSError; say which file
        raise ExportError(f"Could not write {path}: {exc}") from exc
    return path


def read_features(path: str | Path) -> tuple[np.ndarray, list[str], dict]:
    """Read back what write_features wrote: (vectors, paths, metadata); .npy has no paths.

    Only the readable images' rows: read_failures lists the others.
    """
    path = Path(path)
    suffix = export_format(path)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return (
                data["vectors"],
                [str(p) for p in data["paths"]],
                json.loads(str(data["metadata"])),
            )
    if suffix == ".npy":
        return np.load(path, allow_pickle=False), [], {}
    if suffix == ".csv":
        rows = [row for row in _csv_rows(path) if not row[-1]]
        return (
            np.array([[float(v) for v in row[1:-1]] for row in rows], dtype=np.float32),
            [row[0] for row in rows],
            {},
        )
    if suffix == ".parquet":
        return _read_parquet(path)
    import h5py

    with h5py.File(path, "r") as f:
        paths = [p.decode() if isinstance(p, bytes) else str(p) for p in f["paths"][()]]
        raw = f.attrs.get("metadata")
        metadata = json.loads(raw) if raw is not None else dict(f.attrs)
        return f["vectors"][()], paths, metadata


def read_failures(path: str | Path) -> list[tuple[str, str]]:
    """(image path, why it could not be read) for each image a feature file lists as failed."""
    path = Path(path)
    suffix = export_format(path)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return list(
                zip(map(str, data["failed_paths"]), map(str, data["failed_errors"]), strict=True)
            )
    if suffix == ".csv":
        return [(row[0], row[-1]) for row in _csv_rows(path) if row[-1]]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=["path", "error"]).to_pylist()
        return [(row["path"], row["error"]) for row in table if row["error"]]
    if suffix == ".h5":
        import h5py

        with h5py.File(path, "r") as f:
            return [
                (p.decode(), e.decode())
                for p, e in zip(f["failed_paths"][()], f["failed_errors"][()], strict=True)
            ]
    return []


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))[1:]


def _read_parquet(path: Path) -> tuple[np.ndarray, list[str], dict]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    metadata = json.loads(table.schema.metadata[b"convlens"])
    shape = tuple(metadata.pop("shape"))
    table = table.filter(pc.is_null(table["error"]))
    values = table["vector"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = values.astype(np.float32).reshape(len(table), *shape)
    return vectors, table["path"].to_pylist(), metadata
