"""``convlens layers``: the layer tree of a model, with each layer's full path."""

from __future__ import annotations

import json

from core.cli.common import EXIT_OK, add_fit_options, add_model_options, load_model

NAME = "layers"
INDENT = "  "  # per level of nesting


def add_parser(subparsers):
    parser = subparsers.add_parser(NAME, help="the layer tree of a model")
    add_model_options(parser)
    add_fit_options(parser, resize=False)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def run(args) -> int:
    from core.models.layers import layer_tree

    loaded = load_model(args, warn_random=False)  # the structure is the same
    tree = layer_tree(loaded.model)
    if args.json:
        layers = [node.to_dict() for node in tree]
        print(json.dumps({"model": loaded.describe(), "layers": layers}, indent=2))
        return EXIT_OK
    for line in table(tree):
        print(line)
    return EXIT_OK


def _shape(node) -> str:
    if not node.output_shape:
        return "?"
    return "×".join("?" if d is None else str(d) for d in node.output_shape)


def _rows(nodes, depth: int = 0):
    for node in nodes:
        yield (
            f"{INDENT * depth}{node.name}",
            node.class_name,
            _shape(node),
            f"{node.params:,}",
            "yes" if node.trainable else "no",
            node.path,  # what --layer takes; a nested layer's shows the model it sits in
        )
        yield from _rows(node.children, depth + 1)


def table(tree) -> list[str]:
    """The tree as aligned text: one row per layer, nested layers indented under their model."""
    header = ("layer", "type", "output", "params", "trainable", "path")
    rows = [header, *_rows(tree)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    right = {3}  # numbers line up on their last digit
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join([*cells, row[-1]]))
    return lines
