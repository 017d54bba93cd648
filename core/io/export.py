"""Writing feature vectors to .npz, .npy, .csv or .h5, atomically.

The file is written under a temporary name in the destination folder and renamed into
place only when complete, so an error or a cancel never leaves a partial file, and an
existing file is replaced only when the caller asks for it. Light module: no TensorFlow.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ExportError
from core.io.atomic import atomic_path

EXPORT_FORMATS = {
    ".npz": "NumPy archive: vectors, paths and metadata",
    ".npy": "NumPy array: vectors only",
    ".csv": "CSV: path, then one column per dimension",
    ".h5": "HDF5: vectors, paths and metadata attributes",
}


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


def write_features(
    path: str | Path,
    vectors: np.ndarray,
    paths: Sequence[str | Path],
    metadata: dict | None = None,
    overwrite: bool = False,
) -> Path:
    """Write vectors (one row per image) with their image paths and provenance metadata."""
    path = Path(path)
    suffix = check_destination(path, overwrite)
    vectors = np.asarray(vectors)
    if len(vectors) != len(paths):
        raise ExportError(f"{len(vectors)} vectors but {len(paths)} image paths.")
    # Through JSON once, so every format stores (and returns) the same plain values.
    metadata = json.loads(json.dumps(metadata or {}, default=str))
    metadata = {key: value for key, value in metadata.items() if value is not None}
    names = [str(p) for p in paths]
    try:
        with atomic_path(path, overwrite=overwrite) as partial:
            _WRITERS[suffix](partial, vectors, names, metadata)
    except ExportError:
        raise
    except Exception as exc:  # h5py and numpy raise more than OSError; say which file
        raise ExportError(f"Could not write {path}: {exc}") from exc
    return path


# Names np.savez takes for itself, or that hold the vectors, paths and metadata.
_NPZ_RESERVED = frozenset({"vectors", "paths", "metadata", "file", "args", "allow_pickle"})


def _npz_field(value) -> np.ndarray | None:
    """A metadata value as its own array (for np.load(...)["layer"]), if it is plain data."""
    try:
        array = np.array(value)
    except ValueError:  # ragged lists
        return None
    return array if array.dtype.kind in "biufU" else None


def _write_npz(target: Path, vectors, names, metadata) -> None:
    # The full metadata is one JSON string; plain values are also arrays of their own so
    # that data["layer"] works for people who never call read_features.
    fields = {
        key: field
        for key, value in metadata.items()
        if key not in _NPZ_RESERVED and (field := _npz_field(value)) is not None
    }
    with open(target, "wb") as f:
        np.savez(
            f,
            vectors=vectors,
            paths=np.array(names, dtype=str),
            metadata=np.array(json.dumps(metadata)),
            **fields,
        )


def _write_npy(target: Path, vectors, names, metadata) -> None:
    with open(target, "wb") as f:
        np.save(f, vectors)


def _write_csv(target: Path, vectors, names, metadata) -> None:
    flat = vectors.reshape(len(vectors), -1)
    # 9 significant digits write any float32 exactly, so the CSV reads back the same vectors.
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["path"] + [f"f{i}" for i in range(flat.shape[1] if flat.ndim == 2 else 0)])
        for name, row in zip(names, flat, strict=True):
            writer.writerow([name] + [f"{value:.9g}" for value in row])


def _write_h5(target: Path, vectors, names, metadata) -> None:
    import h5py

    with h5py.File(target, "w") as f:
        f.create_dataset("vectors", data=vectors)
        f.create_dataset("paths", data=np.array(names, dtype=object), dtype=h5py.string_dtype())
        # One attribute per key for HDF5 viewers, plus the whole dict as JSON, which is
        # what read_features returns (attributes turn lists into strings and ints into numpy).
        f.attrs["metadata"] = json.dumps(metadata)
        for key, value in metadata.items():
            if key != "metadata":
                f.attrs[key] = value if isinstance(value, (str, int, float)) else json.dumps(value)


_WRITERS = {".npz": _write_npz, ".npy": _write_npy, ".csv": _write_csv, ".h5": _write_h5}


def read_features(path: str | Path) -> tuple[np.ndarray, list[str], dict]:
    """Read back what write_features wrote: (vectors, paths, metadata); .npy has no paths."""
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
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))[1:]
        return (
            np.array([[float(v) for v in row[1:]] for row in rows], dtype=np.float32),
            [row[0] for row in rows],
            {},
        )
    import h5py

    with h5py.File(path, "r") as f:
        paths = [p.decode() if isinstance(p, bytes) else str(p) for p in f["paths"][()]]
        raw = f.attrs.get("metadata")
        metadata = json.loads(raw) if raw is not None else dict(f.attrs)
        return f["vectors"][()], paths, metadata
