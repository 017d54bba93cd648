"""Grad-CAM++ (Chattopadhyay et al. 2018): pixel-wise weighted positive gradients.

Better than Grad-CAM when a class appears several times in the picture. The closed form of
the pixel weights (their equation 19) is the one pytorch-grad-cam uses.
"""

from __future__ import annotations

import numpy as np

from core.explain.base import CamMethod

_EPSILON = 1e-7


class GradCAMPlusPlus(CamMethod):
    name = "gradcam++"
    title = "Grad-CAM++"
    summary = "like Grad-CAM, with pixel-wise weights; better for several objects of a class"

    def channel_weights(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        grads = gradients.astype(np.float64)
        squared = grads**2
        cubed = squared * grads
        total = activations.sum(axis=(0, 1), dtype=np.float64)
        alpha = squared / (2 * squared + total * cubed + _EPSILON)
        alpha = np.where(grads != 0, alpha, 0.0)
        return (np.maximum(grads, 0) * alpha).sum(axis=(0, 1)).astype(np.float32)
