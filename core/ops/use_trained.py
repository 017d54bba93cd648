"""Use a classifier just trained (in memory, saved or not) as the loaded model.

The window's way to look at a training run's images with the model that judged them: the
trained model becomes the engine, as a loaded model file would, without a save and reload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.ops.base import OpContext, Request, operation
from core.ops.load import ModelInfo, install_loaded


@dataclass(frozen=True)
class UseTrainedModelRequest(Request):
    result: Any  # core.training.config.TrainResult
    weights: str = "trained"

    needs_engine = False

    @property
    def key(self) -> str:
        return self.result.loaded.name

    @property
    def display_name(self) -> str:
        return self.result.loaded.name


@operation(UseTrainedModelRequest)
def use_trained_model(engine, request: UseTrainedModelRequest, ctx: OpContext) -> ModelInfo:
    """Install an Engine over the trained classifier; the old engine stays if cancelled."""
    return install_loaded(request.result.loaded, ctx)
