"""Input preprocessing, as the Keras application families define it, in plain numpy.

Each mode is one ``Preprocessing`` holding its constants: per-channel mean and standard
deviation in 0–255 pixel units and the channel order, so ``(x - mean) / std`` on the
channels in that order is the whole recipe. The numpy path here, the Keras layer built into
trained models (core.training.heads) and the metadata stored beside exported models all
read the same numbers. Kept free of TensorFlow so it is cheap to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Preprocessing:
    """How a family of networks expects its pixels: ``(x[..., order] - mean) / std``."""

    name: str
    description: str
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # in the model's channel order
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    bgr: bool = False  # the model was trained on BGR images (Caffe)

    @cached_property
    def is_identity(self) -> bool:
        return not self.bgr and self.mean == (0.0, 0.0, 0.0) and self.std == (1.0, 1.0, 1.0)

    @cached_property
    def _constants(self) -> tuple:
        """(mean, std) as float32 scalars when the channels share them (the cheaper
        arithmetic, on every image of every batch), else per-channel float32 arrays."""
        return tuple(
            np.float32(values[0]) if len(set(values)) == 1 else np.asarray(values, np.float32)
            for values in (self.mean, self.std)
        )

    def apply(self, batch: np.ndarray) -> np.ndarray:
        """A uint8 (N, H, W, 3) RGB batch as the float32 input the network expects."""
        x = np.asarray(batch, dtype=np.float32)
        if self.is_identity:
            return x
        if self.bgr:
            x = x[..., ::-1]
        # float32 constants: the result stays float32 and matches Keras' preprocess_input.
        mean, std = self._constants
        return (x - mean) / std

    def to_dict(self) -> dict:
        """The constants, for metadata stored with exported models and features."""
        return {
            "mode": self.name,
            "mean": list(self.mean),
            "std": list(self.std),
            "channel_order": "BGR" if self.bgr else "RGB",
        }


def _torch() -> Preprocessing:
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    return Preprocessing(
        "torch",
        "scale to [0, 1], normalise by ImageNet mean/std (DenseNet, PyTorch ports)",
        tuple(255 * m for m in mean),
        tuple(255 * s for s in std),
    )


PREPROCESSINGS: dict[str, Preprocessing] = {
    p.name: p
    for p in (
        Preprocessing("none", "pixels as they are, 0–255 (the model preprocesses inside itself)"),
        Preprocessing(
            "tf",
            "scale to [-1, 1] (Inception, Xception, MobileNet, ResNetV2)",
            (127.5,) * 3,
            (127.5,) * 3,
        ),
        # Caffe-style models (VGG, ResNet v1) were trained on BGR images with these means.
        Preprocessing(
            "caffe",
            "RGB→BGR, subtract the ImageNet mean (VGG, ResNet)",
            (103.939, 116.779, 123.68),
            bgr=True,
        ),
        _torch(),
        Preprocessing("lite", "(x − 127) / 128 (EfficientNet-Lite)", (127.0,) * 3, (128.0,) * 3),
    )
}
# Mode name → description, for option lists and help texts.
PREPROCESS_MODES: dict[str, str] = {name: p.description for name, p in PREPROCESSINGS.items()}


def get_preprocessing(mode: str) -> Preprocessing:
    """The Preprocessing called mode; ValueError naming the choices otherwise."""
    try:
        return PREPROCESSINGS[mode]
    except KeyError:
        raise ValueError(
            f"Unknown preprocessing {mode!r}; choose one of {', '.join(PREPROCESSINGS)}."
        ) from None


def preprocess(batch: np.ndarray, mode: str) -> np.ndarray:
    """Turn a uint8 (N, H, W, 3) RGB batch into the float32 input a model expects."""
    return get_preprocessing(mode).apply(batch)
