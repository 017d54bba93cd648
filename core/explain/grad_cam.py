"""Grad-CAM (Selvaraju et al. 2017): channels weighted by their mean gradient."""

from __future__ import annotations

import numpy as np

from core.explain.base import CamMethod


class GradCAM(CamMethod):
    name = "gradcam"
    title = "Grad-CAM"
    summary = "a conv layer's maps weighted by the class score's mean gradient (fast; default)"

    def channel_weights(self, activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
        return gradients.mean(axis=(0, 1))
