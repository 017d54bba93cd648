"""ImageNet class names ship with ConvLens and decode exactly as Keras does, offline."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from core.models.labels import (
    Label,
    as_probabilities,
    imagenet_class_index,
    imagenet_ids,
    imagenet_names,
    top_k,
)
from resources import resource_path

KERAS_CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


def test_class_index_file_is_the_one_keras_downloads():
    data = resource_path("imagenet_class_index.json").read_bytes()
    assert hashlib.md5(data).hexdigest() == KERAS_CLASS_INDEX_MD5


def test_class_index_has_the_thousand_classes_in_order():
    index = imagenet_class_index()
    assert sorted(index) == list(range(1000))
    assert index[0] == ("n01440764", "tench")
    assert index[281] == ("n02123045", "tabby")
    assert index[967] == ("n07920052", "espresso")
    assert len(set(imagenet_ids())) == 1000


def test_top_k_matches_keras_decode_predictions(monkeypatch):
    from keras.src.applications import imagenet_utils
    from keras.src.utils import file_utils

    # decode_predictions fetches the class index with get_file, checking this same md5;
    # hand it the shipped copy instead of the network.
    def shipped_copy(fname, origin, cache_subdir=None, file_hash=None, **_):
        assert fname == "imagenet_class_index.json"
        assert file_hash == KERAS_CLASS_INDEX_MD5
        return str(resource_path("imagenet_class_index.json"))

    monkeypatch.setattr(file_utils, "get_file", shipped_copy)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    probs = np.random.default_rng(0).dirichlet(np.ones(1000), size=3).astype(np.float32)

    expected = imagenet_utils.decode_predictions(probs, top=5)
    ours = [top_k(p, 5, imagenet_names(), imagenet_ids()) for p in probs]

    for keras_row, our_row in zip(expected, ours, strict=True):
        assert [(wnid, name) for wnid, name, _ in keras_row] == [
            (label.class_id, label.label) for label in our_row
        ]
        assert [float(score) for *_, score in keras_row] == pytest.approx(
            [label.probability for label in our_row]
        )


def test_top_k_is_best_first_and_ties_keep_output_order():
    probs = np.array([0.1, 0.3, 0.05, 0.3, 0.25])
    labels = top_k(probs, 3, ["a", "b", "c", "d", "e"])
    assert [label.label for label in labels] == ["b", "d", "e"]
    assert [label.index for label in labels] == [1, 3, 4]
    assert labels[0] == Label(label="b", class_id="b", index=1, probability=0.3)


def test_top_k_never_asks_for_more_than_there_are():
    assert len(top_k(np.array([0.2, 0.8]), 5, ["x", "y"])) == 2
    assert len(top_k(np.array([0.2, 0.8]), 0, ["x", "y"])) == 1


def test_logits_become_probabilities_but_probabilities_stay():
    logits = np.array([[2.0, -1.0, 0.5]])
    probs = as_probabilities(logits)
    assert probs.sum() == pytest.approx(1.0)
    assert np.argmax(probs) == 0
    softmaxed = np.array([[0.7, 0.2, 0.1]])
    np.testing.assert_array_equal(as_probabilities(softmaxed), softmaxed)


def test_a_single_sigmoid_unit_is_read_as_two_classes():
    from core.models.labels import as_probabilities, top_k

    probabilities = as_probabilities(np.array([[0.8]]))
    np.testing.assert_allclose(probabilities, [[0.2, 0.8]])
    best = top_k(probabilities[0], 2, ["cat", "dog"])
    assert [(label.label, round(label.probability, 3)) for label in best] == [
        ("dog", 0.8),
        ("cat", 0.2),
    ]
    logits = as_probabilities(np.array([[0.0], [3.0]]))
    np.testing.assert_allclose(logits[:, 1], [0.5, 1 / (1 + np.exp(-3.0))])
