"""Transfer learning on a real dataset (scikit-image textures) with the real pretrained base.

The expensive runs are module-scoped fixtures shared by several tests; the points that do
not need accuracy use a small input size.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import keras
import numpy as np
import pytest

from core.engine.engine import Engine
from core.errors import Cancelled, ConvLensError, ExportError
from core.io.images import fit_to_input, load_image
from core.models import metadata as model_metadata
from core.models.builtin import builtin_model_file
from core.models.layers import layer_tree
from core.models.loading import load_model_file
from core.models.preprocessing import PREPROCESS_MODES, preprocess
from core.models.tflite_export import export_tflite, labels_path, run_tflite
from core.progress import CancelToken
from core.training.config import TrainConfig, TrainConfigError
from core.training.evaluation import evaluate
from core.training.heads import (
    freeze_base,
    frozen_layers_in_inference,
    preprocessing_layer,
    trainable_names,
)
from core.training.trainer import save_model, train
from tests.training_data import make_texture_dataset

ROOT = Path(__file__).resolve().parents[3]
CLASSES = ["brick", "grass", "gravel"]
BASE = "efficientnet_lite0"  # the built-in base's layer name inside a trained classifier


@pytest.fixture(scope="module")
def textures(tmp_path_factory):
    return make_texture_dataset(tmp_path_factory.mktemp("textures"))


@pytest.fixture(scope="module")
def config(textures):
    return TrainConfig(textures.train_dir, val_dir=textures.val_dir, epochs=5, seed=0)


@pytest.fixture(scope="module")
def pretrained(config):
    """The headline recipe: built-in pretrained base, frozen, at its own 224×224."""
    return train(config)


@pytest.fixture(scope="module")
def saved(pretrained, tmp_path_factory):
    return save_model(pretrained, tmp_path_factory.mktemp("saved") / "textures.keras")


def _pixels(paths, size) -> np.ndarray:
    return np.stack([fit_to_input(load_image(p), size) for p in paths]).astype(np.float32)


def _val_paths(textures) -> list[Path]:
    return sorted(textures.val_dir.rglob("*.*"))


# -- accuracy and transfer -------------------------------------------------------------


def test_a_frozen_pretrained_base_learns_the_textures(pretrained):
    assert pretrained.fast_path
    assert pretrained.evaluation.accuracy >= 0.95
    assert pretrained.class_names == CLASSES
    losses = [log.loss for log in pretrained.history]
    assert losses[-1] < losses[0] / 2
    assert pretrained.evaluation.confusion.sum() == 30
    assert all(p >= 0.9 for p in pretrained.evaluation.precision)
    assert not pretrained.cancelled


def test_the_same_head_on_a_random_base_does_clearly_worse(config, pretrained):
    random_base = train(replace(config, weights="none"))
    assert random_base.evaluation.accuracy <= pretrained.evaluation.accuracy - 0.3


def test_two_stage_fine_tuning_converges_and_changes_only_the_top(config):
    result = train(
        replace(config, input_size=96, epochs=3, fine_tune_top=20, fine_tune_epochs=3, patience=0)
    )
    stages = [log.stage for log in result.history]
    assert stages == [1, 1, 1, 2, 2, 2]
    fine = [log for log in result.history if log.stage == 2]
    assert fine[-1].loss < result.history[0].loss
    assert fine[-1].val_accuracy >= 0.8  # chance is 0.33
    assert result.evaluation.accuracy >= 0.8

    base = result.loaded.model.get_layer(BASE)
    reference = keras.saving.load_model(builtin_model_file(), compile=False)
    top = [layer.name for layer in base.layers[-20:]]

    def changed(name):
        ours, theirs = base.get_layer(name).get_weights(), reference.get_layer(name).get_weights()
        return any(not np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))

    convs = [n for n in top if n.endswith("conv")]
    assert convs and all(changed(n) for n in convs)
    # Below the top 20, and every BatchNormalization everywhere, stay pretrained.
    assert not changed("block5a_expand_conv")
    assert not any(changed(n) for n in top if n.endswith("bn"))


def test_a_saved_model_file_can_be_the_base(saved, config):
    result = train(replace(config, model=str(saved)))
    assert result.base_name == f"{saved.name} cut at {BASE}"
    assert result.base_preprocess == "none"  # the file's first layer preprocesses
    assert result.evaluation.accuracy >= 0.95
    with pytest.raises(TrainConfigError, match="no layer 'nowhere'"):
        train(replace(config, model=str(saved), cut_layer="nowhere"))


# -- training behaviour ----------------------------------------------------------------


def test_features_are_computed_once_per_session(config, pretrained):
    reports = []
    train(replace(config, epochs=1, lr=0.01), progress=lambda *r: reports.append(r))
    features = [(done, total) for done, total, msg in reports if msg.startswith("Computing")]
    assert features and all(done == total for done, total in features)


def test_early_stopping_restores_the_best_epoch(textures, tmp_path):
    """With the validation labels rotated, learning the classes makes validation worse."""
    swapped = tmp_path / "swapped"
    for source, target in zip(CLASSES, CLASSES[1:] + CLASSES[:1], strict=True):
        shutil.copytree(textures.val_dir / source, swapped / target)
    result = train(TrainConfig(textures.train_dir, val_dir=swapped, epochs=30, patience=2, lr=0.01))
    assert result.stopped_early
    assert len(result.history) == result.best_epoch + 2
    best = result.history[result.best_epoch - 1]
    assert best.val_loss == min(log.val_loss for log in result.history)
    assert result.evaluation.accuracy == pytest.approx(best.val_accuracy)


def test_cancel_keeps_the_best_complete_epoch(config):
    token = CancelToken()
    after_cancel = []

    def on_batch(log):
        if token.cancelled:
            after_cancel.append(log)
        if log.epoch == 3 and log.batch == 1:
            token.cancel()

    result = train(replace(config, epochs=10, patience=0), cancel=token, on_batch=on_batch)
    assert result.cancelled
    assert [log.epoch for log in result.history] == [1, 2]
    assert after_cancel == []  # stopped right after the batch it was cancelled in
    best = result.history[result.best_epoch - 1]
    assert result.evaluation.accuracy == pytest.approx(best.val_accuracy)


def test_cancel_before_any_epoch_finishes_raises(config):
    token = CancelToken()
    with pytest.raises(Cancelled):
        train(config, cancel=token, on_batch=lambda log: token.cancel())


def test_augmented_training_runs_on_images_and_keeps_augmentation_out_of_the_model(config):
    token = CancelToken()
    epochs, batches = [], []
    result = train(
        replace(config, input_size=96, epochs=3, augment=("flip", "rotation", "zoom", "contrast")),
        cancel=token,
        on_epoch=epochs.append,
        on_batch=lambda log: (batches.append(log), log.epoch == 2 and token.cancel()),
    )
    assert not result.fast_path
    assert [log.epoch for log in epochs] == [1]
    assert result.cancelled
    assert batches[0].batches == 3 and batches[-1].epoch == 2 and batches[-1].batch == 1
    assert batches[2].seconds_left is not None and batches[2].seconds_left >= 0
    names = [layer.name for layer in result.loaded.model.layers]
    assert not any(name.startswith("augment") for name in names)


# -- the model -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [m for m in PREPROCESS_MODES if m != "none"])
def test_the_built_in_preprocessing_layer_matches_convlens_preprocessing(mode):
    pixels = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3)).astype(np.uint8)
    layer = preprocessing_layer(mode)
    got = keras.ops.convert_to_numpy(layer(pixels.astype(np.float32)))
    np.testing.assert_allclose(got, preprocess(pixels, mode), rtol=1e-5, atol=1e-4)
    assert preprocessing_layer("none") is None


def test_the_trained_model_is_one_nested_base_under_a_new_head(pretrained):
    model = pretrained.loaded.model
    assert [layer.name for layer in model.layers] == [
        "image",
        "preprocess",
        BASE,
        "head_pool",
        "head_dropout",
        "predictions",
    ]
    tree = {node.name: node for node in layer_tree(model)}
    assert not tree[BASE].trainable and len(tree[BASE].children) > 100
    engine = Engine(pretrained.loaded)
    inner = f"{BASE}/block6a_project_conv"
    image = load_image(next(iter(sorted(pretrained.dataset.files["grass"]))))
    assert engine.activations(image, [inner])[inner].shape[-1] == 192


def test_freezing_choices_name_the_trained_base_layers(pretrained, config):
    base = pretrained.loaded.model.get_layer(BASE)
    names = [layer.name for layer in base.layers]
    assert trainable_names(base, config) == []
    assert trainable_names(base, replace(config, freeze="none")) == names
    upto = trainable_names(base, replace(config, freeze="up-to:block7a_project_bn"))
    assert upto == names[names.index("block7a_project_bn") + 1 :] and upto[-1] == "top_activation"
    chosen = trainable_names(base, replace(config, trainable_layers=("top_conv", "top_bn")))
    assert chosen == ["top_conv", "top_bn"]
    with pytest.raises(TrainConfigError, match="no layer 'nope'"):
        trainable_names(base, replace(config, freeze="up-to:nope"))


def _nested_base() -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv_a")(inputs)
    x = keras.layers.BatchNormalization(name="bn_a")(x)
    inner = keras.Model(inputs, keras.layers.Conv2D(4, 1, name="conv_b")(x), name="inner")
    outer_in = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(2, 1, name="conv_c")(inner(outer_in))
    return keras.Model(outer_in, y, name="base")


def test_layer_tree_paths_choose_layers_inside_a_nested_base(config):
    base = _nested_base()
    chosen = replace(config, trainable_layers=("inner/conv_b", "conv_c"))
    freeze_base(base, trainable_names(base, chosen))
    trained = sorted(v.path for v in base.trainable_weights)
    assert trained == ["conv_b/bias", "conv_b/kernel", "conv_c/bias", "conv_c/kernel"]
    freeze_base(base, trainable_names(base, replace(config, trainable_layers=("inner",))))
    assert sorted(v.path for v in base.trainable_weights) == [
        "conv_a/bias",
        "conv_a/kernel",
        "conv_b/bias",
        "conv_b/kernel",
    ]  # a whole nested block, its BatchNormalization still frozen
    freeze_base(base, [])
    assert base.trainable_weights == [] and not base.trainable
    with pytest.raises(TrainConfigError, match="inner/nope"):
        trainable_names(base, replace(config, trainable_layers=("inner/nope",)))


def test_frozen_dropout_is_silenced_only_while_training():
    inputs = keras.Input((4,))
    frozen, live = keras.layers.Dropout(0.5), keras.layers.Dropout(0.3)
    model = keras.Model(inputs, live(frozen(inputs)))
    frozen.trainable = False
    with frozen_layers_in_inference(model):
        assert (frozen.rate, live.rate) == (0.0, 0.3)
    assert frozen.rate == 0.5


def test_bad_options_are_refused_before_any_work(config):
    cases = {
        "head": ("head", "mean"),
        "freeze": ("freeze", "some"),
        "epochs": ("epochs", 0),
        "val-split": ("val_split", 1.5),
        "augmentation": ("augment", ("blur",)),
        "fine-tune-top": ("freeze", "none"),
    }
    for expected, (field, value) in cases.items():
        changes = {field: value}
        if expected == "fine-tune-top":
            changes["fine_tune_top"] = 5
        with pytest.raises(TrainConfigError, match=expected):
            train(replace(config, **changes))


def test_evaluation_counts_confusions_and_lists_mistakes():
    probs = np.array([[0.9, 0.1, 0], [0.2, 0.8, 0], [0.6, 0.4, 0], [0.1, 0.2, 0.7]])
    result = evaluate(probs, np.array([0, 1, 1, 2]), ["a", "b", "c", "d"], ["x", "y", "z"])
    assert result.confusion.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert result.accuracy == 0.75
    assert result.precision == [0.5, 1.0, 1.0] and result.recall == [1.0, 0.5, 1.0]
    [wrong] = result.misclassified
    assert (wrong.path.name, wrong.true_label, wrong.predicted_label) == ("c", "y", "x")
    none_predicted = evaluate(probs[:2], np.array([0, 1]), ["a", "b"], ["x", "y", "z"])
    assert none_predicted.precision[2] is None and none_predicted.recall[2] is None


# -- saving and using the result ---------------------------------------------------------


def test_a_saved_model_reopens_with_its_class_names_and_same_predictions(
    pretrained, saved, textures
):
    loaded = load_model_file(saved)
    assert loaded.class_names == CLASSES
    assert loaded.preprocess == "none" and loaded.input_size == (224, 224)
    assert loaded.is_classifier
    paths = _val_paths(textures)
    pixels = _pixels(paths, (224, 224))
    np.testing.assert_allclose(
        Engine(loaded).scores(pixels), Engine(pretrained.loaded).scores(pixels), atol=1e-5
    )
    results = list(Engine(loaded).classify_paths([textures.val_dir], top=1))
    right = [r.predictions[0].label == r.path.parent.name for r in results]
    assert len(right) == 30 and sum(right) >= 29
    metadata = model_metadata.read_metadata(saved)
    assert metadata["base"] == {"name": "EfficientNet-Lite0", "preprocess": "lite"}
    assert metadata["training"]["epochs"] == 5
    assert metadata["metrics"]["val_accuracy"] == pytest.approx(pretrained.evaluation.accuracy)


def test_plain_keras_loads_the_saved_model_in_a_fresh_process(pretrained, saved, tmp_path):
    pixels = _pixels(sorted(pretrained.dataset.files["brick"])[:4], (224, 224))
    np.save(tmp_path / "x.npy", pixels)
    code = (
        "import sys, numpy as np, keras\n"
        "model = keras.models.load_model(sys.argv[1])\n"
        "np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))\n"
    )
    out = tmp_path / "y.npy"
    done = subprocess.run(
        [sys.executable, "-c", code, str(saved), str(tmp_path / "x.npy"), str(out)],
        cwd=tmp_path,  # not the repository: no ConvLens module may be needed
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(out), Engine(pretrained.loaded).scores(pixels), atol=1e-5)


def test_saving_is_atomic(pretrained, tmp_path, monkeypatch):
    target = tmp_path / "model.keras"
    target.write_bytes(b"the previous model")

    def fail(path, metadata):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model_metadata, "write_metadata", fail)
    with pytest.raises(ExportError, match="No space left"):
        save_model(pretrained, target)
    assert target.read_bytes() == b"the previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    with pytest.raises(ExportError, match=".keras"):
        save_model(pretrained, tmp_path / "model.h5")


def test_any_failure_while_saving_is_an_export_error_and_leaves_nothing(
    pretrained, tmp_path, monkeypatch
):
    def broken(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"PK\x03\x04 half a model")
        raise ValueError("Unable to serialize the optimizer")

    with monkeypatch.context() as patch:
        patch.setattr(keras.Model, "save", broken)
        with pytest.raises(ExportError, match="Could not write .*Unable to serialize"):
            save_model(pretrained, tmp_path / "model.keras")
    assert list(tmp_path.iterdir()) == []

    # Tests run as root, which a chmod'ed folder would not stop: fail the rename instead.
    target = tmp_path / "model.keras"
    real_replace = os.replace

    def read_only(src, dst, *args, **kwargs):
        if os.fspath(dst) == os.fspath(target):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(ConvLensError) as caught:
        save_model(pretrained, target)
    assert str(caught.value) == (
        f"Could not write {target}: Permission denied; "
        f"you may not write in {tmp_path}: choose another folder."
    )
    assert list(tmp_path.iterdir()) == []


def test_a_saved_model_gets_the_usual_permissions(pretrained, tmp_path):
    old = os.umask(0o027)
    try:
        path = save_model(pretrained, tmp_path / "model.keras")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # not the 0o600 of a temporary file
    assert load_model_file(path).class_names == CLASSES


def test_a_saved_model_holds_its_metadata_member(saved):
    with zipfile.ZipFile(saved) as archive:
        stored = json.loads(archive.read(model_metadata.MEMBER))
    assert stored["class_names"] == CLASSES and stored["preprocess"] == "none"


def test_tflite_export_runs_and_matches_keras(pretrained, textures, tmp_path):
    old = os.umask(0o027)
    try:
        path = export_tflite(pretrained.loaded.model, tmp_path / "textures.tflite", CLASSES)
    finally:
        os.umask(old)
    assert labels_path(path).read_text().split() == CLASSES
    for written in (path, labels_path(path)):  # not the 0o600 of a temporary file
        assert stat.S_IMODE(written.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, labels_path(path).name]
    pixels = _pixels(_val_paths(textures)[::3], (224, 224))
    expected = Engine(pretrained.loaded).scores(pixels)
    got = run_tflite(path, pixels)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert (got.argmax(1) == expected.argmax(1)).all()
    with pytest.raises(ExportError, match=".tflite"):
        export_tflite(pretrained.loaded.model, tmp_path / "model.bin")
