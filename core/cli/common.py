"""What the commands share: exit statuses, usage errors, model options and checks of inputs
and outputs. Light module: TensorFlow is imported only when a model is loaded.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.progress import ProgressBars
from core.engine.pooling import POOLINGS
from core.io.images import RESIZE_MODES
from core.models.preprocessing import PREPROCESS_MODES
from core.models.zoo import BUILTIN_NAME

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class UsageError(Exception):
    """Bad arguments: reported on one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and point to --help.

    argparse prints the whole usage block above the error, which buries the one line that
    says what is wrong. Subparsers are made of the same class, so each names its command.
    """

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def add_model_options(parser: argparse.ArgumentParser, base: bool = False) -> None:
    """--model and --weights; --preprocess and --trust-model unless it is a training base."""
    what = "base: a zoo name" if base else "zoo name (case-insensitive)"
    parser.add_argument(
        "--model",
        "-m",
        default=BUILTIN_NAME,
        help=f"{what} or a .keras/.h5 file (default: {BUILTIN_NAME})",
    )
    parser.add_argument(
        "--weights", default="imagenet", help="imagenet (default), none, or a weights file"
    )
    if base:
        return
    parser.add_argument(
        "--preprocess",
        choices=list(PREPROCESS_MODES),
        help="input preprocessing for a model file whose preprocessing is unknown (remembered)",
    )
    parser.add_argument(
        "--trust-model",
        action="store_true",
        help="allow loading a model file that contains code (Lambda layers)",
    )


def add_backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=["auto", "onnx", "tf"],
        default="auto",
        help="auto (default): ONNX Runtime once the model is converted and verified, else "
        "TensorFlow; onnx: ONNX Runtime or an error; tf: TensorFlow only",
    )


def open_engine(args, bars: ProgressBars, from_cache: bool = False):
    """The Engine for the model options and --backend. from_cache: answer from a verified
    ONNX conversion in the cache when there is one, without importing TensorFlow."""
    from core.engine import fast_start
    from core.engine.engine import Engine, make_backend
    from core.models.options import apply_resize

    backend = getattr(args, "backend", "tf")
    input_size = getattr(args, "input_size", None)
    if from_cache and backend != "tf" and input_size is None:
        engine = fast_start.cached_engine(
            args.model, args.weights, args.preprocess, args.trust_model, backend == "onnx"
        )
        if engine is not None:
            overruled = apply_resize(engine.loaded, getattr(args, "resize", None))
            if overruled:
                bars.write(f"warning: {overruled}")
            engine.resize_mode = engine.loaded.resize  # the engine was made before
            return engine
    from core.engine.onnx_cache import source_key
    from core.engine.tf_runtime import import_tensorflow_quietly

    import_tensorflow_quietly()
    loaded = load_model(args, bars)
    if backend == "tf":
        return Engine(loaded, make_backend(loaded, "keras"))
    # A zoo model built headless at another size is not the one its name stands for.
    skey = None if input_size else source_key(args.model, args.weights, args.preprocess)
    engine = Engine(loaded, make_backend(loaded, backend, source_key=skey))
    engine.backend.progress = bars.progress
    return engine


def backend_notice(engine, bars: ProgressBars) -> None:
    """The one line saying why TensorFlow ran a model meant for ONNX Runtime, if it did."""
    notice = getattr(engine.backend, "notice", None)
    if notice:
        bars.write(f"note: {notice}")


def add_fit_options(parser: argparse.ArgumentParser, resize=True, input_size=True) -> None:
    """--resize (how photos are fitted) and --input-size (a zoo model built headless)."""
    if input_size:
        parser.add_argument(
            "--input-size",
            type=input_size_type,
            metavar="N|H,W",
            help="input size of a zoo model, built without its ImageNet classifier as "
            "include_top=False, input_shape=(H, W, 3) does (default: the model's own)",
        )
    if resize:
        parser.add_argument(
            "--resize",
            choices=list(RESIZE_MODES),
            help="how photos are fitted to the input: crop (centre 87.5%%, ImageNet "
            "evaluation; the default) or squash (the whole photo, as keras.utils.load_img); "
            "a model trained by ConvLens keeps its own",
        )


def input_size_type(text: str) -> tuple[int, int]:
    """argparse type for --input-size: "300" or "300,400"."""
    from core.models.options import parse_input_size

    try:
        return parse_input_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def load_model(args, bars: ProgressBars | None = None, warn_random: bool = True):
    """The LoadedModel the options name; UsageError when the command line must change.

    Prints a warning line when the weights are random (nothing it predicts means anything)
    and when a trained model keeps its own resize policy against --resize.
    """
    from core.errors import UnsafeModelError
    from core.models.loading import PreprocessingUnknownError
    from core.models.loading import load_model as load
    from core.models.options import apply_resize, build_options
    from core.models.source import MissingFileError, UnknownModelError

    own = bars is None
    bars = bars or ProgressBars()
    try:
        try:
            options = build_options(args.model, getattr(args, "input_size", None))
        except ValueError as exc:  # an input size for a model file
            raise UsageError(str(exc)) from exc
        loaded = load(
            args.model,
            weights=args.weights,
            preprocess=args.preprocess,
            trust=args.trust_model,
            progress=bars.progress,
            **options,
        )
        overruled = apply_resize(loaded, getattr(args, "resize", None))
        if overruled:
            bars.write(f"warning: {overruled}")
        if warn_random and loaded.random_weights:
            bars.write(f"warning: {random_weights_warning(loaded.name)}")
        return loaded
    except (
        UnknownModelError,
        MissingFileError,
        PreprocessingUnknownError,
        UnsafeModelError,
    ) as exc:
        # Another name, --preprocess or --trust-model fixes these; a failed download does not.
        raise UsageError(str(exc)) from exc
    finally:
        if own:
            bars.close()


def random_weights_warning(name: str) -> str:
    return (
        f"{name} has random weights (--weights none): its predictions and features are "
        "meaningless; use --weights imagenet or a weights file for real ones"
    )


def require_images(paths: list[str]) -> list[Path]:
    """The images to work on; a usage error when there are none at all.

    A missing path among others is kept: it fails on its own and the rest are done.
    """
    from core.io.images import find_images

    missing = [p for p in paths if not Path(p).exists()]
    if missing and len(missing) == len(paths):
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    images = find_images(paths)
    if not images:
        raise UsageError(f"no images found in {', '.join(paths)}")
    return images


def check_output(path: str, overwrite: bool, suffix: str | None = None) -> None:
    """UsageError unless path can be written, asked before any work starts.

    suffix: the one the file must end in; None for a feature file (.npz, .npy, .csv, .h5).
    """
    from core.errors import ExportError
    from core.io.export import export_format

    target = Path(path)
    if suffix is None:
        try:
            export_format(target)
        except ExportError as exc:
            raise UsageError(str(exc)) from exc
    elif target.suffix.lower() != suffix:
        raise UsageError(f"{path}: the file name must end in {suffix}")
    if not target.absolute().parent.is_dir():
        raise UsageError(f"the folder {target.absolute().parent} does not exist")
    if target.exists() and not overwrite:
        raise UsageError(f"{path} already exists; pass --overwrite to replace it")


def resolve_layer(engine, name: str, model: str) -> str:
    """The full path of the layer named; UsageError saying how to list them otherwise."""
    try:
        return engine.resolve_layer(name)
    except KeyError as exc:
        raise UsageError(
            f"{exc.args[0]} See the layer names with: convlens layers --model {model}"
        ) from exc


def at_least_one(value: int, option: str) -> None:
    if value < 1:
        raise UsageError(f"{option} must be at least 1")


# -- the explore commands: a features file, or images through a model --------------------


def add_source_options(parser) -> None:
    """The input options of the explore commands (map, similar, duplicates)."""
    add_model_options(parser)
    parser.add_argument(
        "--layer", "-l", help="layer of the features (default: the penultimate); images only"
    )
    parser.add_argument(
        "--pool", choices=list(POOLINGS), help="pooling of conv maps (default: avg); images only"
    )


def is_features(inputs: list[str]) -> bool:
    """One features file (.npz, .npy, .csv, .h5) rather than images and folders."""
    from core.explore.features import is_feature_file

    files = [is_feature_file(p) for p in inputs]
    if any(files) and len(inputs) > 1:
        raise UsageError("give one features file, or images and folders, not both")
    return bool(files and files[0])


def make_source(args, inputs: list[str], bars):
    """(engine or None, FeatureSource) for the inputs; the model is loaded only for images."""
    from core.ops.feature_source import FeatureSource

    if is_features(inputs):
        return None, FeatureSource(file=str(inputs[0]))
    images = require_images(inputs)
    engine = load_engine(args, bars)
    layer = resolve_layer(engine, args.layer, args.model) if args.layer else None
    return engine, FeatureSource(tuple(map(str, images)), None, layer, args.pool)


def load_engine(args, bars, model: str | None = None):
    from core.engine.engine import Engine
    from core.engine.tf_runtime import import_tensorflow_quietly

    import_tensorflow_quietly()  # the explore commands skip it for features files
    if model:
        args.model = model
    return Engine(load_model(args, bars))
