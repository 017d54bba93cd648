"""Maps, neighbours and dataset cleaning on feature sets whose classes are known."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled
from core.explore.cleaning import clusters, duplicate_groups, least_typical
from core.explore.features import ExploreError, folder_labels
from core.explore.layout import layout, pca
from core.explore.neighbours import NeighbourIndex
from core.progress import CancelToken
from tests.core.explore.synthetic import clustered, knn_accuracy

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def dataset():
    return clustered(classes=3, per_class=40, dims=64)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_the_map_separates_known_classes(dataset, method):
    vectors, labels = dataset
    points = layout(vectors, method, seed=0)
    assert points.shape == (len(vectors), 2)
    assert knn_accuracy(points, labels) > 0.9  # chance is 1/3


def test_umap_separates_known_classes_and_reports_its_epochs(dataset):
    vectors, labels = dataset
    reports = []
    points = layout(vectors, "umap", seed=0, progress=lambda d, t, m: reports.append((d, t, m)))
    assert knn_accuracy(points, labels) > 0.9
    counted = [(d, t) for d, t, m in reports if m == "Computing UMAP…" and t]
    assert counted and counted[-1][0] == counted[-1][1]  # the epochs ran to the end

    # Cancel stops it inside the epoch loop (umap-learn itself has no way to stop).
    token = CancelToken()

    def cancel_at_first_epoch(done, total, message):
        if message == "Computing UMAP…":
            token.cancel()

    with pytest.raises(Cancelled):
        layout(vectors, "umap", progress=cancel_at_first_epoch, cancel=token)


def test_a_umap_map_does_not_load_tensorflow():
    """umap-learn imports TensorFlow for a class the map never uses: 3.7 s for nothing when
    `convlens map features.npz` or the window has not loaded TensorFlow."""
    script = (
        "import sys, numpy as np\n"
        "from core.explore.layout import layout\n"
        "points = layout(np.random.default_rng(0).random((60, 8)), 'umap')\n"
        "print(points.shape, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["(60,", "2)", "False", "False"], done.stderr


def test_a_cancelled_tsne_stops(dataset):
    token = CancelToken()

    def cancel_at_first_report(done, total, message):
        if total:
            token.cancel()

    with pytest.raises(Cancelled):
        layout(dataset[0], "tsne", progress=cancel_at_first_report, cancel=token)


def test_pca_matches_the_exact_principal_components(dataset):
    vectors = dataset[0]
    centred = vectors - vectors.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    exact = u[:, :2] * s[:2]
    found = pca(vectors, 2)
    for i in range(2):  # the same up to sign
        assert abs(np.corrcoef(found[:, i], exact[:, i])[0, 1]) > 0.999


def test_an_unknown_method_or_one_image_is_a_clear_error(dataset):
    with pytest.raises(ExploreError, match="choose one of pca, umap, tsne"):
        layout(dataset[0], "mds")
    with pytest.raises(ExploreError, match="at least two images"):
        layout(dataset[0][:1], "pca")


@pytest.mark.parametrize("exact", [True, False])
def test_an_images_neighbours_include_its_near_duplicate(dataset, exact):
    vectors = dataset[0].copy()
    rng = np.random.default_rng(1)
    copy = vectors[7] * 1.02 + rng.normal(0, 0.01, vectors.shape[1]).astype(np.float32)
    vectors = np.vstack([vectors, copy])  # row 120: a re-encoded copy of row 7
    index = NeighbourIndex(vectors, exact=exact)
    found = index.similar_to(7, k=3)
    assert found[0].index == 120 and found[0].similarity > 0.99
    assert 7 not in [n.index for n in found]


def test_the_index_agrees_with_exact_search(dataset):
    vectors = dataset[0]
    exact = NeighbourIndex(vectors, exact=True).search(vectors[:20], 5)[0]
    approx = NeighbourIndex(vectors, exact=False).search(vectors[:20], 5)[0]
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(exact, approx, strict=True)])
    assert recall > 0.9


def test_near_duplicates_are_grouped_and_nothing_else(dataset):
    vectors = dataset[0].copy()
    copies = [vectors[3] * 0.98, vectors[3] + 0.01, vectors[50] * 1.01]
    vectors = np.vstack([vectors, copies])  # rows 120, 121 copy 3; row 122 copies 50
    groups = duplicate_groups(vectors, threshold=0.99)
    assert [g.members for g in groups] == [(3, 120, 121), (50, 122)]
    assert all(g.similarity >= 0.99 for g in groups)


def test_least_typical_finds_the_mislabelled_image(dataset):
    vectors, labels = dataset
    names = [f"class{label}" for label in labels]
    names[5] = "class2"  # a class-0 image filed under class 2
    found = least_typical(vectors, names, per_class=1)
    assert {(a.label, a.index) for a in found if a.label == "class2"} == {("class2", 5)}


def test_clusters_recover_the_classes(dataset):
    vectors, labels = dataset
    found = np.array(clusters(vectors, count=3))
    for label in range(3):  # each class falls in one cluster
        assert len(set(found[labels == label])) == 1
    assert len(set(found)) == 3


def test_folders_are_labels_only_when_there_are_several():
    assert folder_labels(["a/cat/1.jpg", "a/dog/2.jpg"]) == ["cat", "dog"]
    assert folder_labels(["a/1.jpg", "a/2.jpg"]) is None
