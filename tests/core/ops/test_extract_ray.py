"""convlens extract --engine ray: Ray Data in local mode gives the local engine's vectors."""

from __future__ import annotations

import numpy as np
import pytest
import ray  # make test installs convlens[ray] (see the Makefile)

from core.cli.main import main
from core.io.export import read_failures, read_features
from tests.image_corpus import write_noise, write_truncated


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_gives_the_local_engines_vectors_as_parquet_shards(local_ray, tmp_path, capsys):
    photos = tmp_path / "photos"
    for i in range(5):
        write_noise(photos / f"p{i}.jpg", (96, 72), seed=i)
    write_truncated(photos / "broken.png")
    local, shards = tmp_path / "local.npz", tmp_path / "ray.parquet"
    assert main(["extract", "-o", str(local), str(photos)]) == 1  # the broken file
    argv = ["extract", "--engine", "ray", "--workers", "1", "-o", str(shards), str(photos)]
    assert main(argv) == 1
    assert "Wrote 5 vectors of (1280,)" in capsys.readouterr().err

    assert shards.is_dir() and any(shards.glob("*.parquet"))
    want, want_paths, want_metadata = read_features(local)
    got, got_paths, metadata = read_features(shards)
    assert got_paths == want_paths  # in the listing's order
    assert np.abs(got - want).max() <= 1e-6
    assert metadata == want_metadata
    assert [p for p, _ in read_failures(shards)] == [str(photos / "broken.png")]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_ray_wants_a_parquet_folder(tmp_path, capsys):
    argv = ["extract", "--engine", "ray", "-o", str(tmp_path / "f.npz"), str(tmp_path)]
    assert main(argv) == 2
    assert "end it in .parquet" in capsys.readouterr().err
