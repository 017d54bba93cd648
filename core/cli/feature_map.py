"""``convlens map``: a 2-D map of images by their features, as CSV or a PNG scatter."""

from __future__ import annotations

from pathlib import Path

from core.cli.common import EXIT_OK, EXIT_SOME_FAILED, UsageError, add_source_options, make_source
from core.cli.progress import ProgressBars

NAME = "map"
NEEDS_TENSORFLOW = False  # a features file needs no model


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help="lay images out in 2-D by their features (PCA, UMAP, t-SNE): CSV or PNG"
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="a features file (.npz …), or images and folders"
    )
    parser.add_argument(
        "--method", choices=["pca", "umap", "tsne"], default="pca", help="layout (default: pca)"
    )
    parser.add_argument("--out", "-o", required=True, help="map.csv (path, x, y, label) or map.png")
    parser.add_argument(
        "--color-by",
        choices=["auto", "predicted", "folder", "cluster", "none"],
        default="auto",
        help="auto: folders when the images sit in several, else clusters (default)",
    )
    parser.add_argument(
        "--thumbnails", type=int, default=0, metavar="N", help="draw up to N images on the PNG"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the layout")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    add_source_options(parser)
    return parser


def run(args) -> int:
    from core.explore.export import MAP_FORMATS, render_map, write_map_csv, write_map_png
    from core.ops import OpContext, run_request
    from core.ops.feature_map import MapRequest

    suffix = Path(args.out).suffix.lower()
    if suffix not in MAP_FORMATS:
        raise UsageError(f"{args.out}: the map is written as .csv or .png")
    if not Path(args.out).absolute().parent.is_dir():
        raise UsageError(f"the folder {Path(args.out).absolute().parent} does not exist")
    if Path(args.out).exists() and not args.overwrite:
        raise UsageError(f"{args.out} already exists; pass --overwrite to replace it")
    with ProgressBars(phase_bars=True) as bars:
        engine, source = make_source(args, args.inputs, bars)
        ctx = OpContext(progress=bars.progress)
        predicted = ()
        if args.color_by == "predicted":
            predicted = _predicted(engine, source, ctx, bars)
        request = MapRequest(source, args.method, args.color_by, predicted, args.seed)
        result = run_request(engine, request, ctx)
        for path, reason in result.failed:
            bars.write(f"{path}: error: {reason}")
        if suffix == ".csv":
            write_map_csv(args.out, result.points, result.paths, result.labels, args.overwrite)
        else:
            image = render_map(
                result.points,
                list(result.labels),
                result.groups,
                list(result.paths),
                args.thumbnails,
                title=f"{source.describe()}: {args.method.upper()}, coloured by {result.color_by}",
            )
            write_map_png(args.out, image, args.overwrite)
    groups = len(result.groups)
    bars.write(
        f"Wrote a {args.method} map of {len(result.paths)} images to {args.out} "
        f"(coloured by {result.color_by}: {groups} group{'s' if groups != 1 else ''})"
    )
    return EXIT_SOME_FAILED if result.failed else EXIT_OK


def _predicted(engine, source, ctx, bars) -> tuple[tuple[str, str], ...]:
    """Top labels of the images; the same pass keeps their features for the map."""
    from core.ops import run_request
    from core.ops.classify import ClassifyRequest

    if engine is None:
        raise UsageError("--color-by predicted needs images, not a features file")
    if not engine.loaded.is_classifier:
        raise UsageError(f"{engine.loaded.name} has no classifier head to predict labels with")
    found = []
    ctx.partial = lambda item: found.append(item)
    bars.items("Classifying", len(source.paths))
    run_request(
        engine, ClassifyRequest(source.paths, top=1, batch_size=16, keep_features=True), ctx
    )
    ctx.partial = lambda item: None
    return tuple((c.path, c.labels[0].label) for c in found if c.labels)
