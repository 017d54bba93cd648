"""Nearest neighbours by cosine similarity: exact with BLAS, an inverted-file index beyond.

Exact search is one matrix-vector product over all rows: it reads every vector, about
60 ms for 100,000 vectors of 1,280 dimensions on 2 cores, so above EXACT_LIMIT numbers an
index answers instead. faiss-cpu's IVF index (k-means lists, PROBES of them searched) was
measured against usearch's HNSW on 100,000×1,280 (bench/explore.py, docs/BENCHMARKS.md):
both query in milliseconds with recall near 1, but HNSW took 229 s to build and IVF 12 s.
The index is built once per feature table, on the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.explore.features import normalized
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

EXACT_LIMIT = 20_000 * 1280  # rows × dimensions searched exactly
PROBES = 16  # inverted lists searched per query
_BLOCK = 1024  # query rows per matrix product when every row is a query


@dataclass(frozen=True)
class Neighbour:
    index: int
    similarity: float


class NeighbourIndex:
    """Top-k cosine neighbours among a fixed set of vectors."""

    def __init__(
        self,
        vectors: np.ndarray,
        exact: bool | None = None,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> None:
        self.unit = normalized(vectors)
        n, d = self.unit.shape
        self.exact = exact if exact is not None else n * d <= EXACT_LIMIT
        self._index = None
        if not self.exact:
            self._index = _ivf(self.unit, progress, cancel)

    def __len__(self) -> int:
        return len(self.unit)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, similarities), each len(queries)×k, best first (k ≤ len(self))."""
        q = normalized(np.atleast_2d(queries))
        k = min(k, len(self.unit))
        if self._index is not None:
            similarity, keys = self._index.search(np.ascontiguousarray(q), k)
            return keys.astype(np.int64), similarity.astype(np.float32)
        keys, sims = [], []
        for start in range(0, len(q), _BLOCK):
            block = q[start : start + _BLOCK] @ self.unit.T
            top = np.argpartition(-block, k - 1, axis=1)[:, :k]
            top_sims = np.take_along_axis(block, top, axis=1)
            order = np.argsort(-top_sims, axis=1, kind="stable")
            keys.append(np.take_along_axis(top, order, axis=1))
            sims.append(np.take_along_axis(top_sims, order, axis=1))
        return np.concatenate(keys), np.concatenate(sims)

    def similar_to(self, row: int, k: int) -> list[Neighbour]:
        """The k rows most similar to row, itself excluded."""
        keys, sims = self.search(self.unit[row], k + 1)
        found = [Neighbour(int(i), float(s)) for i, s in zip(keys[0], sims[0], strict=True)]
        return [n for n in found if n.index != row][:k]


def _ivf(unit: np.ndarray, progress, cancel):
    """A faiss inner-product IVF index over unit vectors, added in chunks so it reports
    and cancels; about 4·sqrt(n) lists."""
    import faiss

    n, d = unit.shape
    lists = int(min(4096, max(16, 4 * np.sqrt(n))))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, lists, faiss.METRIC_INNER_PRODUCT)
    progress(0, n, "Indexing features for similarity search…")
    index.train(unit)  # faiss samples at most 256 vectors per list for its k-means
    chunk = 10_000
    for start in range(0, n, chunk):
        cancel.raise_if_cancelled()
        stop = min(start + chunk, n)
        index.add(unit[start:stop])
        progress(stop, n, "Indexing features for similarity search…")
    index.nprobe = PROBES
    return index
