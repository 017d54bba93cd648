"""Streaming writers: failures are recorded in the file, Parquet carries its provenance, and a
file written chunk by chunk is the same as one written at once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.io.export import read_failures, read_features, write_rows
from core.io.writers import ArrayRows, Chunk, Layout

METADATA = {"model": "EfficientNet-Lite0", "layer": "top_activation", "pooling": "none"}
PATHS = ["/photos/a.jpg", "/photos/broken.png", "/photos/c.jpg", "/photos/d.jpg"]
ERRORS = ["", "the file is truncated or damaged and cannot be decoded", "", ""]


class ChunkedRows:
    """The rows of ArrayRows, handed out a few at a time, as a long run's shards are."""

    def __init__(self, vectors, size):
        self.vectors, self.size = vectors, size
        self.layout = Layout(len(vectors), 1, vectors.shape[1:], max(map(len, PATHS)), METADATA)

    def chunks(self, vectors=True):
        done = 0
        for start in range(0, len(PATHS), self.size):
            errors = ERRORS[start : start + self.size]
            good = sum(1 for e in errors if not e)
            yield Chunk(PATHS[start : start + self.size], errors, self.vectors[done : done + good])
            done += good


@pytest.fixture
def maps():
    return np.random.default_rng(3).normal(size=(3, 2, 2, 5)).astype(np.float32)


@pytest.mark.parametrize("suffix", [".npz", ".csv", ".h5", ".parquet"])
def test_failed_images_are_listed_with_their_reason(tmp_path, maps, suffix):
    out = write_rows(tmp_path / f"f{suffix}", ArrayRows(PATHS, ERRORS, maps, METADATA))
    vectors, paths, _ = read_features(out)
    assert paths == [PATHS[0], PATHS[2], PATHS[3]]
    expected = maps.reshape(3, -1) if suffix == ".csv" else maps
    np.testing.assert_array_equal(vectors, expected)
    assert read_failures(out) == [(PATHS[1], ERRORS[1])]


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".csv", ".h5", ".parquet"])
def test_written_in_chunks_reads_the_same_as_written_at_once(tmp_path, maps, suffix):
    whole = write_rows(tmp_path / f"whole{suffix}", ArrayRows(PATHS, ERRORS, maps, METADATA))
    chunked = write_rows(tmp_path / f"chunked{suffix}", ChunkedRows(maps, size=1))
    got, want = read_features(chunked), read_features(whole)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1:] == want[1:]
    if suffix != ".h5":  # HDF5 lays out its bytes as it likes; the others are byte-identical
        assert chunked.read_bytes() == whole.read_bytes()


def test_parquet_is_a_table_pandas_reads_with_the_provenance(tmp_path, maps):
    import pandas as pd
    import pyarrow.parquet as pq

    out = write_rows(tmp_path / "f.parquet", ArrayRows(PATHS, ERRORS, maps, METADATA))
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["path", "vector", "error"]
    assert frame["path"].tolist() == PATHS  # every image in its place, failed or not
    assert frame["vector"].isna().tolist() == [False, True, False, False]
    assert len(frame["vector"][0]) == 2 * 2 * 5
    schema = pq.read_schema(out)
    assert schema.metadata[b"layer"] == b"top_activation"
    assert json.loads(schema.metadata[b"convlens"])["shape"] == [2, 2, 5]


def test_npy_is_sized_in_advance_and_holds_the_read_images_only(tmp_path, maps):
    out = write_rows(tmp_path / "f.npy", ChunkedRows(maps, size=3))
    loaded = np.load(out, mmap_mode="r")
    assert loaded.shape == (3, 2, 2, 5)
    np.testing.assert_array_equal(loaded, maps)
