"""``convlens classify``: the top-k labels of images and folders, through the classify op."""

from __future__ import annotations

import json
import sys

from core.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    UsageError,
    add_backend_option,
    add_fit_options,
    add_model_options,
    at_least_one,
    backend_notice,
    open_engine,
    require_images,
)
from core.cli.progress import ProgressBars

NAME = "classify"
# TensorFlow is imported only when the model has no verified ONNX conversion in the cache.
NEEDS_TENSORFLOW = False
BATCH_SIZE = 16  # the request's default is one batch of everything: too much for a folder


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="top-k labels for images and folders")
    add_model_options(parser)
    add_fit_options(parser, input_size=False)  # the ImageNet top needs the model's own size
    add_backend_option(parser)
    parser.add_argument(
        "--top", "-k", type=int, default=5, help="how many labels per image (default 5)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON list, one object per image"
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="image files or folders (recursive)"
    )
    return parser


def as_dict(result, weights: str | None = None) -> dict:
    """A core.ops.classify.Classified in the --json schema; weights: "imagenet", "random"
    (the predictions mean nothing) or the weights/model file, when known."""
    if result.error is not None:
        return {"path": result.path, "error": result.error}
    found = {"path": result.path, "predictions": [label.to_dict() for label in result.labels]}
    return found if weights is None else {**found, "weights": weights}


def run(args) -> int:
    from core.ops import OpContext, run_request
    from core.ops.classify import ClassifyRequest

    at_least_one(args.top, "--top")
    paths = require_images(args.paths)
    with ProgressBars() as bars:
        engine = open_engine(args, bars, from_cache=True)
        if not engine.loaded.is_classifier:
            raise UsageError(
                f"{engine.loaded.name} has no classifier top; "
                "use 'convlens extract' for its features"
            )
        results, failed = [], 0

        def show(result) -> None:
            nonlocal failed
            failed += result.error is not None
            if args.json:
                results.append(as_dict(result, engine.loaded.weights))
            elif result.error is not None:
                bars.write(f"{result.path}: error: {result.error}")
            else:
                labels = ", ".join(f"{p.label} {p.probability:.1%}" for p in result.labels)
                bars.write(f"{result.path}: {labels}", sys.stdout)

        bars.items("Classifying", len(paths))
        request = ClassifyRequest(tuple(map(str, paths)), args.top, BATCH_SIZE)
        run_request(engine, request, OpContext(progress=bars.progress, partial=show))
        backend_notice(engine, bars)
    if args.json:
        print(json.dumps(results, indent=2))
    return EXIT_SOME_FAILED if failed else EXIT_OK
