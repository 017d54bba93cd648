"""The ``convlens`` command line: models, classify, layers, extract (and train).

Heavy modules (TensorFlow) are imported inside each subcommand so ``--help`` and usage
errors answer at once. Exit status: 0 all inputs succeeded, 1 some failed, 2 usage error,
130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.errors import ConvLensError
from core.zoo import BUILTIN_NAME

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class UsageError(Exception):
    """Bad arguments: reported on one line, exit status 2."""


def _model_options(parser: argparse.ArgumentParser, weights: bool = True) -> None:
    parser.add_argument(
        "--model",
        "-m",
        default=BUILTIN_NAME,
        help=f"zoo name (case-insensitive) or a .keras/.h5 file (default: {BUILTIN_NAME})",
    )
    if weights:
        parser.add_argument(
            "--weights", default="imagenet", help="imagenet (default), none, or a weights file"
        )
    parser.add_argument(
        "--preprocess",
        choices=["none", "tf", "caffe", "torch", "lite"],
        help="input preprocessing for a model file whose preprocessing is unknown (remembered)",
    )
    parser.add_argument(
        "--trust-model",
        action="store_true",
        help="allow loading a model file that contains code (Lambda layers)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convlens",
        description="Look inside image-classification CNNs. "
        "With no arguments, opens the ConvLens window.",
    )
    parser.add_argument("--version", action="version", version="convlens 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    models = sub.add_parser("models", help="list the models and whether their weights are cached")
    models.add_argument("--json", action="store_true", help="machine-readable output")

    classify = sub.add_parser("classify", help="top-k labels for images and folders")
    _model_options(classify)
    classify.add_argument(
        "--top", "-k", type=int, default=5, help="how many labels per image (default 5)"
    )
    classify.add_argument(
        "--json", action="store_true", help="print a JSON list, one object per image"
    )
    classify.add_argument(
        "paths", nargs="+", metavar="PATH", help="image files or folders (recursive)"
    )

    layers = sub.add_parser("layers", help="the layer tree of a model")
    _model_options(layers)
    layers.add_argument("--json", action="store_true", help="machine-readable output")

    extract = sub.add_parser(
        "extract", help="export feature vectors; format from --out's extension"
    )
    _model_options(extract)
    extract.add_argument("--layer", "-l", help="layer path (default: the penultimate layer)")
    extract.add_argument(
        "--pool",
        choices=["avg", "max", "flatten", "none"],
        help="how to reduce conv maps to vectors (default: avg for conv layers)",
    )
    extract.add_argument("--out", "-o", required=True, help="output file: .npz, .npy, .csv or .h5")
    extract.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    extract.add_argument("--batch-size", type=int, default=16)
    extract.add_argument(
        "paths", nargs="+", metavar="PATH", help="image files or folders (recursive)"
    )

    from core.cli_train import add_train_parser  # here: cli_train imports this module

    add_train_parser(sub)
    return parser


def _load(args):
    from core.models import (
        MissingFileError,
        PreprocessingUnknownError,
        UnknownModelError,
        UnsafeModelError,
        load_model,
    )

    status = _LoadStatus()
    try:
        return load_model(
            args.model,
            weights=getattr(args, "weights", "imagenet"),
            preprocess=args.preprocess,
            trust=args.trust_model,
            progress=status,
        )
    except (
        UnknownModelError,
        MissingFileError,
        PreprocessingUnknownError,
        UnsafeModelError,
    ) as exc:
        # The command line has to change (another name, --preprocess, --trust-model).
        raise UsageError(str(exc)) from exc
    finally:
        status.close()


class _LoadStatus:
    """Progress while a model loads: one line per step, a byte bar for a weights download."""

    def __init__(self) -> None:
        self._bar = None
        self._shown: set[str] = set()

    def __call__(self, done: int, total: int, message: str) -> None:
        if message.startswith("Downloading") and total:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(
                    total=total, unit="B", unit_scale=True, file=sys.stderr, desc=message
                )
            self._bar.update(done - self._bar.n)
        elif message and message not in self._shown:
            self._shown.add(message)
            print(message, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def cmd_models(args) -> int:
    from core.zoo import ZOO, weights_cached

    rows = []
    for spec in ZOO.values():
        rows.append(
            {
                "name": spec.name,
                "family": spec.family,
                "input_size": list(spec.input_size),
                "preprocess": spec.preprocess,
                "builtin": spec.builtin,
                "weights_cached": weights_cached(spec, True),
                "download_mb": spec.download_mb,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    print(f"{'model':<18}{'input':>9}  {'preprocess':<10} weights")
    for row in rows:
        if row["builtin"]:
            state = "built in (offline)"
        elif row["weights_cached"]:
            state = "cached"
        else:
            state = f"download {row['download_mb']} MB"
        size = "×".join(map(str, row["input_size"]))
        print(f"{row['name']:<18}{size:>9}  {row['preprocess']:<10} {state}")
    return EXIT_OK


def _progress_bar(total_hint: str):
    from tqdm import tqdm

    # Shown even when stderr is not a terminal: logs of long runs should show progress too.
    bar = tqdm(total=0, unit="img", file=sys.stderr, desc=total_hint, disable=False)

    def update(done: int, total: int, message: str) -> None:
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update


def cmd_classify(args) -> int:
    from core.inference import Engine

    if args.top < 1:
        raise UsageError("--top must be at least 1")
    paths = _require_images(args.paths)
    engine = Engine(_load(args))
    if not engine.loaded.is_classifier:
        raise UsageError(
            f"{engine.loaded.name} has no classifier top; use 'convlens extract' for its features"
        )
    results, failed = [], 0
    for result in engine.classify_paths(paths, top=args.top):
        failed += result.error is not None
        if args.json:
            results.append(result.to_dict())
        elif result.error is not None:
            print(f"{result.path}: error: {result.error}", file=sys.stderr)
        else:
            labels = ", ".join(f"{p.label} {p.probability:.1%}" for p in result.predictions)
            print(f"{result.path}: {labels}")
    if args.json:
        print(json.dumps(results, indent=2))
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _require_images(paths) -> list[Path]:
    """The images to work on; a usage error when there are none at all.

    A missing path among others is kept: it fails on its own and the rest are done.
    """
    from core.images import find_images

    missing = [p for p in paths if not Path(p).exists()]
    if missing and len(missing) == len(paths):
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    images = find_images(paths)
    if not images:
        raise UsageError(f"no images found in {', '.join(paths)}")
    return images


def cmd_layers(args) -> int:
    from core.layers import layer_tree

    loaded = _load(args)
    tree = layer_tree(loaded.model)
    if args.json:
        print(
            json.dumps(
                {"model": loaded.describe(), "layers": [node.to_dict() for node in tree]}, indent=2
            )
        )
        return EXIT_OK

    def show(nodes, depth):
        for node in nodes:
            shape = (
                "×".join("?" if d is None else str(d) for d in node.output_shape)
                if node.output_shape
                else "?"
            )
            frozen = "" if node.trainable else "  (frozen)"
            print(
                f"{'  ' * depth}{node.name:<{40 - 2 * depth}} {node.class_name:<24} {shape:<16} {node.params:>10,}{frozen}"
            )
            show(node.children, depth + 1)

    show(tree, 0)
    return EXIT_OK


def cmd_extract(args) -> int:
    from core.errors import ExportError
    from core.export import export_format, write_features
    from core.inference import Engine

    try:
        export_format(args.out)
    except ExportError as exc:
        raise UsageError(str(exc)) from exc
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise UsageError(f"{args.out} already exists; pass --overwrite to replace it")
    if not out.absolute().parent.is_dir():
        raise UsageError(f"the folder {out.absolute().parent} does not exist")
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    paths = _require_images(args.paths)
    engine = Engine(_load(args))
    layer = args.layer or engine.default_feature_layer()
    try:  # asked even with --pool: it checks that the layer exists before any work is done
        default_pooling = engine.default_pooling(layer)
    except KeyError as exc:
        raise UsageError(
            f"{exc.args[0]} See the layer names with: convlens layers --model {args.model}"
        ) from exc
    pooling = args.pool or default_pooling
    bar, update = _progress_bar("Extracting")
    with bar:
        features = engine.extract_features(
            paths, layer, pooling, batch_size=args.batch_size, progress=update
        )
    for path, error in features.failed:
        print(f"{path}: error: {error}", file=sys.stderr)
    if len(features.paths):
        write_features(
            args.out,
            features.vectors,
            features.paths,
            engine.feature_metadata(layer, pooling),
            overwrite=args.overwrite,
        )
        print(
            f"Wrote {len(features.paths)} vectors of {features.vectors.shape[1:]} to {args.out}",
            file=sys.stderr,
        )
    return EXIT_SOME_FAILED if features.failed else EXIT_OK


COMMANDS = {
    "models": cmd_models,
    "classify": cmd_classify,
    "layers": cmd_layers,
    "extract": cmd_extract,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or argparse's usage error (status 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handler = COMMANDS.get(args.command) or getattr(args, "handler", None)
    if args.command != "models":
        from core.tf_runtime import import_tensorflow_quietly

        import_tensorflow_quietly()  # so TF's native start-up lines don't bury our output
    try:
        return handler(args)
    except UsageError as exc:
        print(f"convlens {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConvLensError as exc:
        print(f"convlens {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    except KeyboardInterrupt:
        print("convlens: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
