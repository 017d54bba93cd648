"""Explaining a prediction: which parts of the picture made the model say this class.

One module per method over a shared base (core.explain.base): Grad-CAM (the default),
Grad-CAM++, Integrated Gradients, SmoothGrad and occlusion. The gradient methods get their
gradients from the engine's backend (core.explain.keras_gradients for Keras, nested bases
included); occlusion uses only the model's outputs and works on any backend. Light package:
the method modules import numpy only, so the window can list the methods.
"""

from __future__ import annotations

from core.errors import ExplainError
from core.explain.base import Attribution, ExplainOptions, Method, Target
from core.explain.grad_cam import GradCAM
from core.explain.grad_cam_plus_plus import GradCAMPlusPlus
from core.explain.integrated_gradients import IntegratedGradients
from core.explain.occlusion import Occlusion
from core.explain.smoothgrad import SmoothGrad

METHODS: dict[str, Method] = {
    method.name: method
    for method in (GradCAM(), GradCAMPlusPlus(), IntegratedGradients(), SmoothGrad(), Occlusion())
}
DEFAULT_METHOD = GradCAM.name

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "Attribution",
    "ExplainOptions",
    "Method",
    "Target",
    "get_method",
]


def get_method(name: str) -> Method:
    """The method called name; ExplainError listing the methods otherwise."""
    method = METHODS.get(name.strip().lower())
    if method is None:
        raise ExplainError(f"There is no method {name!r}; choose one of {', '.join(METHODS)}.")
    return method
