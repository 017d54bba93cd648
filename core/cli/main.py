"""The ``convlens`` command line: builds the parser from the commands and runs one.

Each command is a module with ``add_parser(subparsers)`` and ``run(args) -> int`` (and
``NEEDS_TENSORFLOW = False`` if it never loads a model); a new command is a new module and
one line in COMMANDS. Heavy modules are imported inside ``run``, so ``--help`` and usage
errors answer at once. Exit status: 0 all inputs succeeded, 1 some failed, 2 usage error,
130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import sys

import core
from core.cli import (
    classify,
    duplicates,
    explain,
    export_onnx,
    extract,
    feature_map,
    layers,
    models,
    similar,
    train,
)
from core.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    Parser,
    UsageError,
)
from core.errors import ConvLensError

COMMANDS = [
    models,
    classify,
    layers,
    extract,
    train,
    explain,
    export_onnx,
    feature_map,
    similar,
    duplicates,
]


def build_parser() -> Parser:
    parser = Parser(
        prog="convlens",
        description="Look inside image-classification CNNs. "
        "With no arguments, opens the ConvLens window.",
    )
    parser.add_argument("--version", action="version", version=f"convlens {core.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers).set_defaults(run_command=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (status 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    command = args.run_command
    if getattr(command, "NEEDS_TENSORFLOW", True):
        from core.engine.tf_runtime import import_tensorflow_quietly

        import_tensorflow_quietly()  # so TF's native start-up lines don't bury our output
    try:
        return command.run(args)
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
