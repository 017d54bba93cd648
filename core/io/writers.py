"""Streaming writers of feature files: .npz, .npy, .csv, .h5 and .parquet.

Each writer pulls its rows from a ``Rows`` source chunk by chunk, so a file of a million
vectors is written with one chunk in memory at a time. The source knows its totals in
advance (``Layout``): the .npy file is a memory map sized before the first row, the .npz
members are streamed into the zip archive, HDF5 datasets are chunked. Rows are in the order
the images were listed; images that could not be read are rows with an error and no
vector (in .npz and .h5 they are listed apart, in .csv and .parquet they keep their place;
.npy holds vectors only). Light module: numpy; h5py and pyarrow are imported when used.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

# Parquet row groups and HDF5 chunks of about this many bytes of vectors: large enough for
# fast reads, small enough that writing holds little in memory.
_GROUP_BYTES = 32 << 20


@dataclass(frozen=True)
class Layout:
    """What a writer must know before the first row."""

    rows: int  # readable images, one vector each
    failed: int  # images that could not be read
    shape: tuple[int, ...]  # of one vector
    longest_path: int  # characters, for fixed-width NumPy strings
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows: every image's path and error ('' when read), the read ones' vectors."""

    paths: list[str]
    errors: list[str]
    vectors: np.ndarray  # float32, one row per empty error, in order


class Rows(Protocol):
    layout: Layout

    def chunks(self, vectors: bool = True) -> Iterator[Chunk]:
        """The rows from the first, chunk by chunk; vectors=False skips reading them."""


class ArrayRows:
    """Rows held in memory: a single chunk (the window's small exports and the tests)."""

    def __init__(self, paths, errors, vectors: np.ndarray, metadata: dict) -> None:
        self._chunk = Chunk([str(p) for p in paths], list(errors), vectors)
        self.layout = Layout(
            rows=len(vectors),
            failed=sum(1 for e in errors if e),
            shape=tuple(vectors.shape[1:]),
            longest_path=max((len(p) for p in self._chunk.paths), default=1),
            metadata=metadata,
        )

    def chunks(self, vectors: bool = True) -> Iterator[Chunk]:
        yield self._chunk


def read_pairs(chunk: Chunk) -> Iterator[tuple[str, str]]:
    """(path, error) of every row of chunk."""
    return zip(chunk.paths, chunk.errors, strict=True)


def _good_paths(chunk: Chunk) -> list[str]:
    return [path for path, error in read_pairs(chunk) if not error]


def _failures(chunk: Chunk) -> list[tuple[str, str]]:
    return [(path, error) for path, error in read_pairs(chunk) if error]


def _npy_header(dtype, shape) -> dict:
    return {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
        "fortran_order": False,
        "shape": tuple(shape),
    }


def _stream_npy(archive: zipfile.ZipFile, name: str, dtype, shape, pieces) -> None:
    """Write an array into archive as name.npy from consecutive pieces (np.load reads it)."""
    # A fixed date (not the clock): the same rows give the same bytes, resumed or not.
    member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
    with archive.open(member, "w", force_zip64=True) as f:
        np.lib.format.write_array_header_2_0(f, _npy_header(dtype, shape))
        for piece in pieces:
            f.write(np.ascontiguousarray(piece, dtype=dtype).tobytes())


# Names np.savez takes for itself, or that hold the vectors, paths and metadata.
_NPZ_RESERVED = frozenset(
    {
        "vectors",
        "paths",
        "metadata",
        "failed_paths",
        "failed_errors",
        "file",
        "args",
        "allow_pickle",
    }
)


def _npz_field(value) -> np.ndarray | None:
    """A metadata value as its own array (for np.load(...)["layer"]), if it is plain data."""
    try:
        array = np.array(value)
    except ValueError:  # ragged lists
        return None
    return array if array.dtype.kind in "biufU" else None


def write_npz(target: Path, rows: Rows) -> None:
    layout = rows.layout
    text = f"<U{max(layout.longest_path, 1)}"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        _stream_npy(
            archive,
            "vectors",
            np.float32,
            (layout.rows, *layout.shape),
            (chunk.vectors for chunk in rows.chunks()),
        )
        _stream_npy(
            archive,
            "paths",
            text,
            (layout.rows,),
            (_good_paths(chunk) for chunk in rows.chunks(vectors=False)),
        )
        _stream_npy(
            archive,
            "failed_paths",
            text,
            (layout.failed,),
            ([p for p, _ in _failures(c)] for c in rows.chunks(vectors=False)),
        )
        errors = [e for c in rows.chunks(vectors=False) for _, e in _failures(c)]
        _stream_npy(
            archive,
            "failed_errors",
            f"<U{max(map(len, errors), default=1)}",
            (layout.failed,),
            [errors],
        )
        # The full metadata is one JSON string; plain values are also arrays of their own so
        # that data["layer"] works for people who never call read_features.
        fields = {"metadata": np.array(json.dumps(layout.metadata))}
        for key, value in layout.metadata.items():
            if key not in _NPZ_RESERVED and (array := _npz_field(value)) is not None:
                fields[key] = array
        for name, array in fields.items():
            _stream_npy(archive, name, array.dtype, array.shape, [array])


def write_npy(target: Path, rows: Rows) -> None:
    layout = rows.layout
    out = np.lib.format.open_memmap(
        target, mode="w+", dtype=np.float32, shape=(layout.rows, *layout.shape)
    )
    start = 0
    for chunk in rows.chunks():
        out[start : start + len(chunk.vectors)] = chunk.vectors
        start += len(chunk.vectors)
    out.flush()
    del out  # unmaps the file before it is renamed into place


def write_csv(target: Path, rows: Rows) -> None:
    width = int(np.prod(rows.layout.shape))
    blank = [""] * width
    # 9 significant digits write any float32 exactly, so the CSV reads back the same vectors.
    with open(target, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["path", *(f"f{i}" for i in range(width)), "error"])
        for chunk in rows.chunks():
            flat = iter(chunk.vectors.reshape(len(chunk.vectors), width))
            for path, error in read_pairs(chunk):
                if error:
                    writer.writerow([path, *blank, error])
                else:
                    writer.writerow([path, *(f"{v:.9g}" for v in next(flat)), ""])


def write_h5(target: Path, rows: Rows) -> None:
    import h5py

    layout = rows.layout
    metadata = layout.metadata
    row_bytes = 4 * max(int(np.prod(layout.shape)), 1)
    chunk_rows = int(np.clip(_GROUP_BYTES // 32 // row_bytes, 1, max(layout.rows, 1)))
    text = h5py.string_dtype()
    with h5py.File(target, "w") as f:
        vectors = f.create_dataset(
            "vectors",
            shape=(layout.rows, *layout.shape),
            maxshape=(None, *layout.shape),
            dtype=np.float32,
            chunks=(chunk_rows, *layout.shape) if layout.rows else None,
        )
        paths = f.create_dataset("paths", shape=(layout.rows,), maxshape=(None,), dtype=text)
        failed = f.create_dataset("failed_paths", (layout.failed,), maxshape=(None,), dtype=text)
        reasons = f.create_dataset("failed_errors", (layout.failed,), maxshape=(None,), dtype=text)
        good = bad = 0
        for chunk in rows.chunks():
            n = len(chunk.vectors)
            vectors[good : good + n] = chunk.vectors
            paths[good : good + n] = _good_paths(chunk)
            good += n
            for path, error in _failures(chunk):
                failed[bad], reasons[bad] = path, error
                bad += 1
        # One attribute per key for HDF5 viewers, plus the whole dict as JSON, which is
        # what read_features returns (attributes turn lists into strings and ints into numpy).
        f.attrs["metadata"] = json.dumps(metadata)
        for key, value in metadata.items():
            if key != "metadata":
                f.attrs[key] = value if isinstance(value, (str, int, float)) else json.dumps(value)


def parquet_schema(layout: Layout):
    """path, vector (float32, the map flattened; 'shape' in the metadata), error; the
    provenance in the schema metadata, as one JSON and as one key per plain value."""
    import pyarrow as pa

    width = int(np.prod(layout.shape))
    metadata = {**layout.metadata, "shape": list(layout.shape)}
    fields = {"convlens": json.dumps(metadata)}
    fields.update({k: str(v) for k, v in metadata.items() if isinstance(v, (str, int, float))})
    return pa.schema(
        [("path", pa.string()), ("vector", pa.list_(pa.float32(), width)), ("error", pa.string())],
        metadata=fields,
    )


def parquet_table(schema, paths, errors, vectors: np.ndarray):
    """One table of rows: vectors of the read images in place, null where an image failed."""
    import pyarrow as pa

    width = schema.field("vector").type.list_size
    flat = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1)
    good = np.array([not e for e in errors], dtype=bool)
    full = np.zeros((len(paths), width), np.float32)
    full[good] = flat.reshape(-1, width)
    values = pa.FixedSizeListArray.from_arrays(
        pa.array(full.reshape(-1)), width, mask=pa.array(~good)
    )
    return pa.table(
        [pa.array(paths, pa.string()), values, pa.array([e or None for e in errors], pa.string())],
        schema=schema,
    )


def write_parquet(target: Path, rows: Rows) -> None:
    import pyarrow.parquet as pq

    layout = rows.layout
    schema = parquet_schema(layout)
    row_bytes = 4 * max(int(np.prod(layout.shape)), 1)
    group = max(1, min(65536, _GROUP_BYTES // row_bytes))
    # Row groups of a fixed number of rows whatever the chunks, so a resumed run writes the
    # same file as one that was never interrupted.
    pending: list[Chunk] = []
    pending_rows = 0
    with pq.ParquetWriter(target, schema) as writer:
        for chunk in [*rows.chunks(), None]:
            if chunk is not None:
                pending.append(chunk)
                pending_rows += len(chunk.paths)
            while pending_rows >= group or (chunk is None and pending_rows):
                merged = _merge(pending)
                head, tail = _split(merged, min(group, pending_rows))
                writer.write_table(parquet_table(schema, head.paths, head.errors, head.vectors))
                pending = [tail] if tail.paths else []
                pending_rows = len(tail.paths)


def _merge(chunks: list[Chunk]) -> Chunk:
    if len(chunks) == 1:
        return chunks[0]
    return Chunk(
        [p for c in chunks for p in c.paths],
        [e for c in chunks for e in c.errors],
        np.concatenate([c.vectors for c in chunks]),
    )


def _split(chunk: Chunk, n: int) -> tuple[Chunk, Chunk]:
    """The first n rows of chunk, and the rest."""
    good = sum(1 for e in chunk.errors[:n] if not e)
    return (
        Chunk(chunk.paths[:n], chunk.errors[:n], chunk.vectors[:good]),
        Chunk(chunk.paths[n:], chunk.errors[n:], chunk.vectors[good:]),
    )


WRITERS = {
    ".npz": write_npz,
    ".npy": write_npy,
    ".csv": write_csv,
    ".h5": write_h5,
    ".parquet": write_parquet,
}
