"""The extract operation streams rows to disk and can be resumed after an interruption."""

from __future__ import annotations

import numpy as np
import pytest

from core.engine.engine import Engine
from core.errors import Cancelled, ExportError
from core.io.export import read_failures, read_features
from core.io.run_folder import RunFolder
from core.models.loading import LoadedModel
from core.ops import OpContext, run_request
from core.ops.extract import ExtractRequest, UnfinishedRunError
from core.progress import CancelToken
from tests.image_corpus import write_noise, write_truncated
from tests.model_factory import tiny_cnn

FORMATS = [".npz", ".npy", ".csv", ".h5", ".parquet"]


@pytest.fixture(scope="module")
def engine():
    model = tiny_cnn(classes=3, size=32)
    return Engine(LoadedModel(model, "tiny", "file", (32, 32), "tf", ["a", "b", "c"]))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Twenty-one photos, one of them broken, in a folder and a subfolder."""
    root = tmp_path_factory.mktemp("photos")
    for i in range(20):
        write_noise(root / ("sub" if i >= 15 else "") / f"img{i:02d}.png", (24, 20), seed=i)
    write_truncated(root / "img07b.png")
    return root


def extract(engine, folder, out, cancel_after=None, **options):
    token = CancelToken()

    def progress(done, total, message=""):
        if cancel_after is not None and done >= cancel_after:
            token.cancel()

    request = ExtractRequest((str(folder),), out, layer="conv2", batch_size=2, **options)
    return run_request(engine, request, OpContext(progress=progress, cancel=token))


@pytest.mark.parametrize("suffix", FORMATS)
def test_an_interrupted_run_resumed_gives_the_same_file(engine, folder, tmp_path, suffix):
    whole = tmp_path / f"whole{suffix}"
    extract(engine, folder, whole, checkpoint=4)
    out = tmp_path / f"resumed{suffix}"
    with pytest.raises(Cancelled):
        extract(engine, folder, out, cancel_after=9, checkpoint=4, keep_unfinished=True)
    assert not out.exists()
    assert RunFolder(out).done() == 8  # two shards of four images kept

    result = extract(engine, folder, out, checkpoint=4, resume=True)
    assert result.resumed == 8 and result.count == 20
    got, want = read_features(out), read_features(whole)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1:] == want[1:]
    if suffix != ".h5":
        assert out.read_bytes() == whole.read_bytes()
    assert not RunFolder(out).folder.exists()  # the shards are gone once the file is written


@pytest.mark.parametrize("suffix", [".npz", ".parquet"])
def test_streamed_vectors_are_the_engines_and_failures_are_in_the_file(
    engine, folder, tmp_path, suffix
):
    out = tmp_path / f"f{suffix}"
    result = extract(engine, folder, out, checkpoint=3)
    expected = engine.extract_features([folder], layer="conv2", pooling="avg")
    vectors, paths, metadata = read_features(out)
    np.testing.assert_allclose(vectors, expected.vectors, atol=1e-6)
    assert paths == [str(p) for p in expected.paths]
    assert metadata["layer"] == "conv2" and metadata["pooling"] == "avg"
    assert [p for p, _ in read_failures(out)] == [str(folder / "img07b.png")]
    assert [p for p, _ in result.failed] == [str(folder / "img07b.png")]


def test_an_unfinished_run_must_be_resumed_or_restarted(engine, folder, tmp_path):
    out = tmp_path / "f.npy"
    with pytest.raises(Cancelled):
        extract(engine, folder, out, cancel_after=5, checkpoint=2, keep_unfinished=True)
    with pytest.raises(UnfinishedRunError, match="--resume.*--restart"):
        extract(engine, folder, out)
    with pytest.raises(ExportError, match="layer: 'conv2' then, 'gap' now"):
        request = ExtractRequest((str(folder),), out, layer="gap", batch_size=2, resume=True)
        run_request(engine, request, OpContext())
    assert RunFolder(out).exists()  # a wrong resume keeps the work for the right one
    result = extract(engine, folder, out, restart=True)
    assert result.resumed == 0 and np.load(out).shape == (20, 16)


def test_a_resume_notices_when_the_folder_changed(engine, folder, tmp_path):
    photos = tmp_path / "photos"
    for i in range(6):
        write_noise(photos / f"p{i}.png", (20, 20), seed=i)
    out = tmp_path / "f.npz"
    with pytest.raises(Cancelled):
        extract(engine, photos, out, cancel_after=3, checkpoint=2, keep_unfinished=True)
    (photos / "p0.png").unlink()
    with pytest.raises(ExportError, match="images changed.*--restart"):
        extract(engine, photos, out, resume=True)


def test_a_cancelled_run_leaves_nothing_unless_asked(engine, folder, tmp_path):
    out = tmp_path / "f.csv"
    with pytest.raises(Cancelled):
        extract(engine, folder, out, cancel_after=5, checkpoint=2)
    assert list(tmp_path.iterdir()) == []
