"""Input preprocessing, as the Keras application families define it, in plain numpy.

Kept free of TensorFlow so it is cheap to import and identical in the GUI, CLI and tests.
"""

from __future__ import annotations

import numpy as np

# Caffe-style models (VGG, ResNet v1) were trained on BGR images with these means.
_CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)
_TORCH_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_TORCH_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

PREPROCESS_MODES: dict[str, str] = {
    "none": "pixels as they are, 0–255 (the model preprocesses inside itself)",
    "tf": "scale to [-1, 1] (Inception, Xception, MobileNet, ResNetV2)",
    "caffe": "RGB→BGR, subtract the ImageNet mean (VGG, ResNet)",
    "torch": "scale to [0, 1], normalise by ImageNet mean/std (DenseNet, PyTorch ports)",
    "lite": "(x − 127) / 128 (EfficientNet-Lite)",
}


def preprocess(batch: np.ndarray, mode: str) -> np.ndarray:
    """Turn a uint8 (N, H, W, 3) RGB batch into the float32 input a model expects."""
    if mode not in PREPROCESS_MODES:
        raise ValueError(
            f"Unknown preprocessing {mode!r}; choose one of {', '.join(PREPROCESS_MODES)}."
        )
    x = np.asarray(batch, dtype=np.float32)
    if mode == "none":
        return x
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "caffe":
        return x[..., ::-1] - _CAFFE_BGR_MEAN
    if mode == "torch":
        return (x / 255.0 - _TORCH_MEAN) / _TORCH_STD
    return (x - 127.0) / 128.0
