"""``convlens similar``: the images most like each query, by cosine similarity of features."""

from __future__ import annotations

import json

from core.cli.common import EXIT_OK, add_source_options, at_least_one, load_engine, make_source
from core.cli.progress import ProgressBars

NAME = "similar"
NEEDS_TENSORFLOW = False  # a features file that holds the queries needs no model


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="find the images most similar to a query image")
    parser.add_argument("queries", nargs="+", metavar="QUERY", help="image files to look for")
    parser.add_argument(
        "--in",
        dest="inputs",
        nargs="+",
        required=True,
        metavar="INPUT",
        help="where to look: a features file (.npz …), or images and folders",
    )
    parser.add_argument("--top", "-k", type=int, default=5, help="how many (default: 5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_source_options(parser)
    return parser


def run(args) -> int:
    from core.explore.features import read_feature_table
    from core.models.zoo import BUILTIN_NAME
    from core.ops import OpContext, run_request
    from core.ops.similar import SimilarRequest

    at_least_one(args.top, "--top")
    with ProgressBars(phase_bars=True) as bars:
        engine, source = make_source(args, args.inputs, bars)
        if engine is None:  # a features file: a model only for queries it does not hold
            table = read_feature_table(source.file)
            if any(table.index_of(q) is None for q in args.queries):
                stored = table.metadata.get("model")
                use_stored = stored and args.model == BUILTIN_NAME
                engine = load_engine(args, bars, stored if use_stored else None)
        request = SimilarRequest(source, tuple(args.queries), args.top)
        results = run_request(engine, request, OpContext(progress=bars.progress))
    if args.json:
        print(json.dumps([_as_dict(r) for r in results], indent=2))
        return EXIT_OK
    for result in results:
        print(f"{result.query}:")
        for found in result.neighbours:
            print(f"  {found.similarity:.3f}  {found.path}")
    return EXIT_OK


def _as_dict(result) -> dict:
    return {
        "query": result.query,
        "neighbours": [
            {"path": n.path, "similarity": round(n.similarity, 6)} for n in result.neighbours
        ],
    }
