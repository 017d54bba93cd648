"""Classification jobs sized to the model's speed: short for a slow model, so a layer asked
for meanwhile waits little; longer for a fast one, so decoding keeps up with the model."""

from __future__ import annotations

import pytest

from gui.main import chunk_sizes
from gui.main.chunk_sizes import JOB_SECONDS, LARGEST, SMALLEST, ChunkSizes


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(chunk_sizes.time, "monotonic", lambda: now[0])
    return now


def test_a_batch_starts_small_and_grows_with_a_fast_model(clock):
    sizes = ChunkSizes()
    sizes.batch_started()
    assert sizes.size == SMALLEST  # the first results show quickly
    clock[0] += 0.05  # 8 photos in 50 ms: 160 photos/s
    sizes.chunk_ended(SMALLEST)
    assert sizes.size == int(160 * JOB_SECONDS)
    clock[0] += 0.01  # far faster still: capped
    sizes.chunk_ended(sizes.size)
    assert sizes.size == LARGEST


def test_a_slow_model_keeps_jobs_small(clock):
    sizes = ChunkSizes()
    sizes.batch_started()
    clock[0] += 2.0  # 8 photos in 2 s (a large network on TensorFlow)
    sizes.chunk_ended(SMALLEST)
    assert sizes.size == SMALLEST
    sizes.batch_started()  # and a new batch starts small again
    assert sizes.size == SMALLEST
