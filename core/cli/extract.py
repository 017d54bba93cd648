"""``convlens extract``: feature vectors of images at one layer, through the extract op
(streamed to disk, resumable) or on a Ray cluster (``--engine ray``)."""

from __future__ import annotations

import sys
from pathlib import Path

from core.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SOME_FAILED,
    UsageError,
    add_backend_option,
    add_fit_options,
    add_model_options,
    at_least_one,
    backend_notice,
    check_output,
    load_model,
    open_engine,
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
    add_fit_options(parser)
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
    parser.add_argument(
        "--out", "-o", required=True, help="output file: .npz, .npy, .csv, .h5 or .parquet"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run of the same command, skipping the images it did",
    )
    parser.add_argument(
        "--restart", action="store_true", help="discard an interrupted run and start again"
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--checkpoint",
        type=int,
        metavar="N",
        default=1024,
        help="save the work every N images, for --resume (default: 1024)",
    )
    parser.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local (default), or Ray Data: a .parquet folder of shards (pip install 'convlens[ray]')",
    )
    parser.add_argument(
        "--address",
        metavar="ADDR",
        help="with --engine ray: the cluster to join (default: start Ray on this machine)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --engine ray: model copies (actors) to run (default: one per CPU)",
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="image files or folders (recursive)"
    )
    return parser


def run(args) -> int:
    from core.errors import Cancelled
    from core.ops.extract import UnfinishedRunError

    if args.resume and args.restart:
        raise UsageError("choose one of --resume and --restart")
    if args.engine == "ray":
        return _run_ray(args)
    if args.address or args.workers:
        raise UsageError("--address and --workers go with --engine ray")
    check_output(args.out, args.overwrite)  # before minutes of work, and before the load
    at_least_one(args.batch_size, "--batch-size")
    at_least_one(args.checkpoint, "--checkpoint")
    require_some_image(args.paths)
    try:
        return _run_local(args)
    except UnfinishedRunError as exc:
        raise UsageError(str(exc)) from exc
    except (KeyboardInterrupt, Cancelled):
        print(
            "convlens extract: interrupted; what is done is kept. Run the same command with "
            "--resume to continue, or with --restart to start again.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


def require_some_image(paths: list[str]) -> None:
    """A usage error when the paths hold no image at all (without listing them all)."""
    from core.io.images import iter_images

    missing = [p for p in paths if not Path(p).exists()]
    if missing and len(missing) == len(paths):
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    if next(iter_images(paths), None) is None:
        raise UsageError(f"no images found in {', '.join(paths)}")


def _run_local(args) -> int:
    from core.ops import OpContext, run_request
    from core.ops.extract import ExtractRequest

    with ProgressBars() as bars:
        engine = open_engine(args, bars)
        layer = resolve_layer(engine, args.layer, args.model) if args.layer else None

        def unreadable(item) -> None:
            path, reason = item
            bars.write(f"{path}: error: {reason}")

        bars.items("Extracting", 0)
        request = ExtractRequest(
            tuple(map(str, args.paths)),
            Path(args.out),
            layer,
            args.pool,
            args.overwrite,
            args.batch_size,
            resume=args.resume,
            restart=args.restart,
            keep_unfinished=True,
            checkpoint=args.checkpoint,
        )
        # No readable image at all: the op raises ExportError (exit 1) after the reasons.
        result = run_request(engine, request, OpContext(progress=bars.progress, partial=unreadable))
        backend_notice(engine, bars)
    if result.resumed:
        bars.write(f"Resumed after {result.resumed} images done before")
    if result.failed:
        bars.write(f"{len(result.failed)} images could not be read (listed in {args.out})")
    bars.write(f"Wrote {result.count} vectors of {result.shape} to {args.out}")
    return EXIT_SOME_FAILED if result.failed else EXIT_OK


def _run_ray(args) -> int:
    """The same extraction on Ray Data: Parquet shards in the folder --out names."""
    from dataclasses import replace

    from core.engine.engine import Engine
    from core.ops import OpContext, run_request
    from core.ops.extract_ray import RayExtractRequest

    if Path(args.out).suffix.lower() != ".parquet":
        raise UsageError(
            "with --engine ray, --out is a folder of Parquet shards: end it in .parquet"
        )
    if args.resume or args.restart:
        raise UsageError(
            "--resume and --restart are for the local engine (Ray retries failed tasks)"
        )
    check_output(args.out, args.overwrite)
    at_least_one(args.batch_size, "--batch-size")
    if args.workers is not None:
        at_least_one(args.workers, "--workers")
    require_some_image(args.paths)
    request = RayExtractRequest(
        tuple(map(str, args.paths)),
        Path(args.out),
        model=_for_workers(args.model),
        weights=_for_workers(args.weights),
        preprocess=args.preprocess,
        trust=args.trust_model,
        layer=args.layer,
        pooling=args.pool,
        overwrite=args.overwrite,
        batch_size=args.batch_size,
        address=args.address,
        workers=args.workers,
    )
    with ProgressBars() as bars:
        # Loaded here too: a wrong model or layer is a one-line error before Ray starts.
        engine = Engine(load_model(args, bars))
        if args.layer:
            request = replace(request, layer=resolve_layer(engine, args.layer, args.model))
        result = run_request(engine, request, OpContext(progress=bars.progress))
    if result.failed:
        bars.write(f"{len(result.failed)} images could not be read (listed in {args.out})")
    bars.write(f"Wrote {result.count} vectors of {result.shape} to {args.out}")
    return EXIT_SOME_FAILED if result.failed else EXIT_OK


def _for_workers(value: str) -> str:
    """A file argument as an absolute path, which Ray's workers find wherever they run."""
    return str(Path(value).absolute()) if Path(value).exists() else value
