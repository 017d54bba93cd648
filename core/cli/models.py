"""``convlens models``: the zoo, the built-in model, and whether weights are cached."""

from __future__ import annotations

import json

from core.cli.common import EXIT_OK

NAME = "models"
NEEDS_TENSORFLOW = False  # it reads the registry and the cache folder only


def add_parser(subparsers):
    parser = subparsers.add_parser(
        NAME, help="list the models and whether their weights are cached"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def run(args) -> int:
    from core.models.zoo import ZOO, weights_cached

    rows = [
        {
            "name": spec.name,
            "family": spec.family,
            "input_size": list(spec.input_size),
            "preprocess": spec.preprocess,
            "builtin": spec.builtin,
            "weights_cached": weights_cached(spec, True),
            "download_mb": spec.download_mb,
        }
        for spec in ZOO.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    print(f"{'model':<18}{'input':>9}  {'preprocess':<10} weights")
    for row in rows:
        if row["builtin"]:
            state = "built in (offline)"
        elif row["weights_cached"]:
            state = "cached"
        else:
            state = f"download {row['download_mb']} MB"
        size = "×".join(map(str, row["input_size"]))
        print(f"{row['name']:<18}{size:>9}  {row['preprocess']:<10} {state}")
    return EXIT_OK
