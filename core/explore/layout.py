"""Laying feature vectors out in 2-D: PCA (numpy, instant), UMAP (umap-learn), t-SNE (openTSNE).

Vectors are compared by cosine: rows are scaled to unit length first. UMAP and t-SNE start
from the first PCA components (at most 50), which keeps their neighbour search fast at
1,280 dimensions and changes little. Both libraries are imported here, inside the
functions, so only the thread that computes a map pays for numba's import and compilation.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings

import numpy as np

from core.explore.features import ExploreError, normalized
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

METHODS = {
    "pca": "PCA: instant, keeps the largest differences",
    "umap": "UMAP: neighbourhoods and clusters (umap-learn)",
    "tsne": "t-SNE: neighbourhoods (openTSNE)",
}
NAMES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}  # as people write them
PRE_PCA_DIMS = 50
NEIGHBOUR_BLOCK = 4096  # rows searched between progress reports


def pca(vectors: np.ndarray, components: int = 2, seed: int = 0) -> np.ndarray:
    """The first principal components of vectors (N×components), by randomized SVD.

    Halko et al.'s range finder with two power iterations: a few thin matrix products,
    so 10,000 vectors of 1,280 dimensions take a fraction of a second.
    """
    x = np.asarray(vectors, dtype=np.float32)
    x = x - x.mean(axis=0)
    n, d = x.shape
    k = min(components, n, d)
    rank = min(k + 10, n, d)
    rng = np.random.default_rng(seed)
    q = x @ rng.standard_normal((d, rank), dtype=np.float32)
    for _ in range(2):
        q, _ = np.linalg.qr(q)
        q, _ = np.linalg.qr(x.T @ q)
        q = x @ q
    q, _ = np.linalg.qr(q)
    u, s, _vt = np.linalg.svd(q.T @ x, full_matrices=False)
    scores = (q @ u[:, :k]) * s[:k]
    # Signs are arbitrary: make the largest loading of each component positive, so the
    # same data draws the same way every time.
    signs = np.sign(scores[np.abs(scores).argmax(axis=0), range(k)])
    scores *= np.where(signs == 0, 1, signs)
    if k < components:  # fewer points or dimensions than components
        scores = np.hstack([scores, np.zeros((n, components - k), np.float32)])
    return scores.astype(np.float32)


def layout(
    vectors: np.ndarray,
    method: str = "pca",
    seed: int = 0,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> np.ndarray:
    """Each vector's place on a 2-D map (N×2 float32), by method (see METHODS)."""
    if method not in METHODS:
        raise ExploreError(f"Unknown map method {method!r}: choose one of {', '.join(METHODS)}.")
    if len(vectors) < 2:
        raise ExploreError("A map needs at least two images.")
    x = normalized(vectors)
    if method == "pca" or len(x) < 5:  # too few points for neighbourhoods
        return pca(x, 2, seed)
    progress(0, 0, "Reducing to 50 dimensions…")
    reduced = pca(x, min(PRE_PCA_DIMS, x.shape[1]), seed) if x.shape[1] > PRE_PCA_DIMS else x
    cancel.raise_if_cancelled()
    run = _umap if method == "umap" else _tsne
    points = run(reduced, seed, progress, cancel)
    return np.asarray(points, dtype=np.float32)


def _tsne(x, seed, progress, cancel) -> np.ndarray:
    progress(0, 0, "Loading openTSNE…")
    from openTSNE import TSNE

    n = len(x)
    total = [0]

    def tick(iteration, error, embedding) -> bool:
        cancel.raise_if_cancelled()
        total[0] += 25
        progress(min(total[0], 750), 750, "Computing t-SNE…")
        return False

    tsne = TSNE(
        n_components=2,
        perplexity=min(30.0, max(1.0, (n - 1) / 3.0)),
        initialization="pca",
        metric="euclidean",  # on unit-length rows: the cosine order of neighbours
        # Barnes-Hut below a few thousand points, where the FFT method's fixed cost
        # dominates (17 s against 2 s for 120 points); one thread, as openTSNE's threads
        # spin-wait on a busy 2-core machine (16 s against 2 s).
        negative_gradient_method="bh" if n < 5000 else "fft",
        n_jobs=1,
        random_state=seed,
        callbacks=tick,
        callbacks_every_iters=25,
        verbose=False,
    )
    progress(0, 750, "Computing t-SNE…")
    return np.asarray(tsne.fit(x))


class _TqdmTicks:
    """A file for umap-learn's tqdm bar: turns its "n/total" writes into progress reports
    and raises Cancelled from inside the epoch loop when the user cancels."""

    def __init__(self, progress, cancel) -> None:
        self.progress, self.cancel = progress, cancel

    def write(self, text: str) -> None:
        self.cancel.raise_if_cancelled()
        found = re.search(r"(\d+)/(\d+)", text)
        if found:
            self.progress(int(found[1]), int(found[2]), "Computing UMAP…")

    def flush(self) -> None:
        pass


def _umap(x, seed, progress, cancel) -> np.ndarray:
    progress(0, 0, "Loading UMAP (compiling on first use)…")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's and umap's own deprecation chatter
        umap = _import_umap()
        neighbours = max(2, min(15, len(x) - 1))
        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=neighbours,
            # Exact neighbours from faiss, in a second at 10,000 points, instead of
            # pynndescent's approximate search and its 20-30 s of numba compilation.
            precomputed_knn=(*_nearest(x, neighbours, progress, cancel), None),
            # umap-learn's own choice above 10,000 points: 200 epochs, not 500 (2.5× less
            # work for a layout that has settled); PCA's start instead of a spectral one,
            # whose eigen-solver is slow on a large graph.
            n_epochs=200,
            init="pca" if len(x) > 4 else "random",
            random_state=seed,
            tqdm_kwds={
                "disable": False,
                "file": _TqdmTicks(progress, cancel),
                "bar_format": "{n}/{total}",
                "mininterval": 0.2,
            },
        )
        return reducer.fit_transform(x)


def _nearest(x: np.ndarray, k: int, progress, cancel) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows (itself first) and their Euclidean distances, searched in
    blocks so that progress shows and Cancel stops it."""
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    indices = np.empty((len(x), k), np.int32)
    squared = np.empty((len(x), k), np.float32)
    for start in range(0, len(x), NEIGHBOUR_BLOCK):
        cancel.raise_if_cancelled()
        progress(start, len(x), "Finding neighbours for UMAP…")
        block = slice(start, start + NEIGHBOUR_BLOCK)
        squared[block], indices[block] = index.search(x[block], k)
    return indices, np.sqrt(np.maximum(squared, 0))


def _import_umap():
    """umap-learn, without TensorFlow and with its compiled functions kept between runs.

    Its package imports TensorFlow for ParametricUMAP, which the map never uses (3.7 s when
    TensorFlow is not loaded yet), and numba compiles its functions again in every process
    (8 s) because umap-learn does not ask numba to cache them: this does.
    """
    sys.modules.setdefault("umap.parametric_umap", None)  # its ImportError is handled
    import umap
    from numba.core.registry import CPUDispatcher

    modules = ("umap.umap_", "umap.layouts", "umap.utils", "umap.distances")
    for module in filter(None, map(sys.modules.get, modules)):
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher):
                with contextlib.suppress(Exception):  # numba cannot cache every function
                    value.enable_caching()
    return umap
