"""Feature export: every format reads back what was written; writes are atomic."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from core.errors import ExportError
from core.io import export
from core.io.export import read_features, write_features

METADATA = {
    "model": "EfficientNet-Lite0",
    "layer": "avg_pool",
    "pooling": "none",
    "preprocessing": "lite",
    "input_size": [224, 224],
}


@pytest.fixture
def vectors():
    # Values with more digits than float32 prints by default, to catch lossy text formats.
    return np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32) * 1e3


@pytest.fixture
def paths(tmp_path):
    return [tmp_path / "photos" / name for name in ("a.jpg", "b b.png", 'ç,"quoted".jpg')]


@pytest.mark.parametrize("suffix", [".npz", ".h5", ".parquet"])
def test_round_trip_with_metadata(tmp_path, vectors, paths, suffix):
    out = write_features(tmp_path / f"features{suffix}", vectors, paths, METADATA)
    got, got_paths, metadata = read_features(out)
    np.testing.assert_array_equal(got, vectors)
    assert got.dtype == np.float32
    assert got_paths == [str(p) for p in paths]
    assert metadata == METADATA


def test_npz_fields_are_readable_with_plain_numpy(tmp_path, vectors, paths):
    out = write_features(tmp_path / "features.npz", vectors, paths, METADATA)
    with np.load(out) as data:  # no pickle needed
        assert str(data["layer"]) == "avg_pool"
        assert data["input_size"].tolist() == [224, 224]
        np.testing.assert_array_equal(data["vectors"], vectors)


def test_npy_round_trip_holds_the_vectors(tmp_path, vectors, paths):
    out = write_features(tmp_path / "features.npy", vectors, paths, METADATA)
    got, got_paths, metadata = read_features(out)
    np.testing.assert_array_equal(got, vectors)
    assert (got_paths, metadata) == ([], {})
    np.testing.assert_array_equal(np.load(out), vectors)


def test_csv_round_trip_is_exact(tmp_path, vectors, paths):
    out = write_features(tmp_path / "features.csv", vectors, paths, METADATA)
    got, got_paths, _ = read_features(out)
    np.testing.assert_array_equal(got, vectors)
    assert got_paths == [str(p) for p in paths]
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header == "path,f0,f1,f2,f3,f4,error"


def test_feature_maps_keep_their_shape_except_in_csv(tmp_path, paths):
    maps = np.arange(3 * 2 * 2 * 4, dtype=np.float32).reshape(3, 2, 2, 4)
    got, _, _ = read_features(write_features(tmp_path / "maps.npz", maps, paths))
    assert got.shape == (3, 2, 2, 4)
    got, _, _ = read_features(write_features(tmp_path / "maps.csv", maps, paths))
    np.testing.assert_array_equal(got, maps.reshape(3, -1))


def test_hdf5_suffix_is_an_h5_file(tmp_path, vectors, paths):
    out = write_features(tmp_path / "features.hdf5", vectors, paths, METADATA)
    np.testing.assert_array_equal(read_features(out)[0], vectors)


def test_an_existing_file_is_replaced_only_on_request(tmp_path, vectors, paths):
    out = tmp_path / "features.npz"
    out.write_bytes(b"my earlier results")
    with pytest.raises(ExportError, match="already exists"):
        write_features(out, vectors, paths)
    assert out.read_bytes() == b"my earlier results"
    write_features(out, vectors, paths, overwrite=True)
    np.testing.assert_array_equal(read_features(out)[0], vectors)


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".csv", ".h5", ".parquet"])
def test_an_error_while_writing_leaves_no_trace_and_the_old_file(
    tmp_path, vectors, paths, monkeypatch, suffix
):
    out = tmp_path / f"features{suffix}"
    out.write_bytes(b"my earlier results")
    real_writer = export._WRITERS[suffix]

    def fail_halfway(target, *args):
        real_writer(target, *args)  # the whole file is there, under its temporary name...
        with open(target, "ab") as f:
            f.write(b"more")
        raise OSError(28, "No space left on device")  # ...when the disk fills up

    monkeypatch.setitem(export._WRITERS, suffix, fail_halfway)
    with pytest.raises(ExportError, match="No space left") as caught:
        write_features(out, vectors, paths, METADATA, overwrite=True)
    assert str(out) in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == [out.name]
    assert out.read_bytes() == b"my earlier results"


def test_an_unexpected_error_is_an_export_error_too(tmp_path, vectors, paths, monkeypatch):
    def broken(target, *args):
        target.write_bytes(b"partial")
        raise ValueError("cannot convert")

    monkeypatch.setitem(export._WRITERS, ".npz", broken)
    with pytest.raises(ExportError, match="cannot convert"):
        write_features(tmp_path / "f.npz", vectors, paths)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".csv", ".h5", ".parquet"])
def test_a_new_file_gets_the_usual_permissions(tmp_path, vectors, paths, suffix):
    old = os.umask(0o022)
    try:
        out = write_features(tmp_path / f"features{suffix}", vectors, paths)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not the 0o600 of a temporary file


@pytest.mark.parametrize(
    ("name", "message"), [("features.txt", ".npz"), ("missing/features.npz", "does not exist")]
)
def test_bad_destinations(tmp_path, vectors, paths, name, message):
    with pytest.raises(ExportError, match=message):
        write_features(tmp_path / name, vectors, paths)


def test_vectors_and_paths_must_match(tmp_path, vectors, paths):
    with pytest.raises(ExportError, match="3 vectors but 2"):
        write_features(tmp_path / "f.npz", vectors, paths[:2])
