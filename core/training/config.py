"""What a training run is asked to do and what it reports: options, logs and the result.

Light module (no TensorFlow), so the GUI and the CLI can build and check a configuration
before anything heavy is imported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConvLensError
from core.io.images import DEFAULT_RESIZE, RESIZE_MODES
from core.models.zoo import BUILTIN_NAME

if TYPE_CHECKING:
    from core.training.datasets import DatasetInfo
    from core.training.evaluation import Evaluation

HEADS = {
    "avg": "global average pooling",
    "max": "global max pooling",
    "flatten": "flatten the feature maps (many weights: keep the input small)",
}
AUGMENTATIONS = {
    "flip": "random horizontal flips",
    "rotation": "random rotations up to ±10 % of a turn",
    "zoom": "random zoom in or out up to 20 %",
    "contrast": "random contrast changes up to 20 %",
}
FINE_TUNE_LR_FACTOR = 0.1  # the second stage continues at a tenth of the learning rate


class TrainConfigError(ConvLensError):
    """Training options that are invalid or do not fit together."""


@dataclass(frozen=True)
class TrainConfig:
    """Options of one training run. Defaults are the classic transfer-learning recipe."""

    data_dir: str | Path
    model: str = BUILTIN_NAME  # zoo name or a .keras/.h5 file
    weights: str = "imagenet"  # "imagenet", "none" (random) or a weights file, for zoo bases
    input_size: int | tuple[int, int] | None = None  # side or (height, width); None: the base's
    cut_layer: str | None = None  # model files: the layer feeding the head (default: penultimate)
    preprocess: str | None = None  # model files whose preprocessing ConvLens cannot infer
    head: str = "avg"
    dense_units: int = 0  # 0: no hidden Dense layer
    dropout: float = 0.2
    freeze: str = "all"  # "all", "none" or "up-to:LAYER" (that layer and all before it)
    trainable_layers: tuple[str, ...] | None = None  # base layers to train; overrides freeze
    fine_tune_top: int = 0  # > 0: a second stage with the top N base layers unfrozen
    fine_tune_epochs: int | None = None  # of the second stage; None: as many as epochs
    epochs: int = 10
    lr: float = 1e-3
    batch_size: int = 32
    val_split: float = 0.2
    val_dir: str | Path | None = None  # a separate validation folder instead of a split
    augment: tuple[str, ...] = ()  # names from AUGMENTATIONS
    seed: int = 0
    patience: int = 3  # epochs without a better validation loss before stopping; 0: never
    resize: str = DEFAULT_RESIZE  # how photos are fitted (core.io.images); the model keeps it
    backend: str = "auto"  # base features: "auto" (ONNX Runtime once verified), "onnx" or "tf"

    @property
    def freeze_up_to(self) -> str | None:
        return self.freeze.partition(":")[2] if self.freeze.startswith("up-to:") else None

    @property
    def input_shape(self) -> tuple[int, int] | None:
        """The input size asked for as (height, width), or None for the base's own."""
        if self.input_size is None:
            return None
        if isinstance(self.input_size, int):
            return (self.input_size, self.input_size)
        return (int(self.input_size[0]), int(self.input_size[1]))

    @property
    def two_stage(self) -> bool:
        return self.fine_tune_top > 0

    @property
    def base_frozen(self) -> bool:
        """Whether the first (or only) stage trains the head alone."""
        if self.trainable_layers is not None:
            return not self.trainable_layers
        return self.freeze == "all"

    @property
    def stage_epochs(self) -> list[int]:
        if not self.two_stage:
            return [self.epochs]
        return [self.epochs, self.fine_tune_epochs or self.epochs]

    def validated(self) -> TrainConfig:
        """This configuration, checked; TrainConfigError names the first bad option."""
        checks = [
            (self.head in HEADS, f"--head must be one of {', '.join(HEADS)}, not {self.head!r}"),
            (self.backend in ("auto", "onnx", "tf"), f"unknown backend {self.backend!r}"),
            (
                self.freeze in ("all", "none") or bool(self.freeze_up_to),
                f"--freeze must be all, none or up-to:LAYER, not {self.freeze!r}",
            ),
            (self.dense_units >= 0, "--dense must be 0 (none) or a number of units"),
            (0 <= self.dropout < 1, "--dropout must be at least 0 and less than 1"),
            (self.epochs >= 1, "--epochs must be at least 1"),
            ((self.fine_tune_epochs or 1) >= 1, "the fine-tuning epochs must be at least 1"),
            (self.fine_tune_top >= 0, "--fine-tune-top must be 0 or more"),
            (
                not (self.two_stage and not self.base_frozen),
                "--fine-tune-top trains in two stages from a frozen base; use it with --freeze all",
            ),
            (self.lr > 0, "--lr must be positive"),
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (0 < self.val_split < 1, "--val-split must be between 0 and 1"),
            (
                self.input_shape is None or min(self.input_shape) >= 32,
                "--input-size must be at least 32",
            ),
            (self.resize in RESIZE_MODES, f"--resize must be one of {', '.join(RESIZE_MODES)}"),
            (self.patience >= 0, "the patience must be 0 (off) or more epochs"),
        ]
        unknown = [name for name in self.augment if name not in AUGMENTATIONS]
        checks.append(
            (
                not unknown,
                f"unknown augmentation {', '.join(unknown)}; use {', '.join(AUGMENTATIONS)}",
            )
        )
        for ok, message in checks:
            if not ok:
                raise TrainConfigError(message)
        return replace(self, augment=tuple(dict.fromkeys(self.augment)))

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("data_dir", "val_dir"):
            data[key] = None if data[key] is None else str(data[key])
        if isinstance(self.input_size, tuple | list):
            data["input_size"] = list(self.input_size)
        for key in ("augment", "trainable_layers"):
            data[key] = None if data[key] is None else list(data[key])
        return data


@dataclass(frozen=True)
class EpochLog:
    """The metrics of one finished epoch; epoch counts from 1 across both stages."""

    stage: int  # 1: head (or the only stage), 2: fine-tuning
    epoch: int
    epochs: int  # planned epochs of all stages
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BatchLog:
    """Progress within a stage, after each training batch."""

    stage: int
    epoch: int
    epochs: int
    batch: int  # 1-based, within the epoch
    batches: int
    loss: float
    seconds_left: float | None  # estimate for the rest of the stage; None until measurable


@dataclass
class TrainResult:
    """A trained model with its history and its evaluation on the validation images."""

    loaded: Any  # core.models.LoadedModel of the whole classifier (base + head)
    config: TrainConfig
    dataset: DatasetInfo
    history: list[EpochLog]
    evaluation: Evaluation
    base_name: str
    base_preprocess: str  # how the base expects pixels; built into the saved model
    fast_path: bool  # the head was trained on cached base features
    best_epoch: int | None
    cancelled: bool = False
    stopped_early: bool = False
    notes: list[str] = field(default_factory=list)
    # What computed the base features on the fast path ("onnx" or "keras"); None when the
    # base ran inside Keras' fit() (fine-tuning, augmentation).
    features_runtime: str | None = None

    @property
    def class_names(self) -> list[str]:
        return list(self.evaluation.class_names)

    @property
    def metrics(self) -> dict:
        """A JSON-ready summary: final validation scores and how the run went."""
        return {
            "val_accuracy": round(self.evaluation.accuracy, 4),
            "val_images": self.evaluation.count,
            "best_epoch": self.best_epoch,
            "epochs_run": len(self.history),
            "cancelled": self.cancelled,
            "stopped_early": self.stopped_early,
            "fast_path": self.fast_path,
            **{
                key: value
                for key, value in self.evaluation.to_dict().items()
                if key not in ("accuracy", "images")
            },
        }
