"""Dataset cleaning: near-duplicate groups, the least typical images of each class, and
clusters to colour a map by when the images carry no labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.explore.features import normalized
from core.explore.neighbours import NeighbourIndex
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

DEFAULT_THRESHOLD = 0.95  # cosine similarity: re-encodes, resizes, small crops of one photo
_NEIGHBOURS = 10  # per image when an index (not exact search) finds the pairs
_BLOCK = 1024


@dataclass(frozen=True)
class DuplicateGroup:
    members: tuple[int, ...]  # rows, in order
    similarity: float  # the lowest similarity of a linked pair in the group


@dataclass(frozen=True)
class Atypical:
    label: str
    index: int
    similarity: float  # to its class's mean direction: lower is less typical


def duplicate_groups(
    vectors: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    index: NeighbourIndex | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> list[DuplicateGroup]:
    """Groups of images whose features are at least threshold cosine-similar, linked
    transitively; largest groups first."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(vectors)
    index = index or NeighbourIndex(vectors)
    rows, cols, sims = [], [], []
    for start in range(0, n, _BLOCK):
        cancel.raise_if_cancelled()
        stop = min(start + _BLOCK, n)
        if index.exact:
            block = index.unit[start:stop] @ index.unit.T
            i, j = np.nonzero(block >= threshold)
            s = block[i, j]
            i = i + start
        else:
            keys, found = index.search(index.unit[start:stop], _NEIGHBOURS + 1)
            keep = found >= threshold
            i = np.nonzero(keep)[0] + start
            j, s = keys[keep], found[keep]
        pair = i < j
        rows.append(i[pair])
        cols.append(j[pair])
        sims.append(s[pair])
        progress(stop, n, "Looking for near-duplicates…")
    rows, cols, sims = np.concatenate(rows), np.concatenate(cols), np.concatenate(sims)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _count, component = connected_components(graph, directed=False)
    groups = []
    linked = np.zeros(n, bool)
    linked[rows] = linked[cols] = True
    for c in np.unique(component[linked]):
        members = np.nonzero(component == c)[0]
        in_group = component[rows] == c
        groups.append(DuplicateGroup(tuple(int(m) for m in members), float(sims[in_group].min())))
    groups.sort(key=lambda g: (-len(g.members), g.members))
    return groups


def least_typical(
    vectors: np.ndarray, labels: list[str] | None, per_class: int = 5
) -> list[Atypical]:
    """The per_class images of each label least like their class's mean direction.

    Without labels the whole set is one class. Classes of one image are skipped.
    """
    unit = normalized(vectors)
    labels = labels if labels is not None else ["all"] * len(unit)
    found = []
    names = np.asarray(labels)
    for label in sorted(set(labels)):
        rows = np.nonzero(names == label)[0]
        if len(rows) < 2:
            continue
        centre = normalized(unit[rows].mean(axis=0, keepdims=True))[0]
        similarity = unit[rows] @ centre
        for k in np.argsort(similarity, kind="stable")[:per_class]:
            found.append(Atypical(label, int(rows[k]), float(similarity[k])))
    return found


def clusters(vectors: np.ndarray, count: int | None = None, seed: int = 0) -> list[str]:
    """A cluster name per image ("cluster 1", …) by k-means on the unit vectors' first
    principal components; count defaults to about sqrt(n/2), between 2 and 12."""
    from sklearn.cluster import KMeans

    from core.explore.layout import PRE_PCA_DIMS, pca

    unit = normalized(vectors)
    n = len(unit)
    if n < 2:
        return ["cluster 1"] * n
    count = count or int(np.clip(round(np.sqrt(n / 2)), 2, 12))
    count = min(count, n)
    reduced = pca(unit, min(PRE_PCA_DIMS, unit.shape[1]), seed)
    found = KMeans(n_clusters=count, n_init=3, random_state=seed).fit_predict(reduced)
    # Number clusters by size, largest first, so colours and names stay put between runs.
    order = {c: rank for rank, c in enumerate(np.argsort(-np.bincount(found), kind="stable"))}
    return [f"cluster {order[c] + 1}" for c in found]
