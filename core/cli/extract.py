"""``convlens extract``: feature vectors of images at one layer, through the extract op."""

from __future__ import annotations

from pathlib import Path

from core.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    add_backend_option,
    add_model_options,
    at_least_one,
    backend_notice,
    check_output,
    open_engine,
    require_images,
    resolve_layer,
)
from core.cli.progress import ProgressBars
from core.engine.pooling import POOLINGS

NAME = "extract"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help="export feature vectors; format from --out's extension"
    )
    add_model_options(parser)
    add_backend_option(parser)
    parser.add_argument(
        "--layer",
        "-l",
        help="layer path, or its name when no other layer has it (default: the penultimate)",
    )
    parser.add_argument(
        "--pool",
        choices=list(POOLINGS),
        help="how to reduce conv maps to vectors (default: avg for conv layers)",
    )
    parser.add_argument("--out", "-o", required=True, help="output file: .npz, .npy, .csv or .h5")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="image files or folders (recursive)"
    )
    return parser


def run(args) -> int:
    from core.ops import OpContext, run_request
    from core.ops.extract import ExtractRequest

    check_output(args.out, args.overwrite)  # before minutes of work, and before the load
    at_least_one(args.batch_size, "--batch-size")
    paths = require_images(args.paths)
    failed = 0

    with ProgressBars() as bars:
        engine = open_engine(args, bars)
        layer = resolve_layer(engine, args.layer, args.model) if args.layer else None

        def unreadable(item) -> None:
            nonlocal failed
            failed += 1
            path, reason = item
            bars.write(f"{path}: error: {reason}")

        bars.items("Extracting", len(paths))
        request = ExtractRequest(
            tuple(map(str, paths)),
            Path(args.out),
            layer,
            args.pool,
            args.overwrite,
            args.batch_size,
        )
        # No readable image at all: the op raises ExportError (exit 1) after the reasons.
        result = run_request(engine, request, OpContext(progress=bars.progress, partial=unreadable))
        backend_notice(engine, bars)
    bars.write(f"Wrote {result.count} vectors of {result.shape} to {args.out}")
    return EXIT_SOME_FAILED if failed else EXIT_OK
