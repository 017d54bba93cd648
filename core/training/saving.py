"""Saving a trained classifier: the .keras file with ConvLens' metadata, written atomically."""

from __future__ import annotations

from pathlib import Path

from core.errors import ConvLensError, ExportError
from core.io.atomic import atomic_path
from core.models import metadata as model_metadata
from core.training.config import TrainResult


def model_metadata_for(result: TrainResult) -> dict:
    """What ConvLens stores with a trained model: enough to use it and to know its origin."""
    loaded = result.loaded
    return {
        "class_names": list(loaded.class_names),
        "preprocess": loaded.preprocess,
        "input_size": list(loaded.input_size),
        "resize": loaded.resize,
        "crop_fraction": loaded.crop_fraction,
        "base": {"name": result.base_name, "preprocess": result.base_preprocess},
        "training": result.config.to_dict(),
        "dataset": {"classes": result.dataset.classes, "counts": result.dataset.counts},
        "metrics": {
            key: result.metrics[key]
            for key in ("val_accuracy", "val_images", "best_epoch", "epochs_run", "cancelled")
        },
        "history": [log.to_dict() for log in result.history],
        "features_runtime": result.features_runtime,
        "created_by": "convlens",
    }


def save_model(result: TrainResult, path: str | Path) -> Path:
    """Write the classifier as .keras with its metadata; the file appears complete or not at all."""
    path = Path(path)
    if path.suffix.lower() != ".keras":
        raise ExportError(f"Save the model as a .keras file, not {path.name}.")
    if not path.parent.is_dir():
        raise ExportError(f"The folder {path.parent} does not exist.")
    try:
        with atomic_path(path) as partial:
            result.loaded.model.save(partial)
            model_metadata.write_metadata(partial, model_metadata_for(result))
    except ConvLensError:  # an OSError, already explained by atomic_path
        raise
    except Exception as exc:  # Keras, h5py and zipfile raise more than OSError
        raise ExportError(f"Could not write {path}: {exc}") from exc
    result.loaded.path = path
    return path
