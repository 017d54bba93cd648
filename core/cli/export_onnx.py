"""``convlens export-onnx``: the model as an ONNX file, checked against Keras before writing."""

from __future__ import annotations

from pathlib import Path

from core.cli.common import EXIT_OK, UsageError, check_output, load_model
from core.cli.progress import ProgressBars
from core.models.preprocessing import PREPROCESS_MODES

NAME = "export-onnx"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME,
        help="write the model as .onnx (class names, input size, preprocessing inside)",
        description="Convert a model to ONNX for ONNX Runtime (servers, phones, the browser). "
        "The file is compared with Keras on test inputs before it is written.",
    )
    parser.add_argument("model", metavar="MODEL", help="zoo name or a .keras/.h5 file")
    parser.add_argument("--out", "-o", required=True, metavar="FILE.onnx", help="file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument(
        "--weights", default="imagenet", help="imagenet (default), none, or a weights file"
    )
    parser.add_argument(
        "--preprocess",
        choices=list(PREPROCESS_MODES),
        help="input preprocessing for a model file whose preprocessing is unknown",
    )
    parser.add_argument(
        "--trust-model",
        action="store_true",
        help="allow loading a model file that contains code (Lambda layers)",
    )
    return parser


def run(args) -> int:
    from core.engine.engine import Engine
    from core.ops import OpContext, run_request
    from core.ops.export_onnx import ExportOnnxRequest

    check_output(args.out, args.overwrite, ".onnx")
    with ProgressBars() as bars:
        engine = Engine(load_model(args, bars))
        if engine.loaded.random_weights:
            bars.write("note: exporting random weights (--weights none)")
        request = ExportOnnxRequest(Path(args.out), args.overwrite)
        try:
            result = run_request(engine, request, OpContext(progress=bars.progress))
        except FileExistsError as exc:  # appeared while converting
            raise UsageError(f"{args.out} already exists; pass --overwrite to replace it") from exc
        megabytes = result.size_bytes / 1e6
        bars.write(
            f"Wrote {args.out} ({megabytes:.1f} MB; largest difference from Keras "
            f"{result.max_abs_diff:.1e})"
        )
    return EXIT_OK
