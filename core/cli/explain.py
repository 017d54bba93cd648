"""``convlens explain``: heatmaps of what made the model say a class, as PNGs and raw maps.

For every image and class it writes ``DIR/<image>_<class>_<method>.png`` (the heatmap over
the photo; the part the network did not see is dimmed) and ``….npy`` (the method's raw map:
at the layer's resolution for Grad-CAM, at the input's for the pixel methods). Files are
written atomically; an existing file is only replaced with --overwrite.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from pathlib import Path

from core.cli.common import (
    EXIT_OK,
    EXIT_SOME_FAILED,
    UsageError,
    add_fit_options,
    add_model_options,
    at_least_one,
    load_model,
    require_images,
    resolve_layer,
)
from core.cli.progress import ProgressBars
from core.explain import DEFAULT_METHOD, METHODS, ExplainOptions

NAME = "explain"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME,
        help="heatmaps of what made the model say a class (Grad-CAM and others)",
        description="Explain predictions: for each image, write the heatmap over the photo "
        "(PNG) and the method's raw map (.npy) to --out.",
    )
    add_model_options(parser)
    add_fit_options(parser, input_size=False)  # explaining needs the classifier
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--class",
        dest="label",
        metavar="LABEL",
        help="the class to explain: its name, id or output index (default: the top class)",
    )
    which.add_argument(
        "--top",
        "-k",
        type=int,
        default=1,
        metavar="N",
        help="explain each of the top N classes (default 1)",
    )
    parser.add_argument(
        "--method",
        choices=list(METHODS),
        default=DEFAULT_METHOD,
        help="; ".join(f"{name}: {method.summary}" for name, method in METHODS.items()),
    )
    parser.add_argument(
        "--layer",
        "-l",
        help="the conv layer for gradcam/gradcam++ (default: the last one, nested or not)",
    )
    parser.add_argument("--out", "-o", required=True, metavar="DIR", help="folder for the files")
    parser.add_argument("--overwrite", action="store_true", help="replace files that exist")
    parser.add_argument(
        "--opacity",
        type=float,
        default=0.5,
        help="of the heatmap over the photo, 0–1 (default 0.5)",
    )
    parser.add_argument(
        "--size",
        type=int,
        default=1024,
        metavar="PIXELS",
        help="longer side of the PNGs, at most (default 1024)",
    )
    defaults = ExplainOptions()
    parser.add_argument(
        "--steps",
        type=int,
        default=defaults.steps,
        metavar="N",
        help=f"integrated-gradients: steps on the path (default {defaults.steps})",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=defaults.samples,
        metavar="N",
        help=f"smoothgrad: noisy copies (default {defaults.samples})",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=defaults.batch_size,
        metavar="N",
        help=f"images per pass for the slower methods (default {defaults.batch_size}); "
        "lower it if memory runs short",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of what was written")
    parser.add_argument(
        "paths", nargs="+", metavar="IMAGE", help="image files or folders (recursive)"
    )
    return parser


def _key(text: str) -> str:
    return text.strip().casefold().replace(" ", "_")


def resolve_class(loaded, text: str) -> int:
    """The output index LABEL names: a class name, a class id or an index; UsageError else."""
    names, ids = loaded.class_names, loaded.class_ids or loaded.class_names
    if text.strip().isdigit():
        index = int(text)
        if index >= len(names):
            raise UsageError(
                f"--class {text}: {loaded.name} has {len(names)} classes (0–{len(names) - 1})"
            )
        return index
    wanted = _key(text)
    matches = [i for i, name in enumerate(names) if _key(name) == wanted]
    matches = matches or [i for i, cid in enumerate(ids) if _key(cid) == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(f"{names[i]} ({i})" for i in matches)
        raise UsageError(f"--class {text!r} names several classes: {listed}; give the index")
    close = difflib.get_close_matches(wanted, [_key(name) for name in names], n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"{loaded.name} has no class {text!r}{hint}")


def _safe(text: str) -> str:
    return re.sub(r"[^\w.+-]+", "_", text).strip("_") or "class"


class _Names:
    """Output names, made unique when two images share a file name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._used: set[str] = set()

    def stem(self, image: Path, label: str, method: str) -> Path:
        base = f"{_safe(image.stem)}_{_safe(label)}_{_safe(method)}"
        stem, count = base, 1
        while stem in self._used:
            count += 1
            stem = f"{base}-{count}"
        self._used.add(stem)
        return self.folder / stem


def write_outputs(result, stem: Path, overwrite: bool) -> tuple[Path, Path]:
    """The overlay PNG and the raw map .npy, each written atomically."""
    import numpy as np
    from PIL import Image

    from core.io.atomic import atomic_path

    png, npy = stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".npy")
    for path in (png, npy):
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} already exists; pass --overwrite to replace it")
    with atomic_path(png, overwrite) as partial:
        Image.fromarray(result.overlay).save(partial, format="PNG")
    with atomic_path(npy, overwrite) as partial:
        np.save(partial, result.raw)
    return png, npy


def _check_options(args) -> ExplainOptions:
    at_least_one(args.top, "--top")
    at_least_one(args.size, "--size")
    if not 0 <= args.opacity <= 1:
        raise UsageError("--opacity must be between 0 and 1")
    options = ExplainOptions(steps=args.steps, samples=args.samples, batch_size=args.batch_size)
    for value, option in ((args.steps, "--steps"), (args.samples, "--samples")):
        at_least_one(value, option)
    at_least_one(args.batch_size, "--batch-size")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out} is a file; give a folder")
    if not out.absolute().parent.is_dir():
        raise UsageError(f"the folder {out.absolute().parent} does not exist")
    return options


def run(args) -> int:
    from core.engine.engine import Engine
    from core.errors import ConvLensError, ExplainError
    from core.explain import get_method
    from core.ops import OpContext, run_request
    from core.ops.activations import network_input
    from core.ops.explain import ExplainRequest, explain_layer

    options = _check_options(args)
    paths = require_images(args.paths)
    records, failed = [], 0
    with ProgressBars() as bars:
        engine = Engine(load_model(args, bars))
        if not engine.loaded.is_classifier:
            raise UsageError(f"{engine.loaded.name} has no classifier top: nothing to explain")
        class_index = resolve_class(engine.loaded, args.label) if args.label else None
        layer = resolve_layer(engine, args.layer, args.model) if args.layer else None
        try:
            layer = explain_layer(engine, get_method(args.method), layer)
        except ExplainError as exc:
            raise UsageError(str(exc)) from exc
        folder = Path(args.out)
        folder.mkdir(exist_ok=True)
        names = _Names(folder)
        store: dict = {}
        top = 1 if class_index is not None else args.top
        bars.items("Explaining", len(paths) * top)
        done = 0
        for path in paths:
            try:
                fitted = network_input(engine, str(path), store)
                labels = engine.classify_arrays([fitted], top=top, prepared=True)[0]
                indices = [class_index] if class_index is not None else [p.index for p in labels]
                for index in indices:
                    request = ExplainRequest(
                        str(path), index, args.method, layer, options, args.opacity, args.size
                    )
                    result = run_request(engine, request, OpContext(store=store))
                    stem = names.stem(path, result.label.label, args.method)
                    png, npy = write_outputs(result, stem, args.overwrite)
                    records.append({**_record(result, png, npy), "weights": engine.loaded.weights})
                    if not args.json:
                        bars.write(_line(result, png), sys.stdout)
                    done += 1
                    bars.progress(done, len(paths) * top, f"{done}/{len(paths) * top}")
            except (ConvLensError, OSError) as exc:
                failed += 1
                reason = str(exc).removeprefix(f"{path}: ")
                records.append({"path": str(path), "error": reason})
                bars.write(f"{path}: error: {reason}")
    if args.json:
        print(json.dumps(records, indent=2))
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _record(result, png: Path, npy: Path) -> dict:
    label = result.label
    return {
        "path": result.path,
        "class": label.label,
        "class_id": label.class_id,
        "index": label.index,
        "probability": label.probability,
        "method": result.method,
        "layer": result.layer,
        "score": result.score,
        "overlay": str(png),
        "map": str(npy),
        "map_shape": list(result.raw.shape),
    }


def _line(result, png: Path) -> str:
    where = f" at {result.layer}" if result.layer else ""
    label = result.label
    return f"{result.path}: {label.label} {label.probability:.1%}{where} -> {png}"
