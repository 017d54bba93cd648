"""Training a new head on a frozen base: the cached-feature fast path against model.fit.

Both ways run ``core.training.train`` end to end (scan, base, training, evaluation) with
the same configuration: the built-in pretrained EfficientNet-Lite0, frozen, at 224×224,
global average pooling, dropout, a softmax Dense, the same epochs and seed, on a
texture dataset made from scikit-image's photographs (tests/training_data.py).

fast path   base features computed once per image, then only the head is fitted on
            them. The session feature cache is emptied before every run, so each run
            pays for the features; a warm run (cache kept, e.g. trying another learning
            rate) is reported too.
model.fit   fit() on the whole classifier, fed decoded images every epoch (the image
            cache of a run keeps them decoded, as in the app).

Runs are interleaved (fast, fit, fit, fast, ...) and the ratio is the median of the
per-round ratios.

    python bench/training_fast_path.py [--rounds N] [--epochs N] [--per-class N] [--render-only]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import common

NAME = "training"


def run(args) -> dict:
    common.prepare_environment()
    from core.training.config import TrainConfig
    from core.training.inputs import SESSION_FEATURES
    from core.training.trainer import train
    from tests.training_data import make_texture_dataset

    folder = common.temporary_folder("convlens-bench-training-")
    data = make_texture_dataset(folder, args.per_class, max(2, args.per_class // 3))
    config = TrainConfig(
        data.train_dir, val_dir=data.val_dir, epochs=args.epochs, patience=0, seed=0
    )
    results = {}

    def fast():
        SESSION_FEATURES.clear()
        results["fast"] = train(config)

    def warm():
        results["warm"] = train(replace(config, lr=config.lr * 1.5))

    def fit():
        results["fit"] = train(config, fast_path=False)

    common.log(
        f"{args.rounds} rounds, {args.epochs} epochs, {args.per_class} train images per class"
    )
    samples = common.interleaved({"fast": fast, "fit": fit}, rounds=args.rounds, warmup=1)
    warm_samples = [common.time_call(warm) for _ in range(args.rounds)]
    ratio = common.paired_ratio(samples["fit"], samples["fast"])
    accuracy = {name: round(r.evaluation.accuracy, 4) for name, r in results.items()}
    return {
        "config": {
            "model": config.model,
            "input_size": 224,
            "epochs": args.epochs,
            "train_images": len(data.classes) * data.train_per_class,
            "val_images": len(data.classes) * data.val_per_class,
            "rounds": args.rounds,
        },
        "seconds": {
            "fast": common.summary(samples["fast"]),
            "fit": common.summary(samples["fit"]),
            "fast_warm": common.summary(warm_samples),
        },
        "ratio_fit_over_fast": ratio,
        "ratio_fit_over_fast_warm": {
            "median": common.summary(samples["fit"])["median"]
            / common.summary(warm_samples)["median"]
        },
        "val_accuracy": accuracy,
        "environment": common.environment(),
    }


def render(payload: dict) -> str:
    cfg, sec = payload["config"], payload["seconds"]
    ratio = payload["ratio_fit_over_fast"]
    rows = [
        ["fast path (features computed)", f"{sec['fast']['median']:.1f}", "1×"],
        [
            "fast path, features cached",
            f"{sec['fast_warm']['median']:.1f}",
            f"{sec['fast']['median'] / sec['fast_warm']['median']:.1f}× faster",
        ],
        [
            "model.fit on images",
            f"{sec['fit']['median']:.1f}",
            f"**{ratio['median']:.1f}× slower** ({ratio['min']:.1f}–{ratio['max']:.1f})",
        ],
    ]
    accuracy = payload["val_accuracy"]
    return f"""
## Training a head on a frozen base (`bench/training_fast_path.py`)

`core.training.train` end to end on {cfg["train_images"]} training and {cfg["val_images"]}
validation images (scikit-image textures, 3 classes): {cfg["model"]} frozen at 224×224,
global average pooling, dropout 0.2, softmax; {cfg["epochs"]} epochs, batch 32, same seed.
The fast path computes the base's features once per image and fits only the head; the
other way runs `model.fit` on the whole classifier with decoded images every epoch.
Medians of {cfg["rounds"]} interleaved rounds.

{common.markdown_table(["way", "seconds", "relative"], rows)}

Validation accuracy: fast path {accuracy.get("fast")}, model.fit {accuracy.get("fit")},
warm fast path {accuracy.get("warm")}.

{common.environment_line(payload["environment"])}
Raw samples: `bench/results/{NAME}.json`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--per-class", type=int, default=80, help="training images per class")
    parser.add_argument("--render-only", action="store_true", help="rewrite the docs section")
    args = parser.parse_args()
    payload = common.read_results(NAME) if args.render_only else run(args)
    if not args.render_only:
        common.write_results(NAME, payload)
    print(render(payload).strip())
    common.update_benchmarks_doc(NAME, render(payload))


if __name__ == "__main__":
    main()
