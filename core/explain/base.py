"""What every explanation method shares: options, the class to explain, the map it returns,
and the steps from a raw attribution to a heatmap over the network's input.

In the spirit of pytorch-grad-cam's ``BaseCAM``: one small class per method over a shared
base. A method turns (engine, one preprocessed image, a target class) into an
``Attribution``. Gradients come from the engine's backend (``backend.gradients()``, see
core.explain.keras_gradients), so a method that needs none (occlusion) runs on any backend.
Light module: numpy and Pillow only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from PIL import Image

from core.errors import ExplainError
from core.progress import CancelToken, ProgressCallback

# Pixel attributions (Integrated Gradients, SmoothGrad) have a few extreme pixels; scaling
# by the maximum would leave the rest black. Scaling by a high percentile is the usual fix.
PIXEL_MAP_PERCENTILE = 99.5


@dataclass(frozen=True)
class ExplainOptions:
    """The knobs of the slower methods; every method ignores what it does not use."""

    batch_size: int = 16  # images per pass: IG steps, SmoothGrad samples, occluded copies
    steps: int = 32  # Integrated Gradients: points on the straight path from the baseline
    samples: int = 16  # SmoothGrad: noisy copies whose gradients are averaged
    noise: float = 0.15  # SmoothGrad: noise σ as a fraction of the input's value range
    patch: float = 0.125  # occlusion: the grey square's side, as a fraction of the input's
    seed: int = 0  # SmoothGrad's noise, so the same request gives the same map

    def check(self) -> None:
        """ExplainError naming the option that is out of range."""
        for name in ("batch_size", "steps", "samples"):
            if getattr(self, name) < 1:
                raise ExplainError(f"{name.replace('_', ' ')} must be at least 1.")
        if not 0 < self.patch <= 1:
            raise ExplainError("The occlusion patch must be a fraction of the side in (0, 1].")
        if self.noise < 0:
            raise ExplainError("The SmoothGrad noise level cannot be negative.")


@dataclass(frozen=True)
class Target:
    """The class to explain, as weights over the model's outputs: score = outputs · weights.

    One-hot for a softmax head; for a single sigmoid unit (a two-class model) +1 explains
    class 1 and −1 class 0, so both classes have a score that grows with their evidence.
    """

    class_index: int
    weights: np.ndarray

    @classmethod
    def for_class(cls, class_index: int, output_units: int) -> Target:
        if output_units == 1:
            if class_index not in (0, 1):
                raise ExplainError(f"This two-class model has no class {class_index}.")
            return cls(class_index, np.array([1.0 if class_index else -1.0], np.float32))
        if not 0 <= class_index < output_units:
            raise ExplainError(
                f"The model has {output_units} classes; there is no class {class_index}."
            )
        weights = np.zeros(output_units, np.float32)
        weights[class_index] = 1.0
        return cls(class_index, weights)


@dataclass(frozen=True)
class Attribution:
    """What a method found for one image and class."""

    raw: np.ndarray  # the method's own map: the layer's resolution for CAMs, else the input's
    heatmap: np.ndarray  # (H, W) float32 in [0, 1] over the network input: what is shown
    layer: str | None = None  # the target layer of a CAM method
    score: str = "output"  # what was explained: "logit" (before softmax/sigmoid) or "output"

    @property
    def nbytes(self) -> int:
        return self.raw.nbytes + self.heatmap.nbytes


class Method:
    """One explanation method. Subclasses set the class attributes and implement explain."""

    name: ClassVar[str]  # on the command line: --method NAME
    title: ClassVar[str]  # in the window
    summary: ClassVar[str]  # one line for tool tips and --help
    needs_layer: ClassVar[bool] = False  # explains a conv layer's maps (the CAM methods)
    needs_gradients: ClassVar[bool] = True  # False: runs on any backend

    def explain(
        self,
        engine,
        batch: np.ndarray,
        target: Target,
        layer: str | None,
        options: ExplainOptions,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> Attribution:
        """The attribution for one preprocessed image (batch of one) and target class."""
        raise NotImplementedError


class CamMethod(Method):
    """Class activation maps: a weighted sum of a conv layer's channels, weights from gradients.

    Subclasses say how a channel's weight follows from its activations and gradients.
    """

    needs_layer = True

    def channel_weights(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        """(C,) weights from one image's (h, w, C) activations and gradients."""
        raise NotImplementedError

    def explain(self, engine, batch, target, layer, options, progress, cancel) -> Attribution:
        gradients = gradients_of(engine, self.title)
        activations, grads, _scores = gradients.layer_gradients(
            batch, layer, target.weights, progress
        )
        activations, grads = activations[0], grads[0]
        if activations.ndim != 3:
            raise ExplainError(not_spatial_message(layer, activations.shape, self.title))
        raw = (activations * self.channel_weights(activations, grads)).sum(axis=-1)
        heatmap = normalise(upsample(np.maximum(raw, 0.0), batch.shape[1:3]))
        return Attribution(raw.astype(np.float32), heatmap, layer, gradients.score)


def summed_input_gradients(
    gradients,
    make_batch,
    count: int,
    weights: np.ndarray,
    options: ExplainOptions,
    progress: ProgressCallback,
    cancel: CancelToken,
    message: str,
) -> np.ndarray:
    """The input gradients of count inputs, summed; make_batch(start, n) gives inputs
    start … start + n − 1. At most options.batch_size go through the model at once, so
    memory stays bounded whatever count is."""
    total = None
    for start in range(0, count, options.batch_size):
        cancel.raise_if_cancelled()
        size = min(options.batch_size, count - start)
        grads, _scores = gradients.input_gradients(make_batch(start, size), weights, progress)
        total = grads.sum(axis=0) if total is None else total + grads.sum(axis=0)
        progress(start + size, count, message)
    return total


def gradients_of(engine, title: str):
    """The backend's gradient access; ExplainError when the backend has none."""
    gradients = getattr(engine.backend, "gradients", None)
    if gradients is None:
        raise ExplainError(
            f"{title} needs gradients, which the {engine.backend.name} backend cannot give. "
            "Use occlusion, which works on any backend, or switch to the keras backend."
        )
    return gradients()


def not_spatial_message(layer: str | None, shape, title: str) -> str:
    dims = "×".join(str(d) for d in shape)
    return (
        f"{layer} gives a vector ({dims}), not maps: {title} needs a convolutional layer "
        "whose output is height × width × channels. Choose another layer."
    )


def upsample(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a 2-D map to size (height, width), float32."""
    values = np.asarray(values, np.float32)
    if values.shape == tuple(size):
        return values.copy()
    height, width = size
    image = Image.fromarray(values)  # float32: Pillow mode "F"
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), np.float32)


def normalise(values: np.ndarray, percentile: float | None = None) -> np.ndarray:
    """Scale a non-negative map to [0, 1] by its maximum (or a percentile, then clip).

    A map with nothing positive stays all zeros: no evidence for the class anywhere.
    """
    values = np.maximum(np.asarray(values, np.float32), 0.0)
    top = float(np.percentile(values, percentile)) if percentile else float(values.max())
    if top <= 0.0:
        top = float(values.max())  # a sparse map: the percentile fell on zeros
    if top <= 0.0:
        return np.zeros_like(values)
    return np.clip(values / top, 0.0, 1.0)
