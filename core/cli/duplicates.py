"""``convlens duplicates``: groups of near-duplicate images, and the least typical per class."""

from __future__ import annotations

import json

from core.cli.common import EXIT_OK, UsageError, add_source_options, make_source
from core.cli.progress import ProgressBars
from core.explore.cleaning import DEFAULT_THRESHOLD

NAME = "duplicates"
NEEDS_TENSORFLOW = False  # a features file needs no model


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help="find near-duplicate images (and the least typical ones) before training"
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="a features file (.npz …), or images and folders"
    )
    parser.add_argument(
        "--threshold",
        "-t",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"cosine similarity that makes two images duplicates (default: {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--least-typical",
        type=int,
        default=0,
        metavar="N",
        help="also list the N least typical images of each folder (class)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_source_options(parser)
    return parser


def run(args) -> int:
    from core.ops import OpContext, run_request
    from core.ops.duplicates import DuplicatesRequest

    if not 0.0 < args.threshold <= 1.0:
        raise UsageError("--threshold must be above 0 and at most 1")
    if args.least_typical < 0:
        raise UsageError("--least-typical must be 0 or more")
    with ProgressBars(phase_bars=True) as bars:
        engine, source = make_source(args, args.inputs, bars)
        request = DuplicatesRequest(source, args.threshold, args.least_typical)
        result = run_request(engine, request, OpContext(progress=bars.progress))
    if args.json:
        print(json.dumps(_as_dict(result), indent=2))
        return EXIT_OK
    if not result.groups:
        print(f"No near-duplicates (similarity ≥ {args.threshold}) among {result.count} images.")
    for number, group in enumerate(result.groups, start=1):
        print(f"Group {number}: {len(group.paths)} images, similarity ≥ {group.similarity:.3f}")
        for path in group.paths:
            print(f"  {path}")
    if result.least_typical:
        print("Least typical:")
        for item in result.least_typical:
            print(f"  {item.label}: {item.similarity:.3f}  {item.path}")
    return EXIT_OK


def _as_dict(result) -> dict:
    return {
        "images": result.count,
        "threshold": result.request.threshold,
        "groups": [
            {"similarity": round(g.similarity, 6), "paths": list(g.paths)} for g in result.groups
        ],
        "least_typical": [
            {"label": a.label, "path": a.path, "similarity": round(a.similarity, 6)}
            for a in result.least_typical
        ],
    }
