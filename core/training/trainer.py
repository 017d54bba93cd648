"""Transfer learning: train a new classifier on labelled folders on top of a pretrained base.

``train(config)`` scans and splits the dataset, builds ``image → preprocess → base → head``
(core.training.heads), trains it and scores it on the validation images. Two ways to train:

- Fast path, when the whole base is frozen and nothing is augmented: the base's output
  cannot change, so it is computed once per image (cached for the session) and only the
  head is fitted, on those vectors. Seconds instead of minutes.
- Otherwise ``fit`` on the whole model, fed batches of decoded images.

With ``fine_tune_top`` a second stage follows: the top layers of the base are unfrozen
and training continues at a tenth of the learning rate. Best weights are kept by
validation loss across both stages, so a second stage that does not help changes nothing.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from core.engine.backends.keras_backend import KerasBackend
from core.errors import Cancelled
from core.models.loading import LoadedModel
from core.models.source import model_source
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress
from core.training.config import (
    FINE_TUNE_LR_FACTOR,
    BatchLog,
    EpochLog,
    TrainConfig,
    TrainConfigError,
    TrainResult,
)
from core.training.datasets import (
    DatasetInfo,
    Split,
    scan_dataset,
    split_dataset,
    split_with_folder,
)
from core.training.evaluation import evaluate
from core.training.heads import (
    Base,
    Classifier,
    build_classifier,
    freeze_base,
    frozen_layers_in_inference,
    head_model,
    load_base,
    top_layer_names,
    trainable_names,
    training_model,
)
from core.training.inputs import (
    ImageBatches,
    ImageCache,
    base_features,
    pixel_engine,
    predict_images,
)
from core.training.saving import model_metadata_for, save_model  # noqa: F401  (old home)

EpochCallback = Callable[[EpochLog], None]
BatchCallback = Callable[[BatchLog], None]


@dataclass
class _Best:
    """The best weights seen so far, by validation loss (training loss without validation)."""

    value: float = math.inf
    weights: list | None = None
    epoch: int | None = None


@dataclass
class _Run:
    """What the stages of one training run share."""

    config: TrainConfig
    split: Split
    classifier: Classifier
    images: ImageCache
    cancel: CancelToken
    on_epoch: EpochCallback | None
    on_batch: BatchCallback | None
    history: list[EpochLog] = field(default_factory=list)
    best: _Best = field(default_factory=_Best)
    cancelled: bool = False
    stopped_early: bool = False
    features_runtime: str | None = None  # what computed the base features: "onnx" or "keras"


class _Supervisor(keras.callbacks.Callback):
    """Reports progress, keeps the best weights, stops early, and stops on cancel.

    Cancel is checked after every batch (and validation batch), so a run stops within one
    batch; a partial epoch is not recorded, and the best complete epoch is what remains.
    """

    def __init__(self, run: _Run, stage: int, keep: keras.Model, epochs: int):
        super().__init__()
        self.run, self.stage, self.keep = run, stage, keep
        self.first_epoch = len(run.history)
        self.total_epochs = self.first_epoch + epochs
        self.epochs = epochs
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.batches_done = 0
        self.first_batch_end = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.monotonic()

    def _check_cancel(self) -> bool:
        if self.run.cancel.cancelled:
            self.run.cancelled = True
            self.model.stop_training = True
            self.model.stop_evaluating = True
        return self.run.cancelled

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        self.batches_done += 1
        steps = self.params.get("steps") or batch + 1
        left = None
        if self.first_batch_end is None:
            self.first_batch_end = now  # the first batch includes compiling; not representative
        elif self.batches_done > 1:
            per_batch = (now - self.first_batch_end) / (self.batches_done - 1)
            left = per_batch * (self.epochs * steps - self.batches_done)
        if self.run.on_batch:
            epoch = len(self.run.history) + 1
            loss = float((logs or {}).get("loss", math.nan))
            self.run.on_batch(
                BatchLog(self.stage, epoch, self.total_epochs, batch + 1, steps, loss, left)
            )
        self._check_cancel()

    def on_test_batch_end(self, batch, logs=None):
        self._check_cancel()

    def on_epoch_end(self, epoch, logs=None):
        if self.run.cancelled:
            return  # a partial epoch: its numbers describe no model worth keeping
        logs = logs or {}
        log = EpochLog(
            stage=self.stage,
            epoch=len(self.run.history) + 1,
            epochs=self.total_epochs,
            loss=float(logs["loss"]),
            accuracy=float(logs["accuracy"]),
            val_loss=_number(logs.get("val_loss")),
            val_accuracy=_number(logs.get("val_accuracy")),
            seconds=time.monotonic() - self.epoch_start,
        )
        self.run.history.append(log)
        if self.run.on_epoch:
            self.run.on_epoch(log)
        monitored = log.val_loss if log.val_loss is not None else log.loss
        best = self.run.best
        if monitored < best.value:
            best.value, best.weights, best.epoch = monitored, self.keep.get_weights(), log.epoch
            self.wait = 0
        else:
            self.wait += 1
            if self.run.config.patience and self.wait >= self.run.config.patience:
                self.run.stopped_early = True
                self.model.stop_training = True
        self._check_cancel()

    def on_train_end(self, logs=None):
        if self.run.best.weights is not None:
            self.keep.set_weights(self.run.best.weights)


def _number(value) -> float | None:
    return None if value is None else float(value)


def _compile(model: keras.Model, lr: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        # XLA compilation of a whole CNN takes longer on a CPU than a small run saves.
        jit_compile=False,
    )


def _feature_key(
    config: TrainConfig, base: Base, classifier: Classifier, images: ImageCache
) -> tuple:
    """What the cached base features depend on."""
    spec = model_source(config.model).spec
    if spec is not None:
        source = (spec.name, config.weights)
        if config.weights in ("none", "random"):
            source += (config.seed,)  # random weights are drawn from the seed
        elif config.weights != "imagenet":
            source += (os.stat(config.weights).st_mtime_ns,)
    else:
        path = Path(config.model)
        source = (os.path.realpath(path), path.stat().st_mtime_ns, config.cut_layer)
    return (source, base.preprocess, classifier.pooling, images.fit)


def _fit_head_on_features(run: _Run, key: tuple, progress: ProgressCallback) -> np.ndarray:
    """Stage 1 of the fast path; returns the validation features for scoring."""
    config, split, classifier = run.config, run.split, run.classifier
    engine = pixel_engine(classifier.feature_model, "base features", run.images.fit, config.backend)
    features = {
        part: base_features(
            engine,
            paths,
            key,
            batch_size=config.batch_size,
            progress=progress,
            cancel=run.cancel,
        )
        for part, paths in (("train", split.train_paths), ("val", split.val_paths))
    }
    run.features_runtime = engine.backend.name
    head = head_model(classifier)
    _compile(head, config.lr)
    head.fit(
        features["train"],
        split.train_labels,
        validation_data=(features["val"], split.val_labels),
        batch_size=config.batch_size,
        epochs=config.epochs,
        shuffle=True,
        verbose=0,
        callbacks=[_Supervisor(run, 1, head, config.epochs)],
    )
    return features["val"]


def _fit_on_images(run: _Run, stage: int, epochs: int, lr: float) -> None:
    config, split, classifier = run.config, run.split, run.classifier
    model = training_model(classifier.model, config.augment, config.seed)
    _compile(model, lr)
    batches = ImageBatches(
        split.train_paths, split.train_labels, config.batch_size, run.images, True, config.seed
    )
    val = ImageBatches(split.val_paths, split.val_labels, config.batch_size, run.images, False)
    with frozen_layers_in_inference(classifier.base):
        model.fit(
            batches,
            validation_data=val,
            epochs=epochs,
            verbose=0,
            callbacks=[_Supervisor(run, stage, classifier.model, epochs)],
        )


def _split(config: TrainConfig, dataset: DatasetInfo, progress, cancel) -> Split:
    """Validation images: the folder given, else the dataset's own val/, else a share."""
    val_dir = config.val_dir or (dataset.split.val if dataset.split else None)
    if val_dir is None:
        return split_dataset(dataset, config.val_split, config.seed)
    val = scan_dataset(val_dir, verify=True, progress=progress, cancel=cancel)
    return split_with_folder(dataset, val)


def train(
    config: TrainConfig,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    on_epoch: EpochCallback | None = None,
    on_batch: BatchCallback | None = None,
    *,
    dataset: DatasetInfo | None = None,
    fast_path: bool | None = None,
) -> TrainResult:
    """Train a classifier as config says; see the module docstring.

    dataset: an already scanned (and verified) config.data_dir, to skip scanning again.
    fast_path: None picks it whenever possible; False forces fit() on images (benchmarks).
    Raises Cancelled if cancelled before any epoch finished; after that, a cancelled run
    returns its best weights so far with ``result.cancelled`` set.
    """
    config = config.validated()
    eligible = config.base_frozen and not config.augment
    if fast_path and not eligible:
        raise TrainConfigError("The fast path needs a frozen base and no augmentation.")
    use_fast = eligible if fast_path is None else bool(fast_path)
    if dataset is None:
        dataset = scan_dataset(config.data_dir, verify=True, progress=progress, cancel=cancel)
    split = _split(config, dataset, progress, cancel)
    keras.utils.set_random_seed(config.seed)  # head initialisation, dropout, shuffling
    base = load_base(config, progress, cancel)
    classifier = build_classifier(base, config, len(split.class_names))
    freeze_base(classifier.base, trainable_names(classifier.base, config))
    images = ImageCache(base.input_size, config.resize, base.crop_fraction)
    run = _Run(config, split, classifier, images, cancel, on_epoch, on_batch)

    progress(0, 0, "Training…")
    val_features = None
    if use_fast:
        key = _feature_key(config, base, classifier, images)
        val_features = _fit_head_on_features(run, key, progress)
    else:
        _fit_on_images(run, 1, config.epochs, config.lr)
    notes = []
    if config.two_stage and not run.cancelled:
        head_only_best = run.best.epoch
        freeze_base(classifier.base, top_layer_names(classifier.base, config.fine_tune_top))
        # The stage starts from the best head-only weights and only replaces them if it
        # beats their validation loss.
        run.best.weights = classifier.model.get_weights()
        _fit_on_images(run, 2, config.stage_epochs[1], config.lr * FINE_TUNE_LR_FACTOR)
        if run.best.epoch == head_only_best:
            notes.append(
                "Fine-tuning did not lower the validation loss; kept the head-only weights."
            )
        val_features = None
    if not run.history:
        raise Cancelled()

    progress(0, len(split.val_paths), "Evaluating…")
    if val_features is not None:
        probabilities = KerasBackend(head_model(classifier)).predict(val_features)
        progress(len(split.val_paths), len(split.val_paths), "Evaluating…")
    else:
        probabilities = predict_images(
            pixel_engine(classifier.model, "classifier", images.fit),
            split.val_paths,
            run.images,
            config.batch_size,
            progress,
            "Evaluating…",
        )
    evaluation = evaluate(probabilities, split.val_labels, split.val_paths, split.class_names)
    loaded = LoadedModel(
        model=classifier.model,
        name=f"{Path(config.data_dir).name} classifier ({base.name})",
        source="trained",
        input_size=base.input_size,
        resize=images.fit[1],
        resize_fixed=True,  # what it was trained on is what it must be fed
        crop_fraction=images.fit[2],
        preprocess="none",  # the base's preprocessing is the model's first layer
        class_names=list(split.class_names),
        weights="trained",
        notes=notes + split.warnings,
    )
    return TrainResult(
        loaded=loaded,
        config=config,
        dataset=dataset,
        history=run.history,
        evaluation=evaluation,
        base_name=base.name,
        base_preprocess=base.preprocess,
        fast_path=use_fast,
        best_epoch=run.best.epoch,
        cancelled=run.cancelled,
        stopped_early=run.stopped_early,
        notes=notes + split.warnings,
        features_runtime=run.features_runtime,
    )
