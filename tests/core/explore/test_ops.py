"""The map, similar and duplicates operations, and the feature cache that classification fills."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ModelLoadError
from core.explore.cache import feature_cache
from core.explore.features import ExploreError
from core.ops import OpContext, run_request
from core.ops.classify import ClassifyRequest
from core.ops.duplicates import DuplicatesRequest
from core.ops.feature_map import MapRequest
from core.ops.feature_source import FeatureSource
from core.ops.similar import SimilarRequest
from tests.core.explore.synthetic import knn_accuracy


def test_classifying_keeps_features_so_the_map_needs_no_second_pass(tiny_engine, album):
    ctx = OpContext()
    found = []
    ctx.partial = found.append
    run_request(tiny_engine, ClassifyRequest((str(album),), keep_features=True), ctx)
    # Eight readable images, seven different contents: the copy shares its original's entry.
    assert len(feature_cache(ctx.store)) == 7
    passes = tiny_engine.passes
    result = run_request(tiny_engine, MapRequest(FeatureSource((str(album),))), ctx)
    assert tiny_engine.passes == passes  # no forward pass for the map
    assert len(result.paths) == 8 and result.points.shape == (8, 2)
    assert {p.split("/")[-1] for p in result.paths} >= {"img1.png", "copy_of_img1.png"}
    assert result.color_by == "folder" and set(result.labels) == {"red", "blue"}
    assert [p.split("/")[-1] for p, _ in result.failed] == ["broken.png"]


def test_labels_and_features_from_one_pass_match_the_separate_ones(tiny_engine, album):
    images = [tiny_engine.prepare(np.zeros((40, 40, 3), np.uint8) + i * 60) for i in range(3)]
    labels, vectors = tiny_engine.classify_with_features(images, "gap", "none", top=3)
    assert labels == tiny_engine.classify_arrays(images, top=3, prepared=True)
    np.testing.assert_allclose(
        vectors, tiny_engine.features(images, "gap", "none", True), atol=1e-6
    )


def test_the_copy_is_the_most_similar_image_and_a_duplicate(tiny_engine, album):
    ctx = OpContext()
    source = FeatureSource((str(album),))
    original = str(album / "red" / "img1.png")
    [result] = run_request(tiny_engine, SimilarRequest(source, (original,), top=3), ctx)
    assert result.neighbours[0].path.endswith("copy_of_img1.png")
    assert result.neighbours[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert original not in [n.path for n in result.neighbours]
    found = run_request(tiny_engine, DuplicatesRequest(source, threshold=0.9999), ctx)
    assert [sorted(p.split("/")[-1] for p in g.paths) for g in found.groups] == [
        ["copy_of_img1.png", "img1.png"]
    ]


def test_a_query_outside_the_features_is_computed_with_the_model(tiny_engine, album, tmp_path):
    outside = tmp_path / "query.png"
    outside.write_bytes((album / "blue" / "img4.png").read_bytes())
    source = FeatureSource((str(album / "blue"),))
    [result] = run_request(tiny_engine, SimilarRequest(source, (str(outside),), top=1))
    assert result.neighbours[0].path.endswith("img4.png")


def test_a_features_file_maps_its_classes_apart_without_a_model(features_npz):
    path, labels = features_npz
    result = run_request(None, MapRequest(FeatureSource(file=str(path)), "pca"))
    assert result.color_by == "folder" and result.groups[0] in {"cat", "dog", "fish"}
    codes = np.unique(np.asarray(result.labels), return_inverse=True)[1]
    assert knn_accuracy(result.points, codes) > 0.9


def test_duplicates_and_least_typical_from_a_features_file(features_npz):
    path, _ = features_npz
    request = DuplicatesRequest(FeatureSource(file=str(path)), 0.999, least_typical=2)
    result = run_request(None, request)
    assert [g.paths for g in result.groups] == [("/data/cat/007.jpg", "/data/cat/120.jpg")]
    assert {a.label for a in result.least_typical} == {"cat", "dog", "fish"}
    assert len(result.least_typical) == 6


def test_images_without_a_model_and_a_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(ModelLoadError, match="Choose a model first"):
        run_request(None, MapRequest(FeatureSource((str(tmp_path),))))
    with pytest.raises(ExploreError, match="does not exist"):
        run_request(None, MapRequest(FeatureSource(file=str(tmp_path / "gone.npz"))))


def test_a_map_at_another_layer_and_pooling_says_which_and_keeps_both(tiny_engine, album):
    ctx = OpContext()
    source = FeatureSource((str(album),), layer="conv2", pooling="max")
    result = run_request(tiny_engine, MapRequest(source), ctx)
    assert (result.layer, result.pooling) == ("conv2", "max")
    # The default layer and conv2's max-pooled maps are cached apart: back to conv2, no pass.
    run_request(tiny_engine, MapRequest(FeatureSource((str(album),))), ctx)
    passes = tiny_engine.passes
    again = run_request(tiny_engine, MapRequest(source), ctx)
    assert tiny_engine.passes == passes
    np.testing.assert_allclose(again.points, result.points, atol=1e-5)


def test_the_poolings_offered_for_a_layer():
    from core.engine.pooling import poolings_for

    assert poolings_for((1280,)) == ("none",)
    assert poolings_for((7, 7, 320)) == ("avg", "max", "flatten")
    assert poolings_for((7, 7, 1280)) == ("avg", "max")  # too large to keep whole
