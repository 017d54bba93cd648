"""The .h5 feature file, read with h5py itself (not with ConvLens' own reader): what any HDF5
tool sees — vectors, paths, failures, and the provenance as attributes."""

from __future__ import annotations

import json

import h5py
import numpy as np

from core.cli.main import main
from core.models.metadata import write_metadata
from tests.image_corpus import write_noise, write_truncated
from tests.model_factory import tiny_cnn


def test_convlens_extract_writes_an_hdf5_file_h5py_reads(tmp_path, capsys):
    photos = tmp_path / "photos"
    for i, name in enumerate(["a.png", "b.jpg", "c.png"], start=1):
        write_noise(photos / name, size=(40, 30), seed=i)
    write_truncated(photos / "d.png")
    model = tmp_path / "tiny.keras"
    tiny_cnn(classes=3, size=32).save(model)
    write_metadata(model, {"class_names": ["x", "y", "z"], "preprocess": "tf"})
    out = tmp_path / "features.h5"
    argv = ["extract", "--model", str(model), "--layer", "conv2", "--pool", "max"]
    status = main([*argv, "--resize", "squash", "--out", str(out), str(photos)])
    _, err = capsys.readouterr()
    assert status == 1, err  # one unreadable photo; the others are written

    with h5py.File(out, "r") as f:
        assert set(f) == {"vectors", "paths", "failed_paths", "failed_errors"}
        vectors = f["vectors"][()]
        assert vectors.dtype == np.float32 and vectors.shape == (3, 16)
        assert np.isfinite(vectors).all() and (vectors >= 0).all()  # max-pooled ReLU maps
        names = [p.decode() for p in f["paths"][()]]
        assert names == [str(photos / n) for n in ("a.png", "b.jpg", "c.png")]
        assert [p.decode() for p in f["failed_paths"][()]] == [str(photos / "d.png")]
        assert "truncated or damaged" in f["failed_errors"][0].decode()
        attrs = dict(f.attrs)
    assert attrs["model"] == "tiny.keras" and attrs["layer"] == "conv2"
    assert attrs["pooling"] == "max" and attrs["resize"] == "squash"
    assert attrs["preprocessing"] == "tf"
    assert json.loads(attrs["input_size"]) == [32, 32]
    whole = json.loads(attrs["metadata"])
    assert whole["layer"] == "conv2" and whole["input_size"] == [32, 32]

    # The same vectors as the .npz export of the same run: HDF5 lost nothing.
    npz = tmp_path / "features.npz"
    assert main([*argv, "--resize", "squash", "--out", str(npz), str(photos)]) == 1
    with np.load(npz) as data:
        np.testing.assert_array_equal(data["vectors"], vectors)
