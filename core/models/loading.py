"""Loading models: the built-in model, the Keras ImageNet zoo, and the user's own files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras

from core.errors import ModelLoadError, UnsafeModelError
from core.io.images import DEFAULT_CROP_FRACTION, DEFAULT_RESIZE
from core.models import builtin as builtin_model
from core.models import metadata as model_metadata
from core.models.labels import generic_names, imagenet_ids, imagenet_names
from core.models.layers import is_nested_model
from core.models.loaded import LoadedModel, class_count
from core.models.preprocessing import PREPROCESS_MODES
from core.models.source import (
    MODEL_SUFFIXES,
    MissingFileError,
    UnknownModelError,
    model_source,
)
from core.models.weights import keras_weights_resolver
from core.models.zoo import ModelSpec, spec_for_graph
from core.progress import NEVER_CANCELLED, CancelToken, ProgressCallback, no_progress

__all__ = [
    "LoadedModel",
    "MissingFileError",
    "PreprocessingUnknownError",
    "UnknownModelError",
    "UnsafeModelError",
    "load_model",
    "load_model_file",
    "load_zoo_model",
]

DEFAULT_INPUT_SIZE = (224, 224)
_IN_MODEL_PREPROCESSING = ("Rescaling", "Normalization")


class PreprocessingUnknownError(ModelLoadError):
    """A user model whose preprocessing cannot be inferred and was not given."""


def load_model(
    name_or_path: str | Path,
    *,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_shape: tuple[int, int, int] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    preprocess: str | None = None,
    trust: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> LoadedModel:
    """Load a zoo model by name (case-insensitive), the built-in model, or a model file."""
    source = model_source(name_or_path)
    if source.is_file:
        loaded = load_model_file(source.path, preprocess=preprocess, trust=trust)
        return _with_weights_file(loaded, weights)
    return load_zoo_model(
        source.spec,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        progress=progress,
        cancel=cancel,
    )


def _with_weights_file(loaded: LoadedModel, weights: str | None) -> LoadedModel:
    """A model file comes with its weights; a weights file given besides replaces them."""
    if weights is None or str(weights).lower() == "imagenet":
        return loaded
    kind = _weights_kind(weights)
    if kind == "random":
        raise ModelLoadError(
            "Random weights (--weights none) apply to zoo models, not to a model file."
        )
    try:
        loaded.model.load_weights(kind)
    except (ValueError, OSError) as exc:
        raise ModelLoadError(
            f"The weights file {Path(kind).name} does not fit {loaded.name}: {exc}"
        ) from exc
    loaded.weights = kind
    return loaded


def _weights_kind(weights: str | Path | None) -> str:
    keyword = str(weights).lower() if weights is not None else None
    if keyword in (None, "none", "random"):
        return "random"
    if keyword == "imagenet":
        return "imagenet"
    if not Path(weights).is_file():
        raise MissingFileError(
            f"The weights file {weights} does not exist. Use imagenet, none, or a weights file."
        )
    return str(weights)


_POOLINGS = {None: None, "none": None, "avg": "avg", "max": "max"}


def load_zoo_model(
    spec: ModelSpec,
    *,
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_shape: tuple[int, int, int] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> LoadedModel:
    """Build a zoo architecture with the options of the classic Keras recipe."""
    kind = _weights_kind(weights)
    if pooling not in _POOLINGS:  # Keras would silently ignore an unknown value
        raise ModelLoadError(f"Unknown pooling {pooling!r}; choose none, avg or max.")
    pooling = _POOLINGS[pooling]
    if kind == "imagenet" and include_top and classes != 1000:
        raise ModelLoadError(
            "ImageNet weights with the top need classes=1000; use include_top=False for a new head."
        )
    if (
        include_top
        and input_shape is not None
        and kind == "imagenet"
        and tuple(input_shape[:2]) != spec.input_size
    ):
        raise ModelLoadError(
            f"{spec.name} with its ImageNet top needs input {spec.input_size[0]}×{spec.input_size[1]}; "
            "drop the top (include_top=False) to use another input size."
        )
    progress(0, 0, f"Loading {spec.name}…")
    resolved: list[Path] = []  # the ImageNet weights file Keras reads, for error messages
    try:
        if spec.builtin and kind == "imagenet":
            model = builtin_model.load_builtin(
                include_top=include_top, input_shape=input_shape, pooling=pooling, progress=progress
            )
        elif spec.builtin:
            model = builtin_model.build_efficientnet_lite0(
                include_top=include_top, input_shape=input_shape, pooling=pooling, classes=classes
            )
        else:
            constructor = getattr(keras.applications, spec.keras_name)
            with keras_weights_resolver(progress, cancel, resolved):
                model = constructor(
                    include_top=include_top,
                    weights="imagenet" if kind == "imagenet" else None,
                    input_shape=input_shape,
                    pooling=pooling,
                    classes=classes,
                )
        if kind not in ("imagenet", "random"):
            _load_weights_file(model, spec, kind)
    except ModelLoadError:
        raise
    except ValueError as exc:
        raise ModelLoadError(f"Cannot build {spec.name} with these options: {exc}") from exc
    except OSError as exc:  # h5py cannot read a cached weights file
        cached = resolved[-1] if resolved else None
        raise ModelLoadError(
            f"The weights file {cached} of {spec.name} cannot be read ({exc}); it may be "
            "damaged or incomplete. Delete it so that it is downloaded again."
            if cached
            else f"Cannot build {spec.name}: {exc}"
        ) from exc
    cancel.raise_if_cancelled()
    imagenet_top = include_top and classes == 1000
    size = tuple(input_shape[:2]) if input_shape else spec.input_size
    return LoadedModel(
        model=model,
        name=spec.name,
        source="builtin" if spec.builtin else "zoo",
        input_size=(int(size[0]), int(size[1])),
        preprocess=spec.preprocess,
        class_names=imagenet_names()
        if imagenet_top
        else generic_names(classes if include_top else 0),
        class_ids=imagenet_ids() if imagenet_top else None,
        weights=kind,
        include_top=include_top,
        crop_fraction=spec.crop_fraction,
    )


def _load_weights_file(model, spec: ModelSpec, path: str) -> None:
    """A user's weights file, used as is; a clear error when it does not fit the model."""
    try:
        model.load_weights(path)
    except (ValueError, OSError) as exc:
        raise ModelLoadError(
            f"The weights file {Path(path).name} does not fit {spec.name} with these options "
            f"(with or without top, input size, classes): {exc}"
        ) from exc


def infer_preprocess(model) -> tuple[str | None, str]:
    """Preprocessing for a model with a recognisable zoo base, and why; (None, reason) if unknown."""
    for layer in model.layers[:4]:
        if type(layer).__name__ in _IN_MODEL_PREPROCESSING:
            return "none", f"the model scales its input itself ({layer.name})"
    candidates = [model] + [layer for layer in model.layers if is_nested_model(layer)]
    for candidate in candidates:
        spec = spec_for_graph(candidate.name)
        if spec is not None:
            return spec.preprocess, f"its base {candidate.name!r} is {spec.name}"
    return None, "no known base architecture and no rescaling layer"


def _check_container(path: Path) -> None:
    """A clear error for a file that is not even the container its suffix promises.

    Keras' own messages for these are misleading (a damaged .keras file is "File not found").
    """
    import h5py

    if path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        raise ModelLoadError(
            f"{path.name} is not a .keras model: it is not a zip archive (damaged, incomplete, "
            "or another kind of file renamed)."
        )
    if path.suffix.lower() in (".h5", ".hdf5") and not h5py.is_hdf5(path):
        raise ModelLoadError(
            f"{path.name} is not an HDF5 model: the file is damaged, incomplete, or of "
            "another kind."
        )


def _read_model_file(path: Path, trust: bool):
    _check_container(path)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=not trust)
    except ValueError as exc:
        message = str(exc)
        if "No model config found" in message:
            raise ModelLoadError(
                f"{path.name} holds only weights, not a model. Choose the architecture it "
                "belongs to and pass this file as its weights (--model NAME --weights FILE)."
            ) from exc
        if "safe_mode" in message or "Lambda" in message or "lambda" in message:
            raise UnsafeModelError(
                f"{path.name} contains code (a Lambda layer) that would run when loaded. Load it "
                "only if you trust where it came from: pass --trust-model on the command line or "
                "confirm in the window."
            ) from exc
        raise ModelLoadError(
            f"{path.name} is not a model Keras can read: {message.splitlines()[0]}"
        ) from exc
    except (OSError, TypeError, KeyError, AttributeError, ImportError) as exc:
        raise ModelLoadError(
            f"{path.name} could not be read as a Keras model ({type(exc).__name__}: {exc}). "
            "ConvLens reads .keras files and Keras HDF5 (.h5) models."
        ) from exc


def _image_input_size(model, path: Path) -> tuple[int, int]:
    """(height, width) of the model's one RGB image input; 224×224 where it takes any size."""
    inputs = model.inputs or []
    if len(inputs) != 1:
        raise ModelLoadError(
            f"{path.name} takes {len(inputs)} inputs; ConvLens needs a model with one image input."
        )
    shape = tuple(inputs[0].shape)
    if len(shape) != 4 or shape[-1] != 3:
        raise ModelLoadError(
            f"{path.name} expects input of shape {shape[1:]}; ConvLens feeds RGB images, "
            "(height, width, 3)."
        )
    return shape[1] or DEFAULT_INPUT_SIZE[0], shape[2] or DEFAULT_INPUT_SIZE[1]


def load_model_file(
    path: str | Path, *, preprocess: str | None = None, trust: bool = False
) -> LoadedModel:
    """Load a user's .keras/.h5 model, with class names and preprocessing from its metadata."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"The model file {path} does not exist.")
    if path.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelLoadError(f"{path.name}: ConvLens reads .keras and .h5 model files.")
    model = _read_model_file(path, trust)
    height, width = _image_input_size(model, path)
    metadata = model_metadata.read_metadata(path)
    notes = []
    mode = preprocess or metadata.get("preprocess") or model_metadata.remembered_preprocess(path)
    if mode is None:
        mode, reason = infer_preprocess(model)
        if mode is None:
            raise PreprocessingUnknownError(
                f"ConvLens cannot tell how {path.name} expects its input ({reason}). Choose its "
                f"preprocessing: {', '.join(PREPROCESS_MODES)} (--preprocess on the command line)."
            )
        notes.append(f"Preprocessing {mode!r} inferred: {reason}.")
    if mode not in PREPROCESS_MODES:
        raise ModelLoadError(
            f"Unknown preprocessing {mode!r}; choose one of {', '.join(PREPROCESS_MODES)}."
        )
    if preprocess:
        model_metadata.remember_preprocess(path, preprocess)
    # Class names belong to a (batch, classes) output; a feature extractor has none.
    shape = model.output_shape
    outputs = (shape[-1] or 0) if isinstance(shape, tuple) and len(shape) == 2 else 0
    names = metadata.get("class_names")
    if names and len(names) != class_count(outputs):
        notes.append(f"Ignored {len(names)} stored class names: the model has {outputs} outputs.")
        names = None
    if not names and outputs == 1000:
        names, ids = imagenet_names(), imagenet_ids()
    else:
        ids = None
    return LoadedModel(
        model=model,
        name=path.name,
        source="file",
        path=path,
        input_size=(int(height), int(width)),
        preprocess=mode,
        class_names=names or generic_names(class_count(outputs)),
        class_ids=ids,
        weights=str(path),
        notes=notes,
        # A model trained by ConvLens keeps the resize policy it was trained with.
        resize=metadata.get("resize", DEFAULT_RESIZE),
        resize_fixed="resize" in metadata,
        crop_fraction=float(metadata.get("crop_fraction", DEFAULT_CROP_FRACTION)),
    )
