"""Single-image latency, from a JPEG file to top-5 labels, for four models.

Three ways of doing it, timed in the same process with interleaved repetitions:

classic   the recipe from the Keras docs: load_img(target_size) -> img_to_array ->
          expand_dims -> the family's preprocess_input -> model.predict -> decode_predictions
convlens  what the window and the CLI run: core.io.images.load_image -> Engine.classify_arrays
bare      the compiled forward pass alone, on a ready float32 tensor (the floor)

Targets (issue 2): classic/convlens >= 1.5 and convlens/bare <= 1.2.

The zoo models use random weights (weights=None; no network here, and latency does not
depend on weight values); the built-in EfficientNet-Lite0 has its real ImageNet weights.

    python bench/core_latency.py [--rounds N] [--models A,B] [--render-only]
"""

from __future__ import annotations

import argparse

import common

NAME = "core_latency"
MODELS = ["EfficientNet-Lite0", "MobileNetV2", "ResNet50", "VGG16"]
TARGET_CLASSIC = (">=", 1.5)  # classic / convlens
TARGET_BARE = ("<=", 1.2)  # convlens / bare


def write_photo(folder) -> str:
    """scikit-image's chelsea (451x300) as a JPEG, as a user's photo would be."""
    from PIL import Image
    from skimage import data

    path = folder / "chelsea.jpg"
    Image.fromarray(data.chelsea()).save(path, quality=92)
    return str(path)


def measure_model(name: str, photo: str, rounds: int) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf
    from keras.applications.imagenet_utils import decode_predictions

    from core.engine.engine import Engine
    from core.io.images import load_image
    from core.models.loading import load_model
    from core.models.preprocessing import preprocess

    builtin = name == "EfficientNet-Lite0"
    loaded = load_model(name, weights="imagenet" if builtin else None)
    model, size = loaded.model, loaded.input_size
    engine = Engine(loaded)
    preprocess_input = common.classic_preprocess_input(name)

    def classic():
        img = keras.utils.load_img(photo, target_size=size)
        x = keras.utils.img_to_array(img)
        x = np.expand_dims(x, axis=0)
        x = preprocess_input(x)
        preds = model.predict(x, verbose=0)
        return decode_predictions(preds, top=5)[0]

    def convlens():
        return engine.classify_arrays([load_image(photo)], top=5)[0]

    bare_forward = tf.function(lambda x: model(x, training=False))
    ready = tf.constant(preprocess(engine.prepare(load_image(photo))[None], loaded.preprocess))

    def bare():
        return bare_forward(ready).numpy()

    samples = common.interleaved(
        {"classic": classic, "convlens": convlens, "bare": bare}, rounds=rounds, warmup=3
    )
    classic_ratio = common.paired_ratio(samples["classic"], samples["convlens"])
    bare_ratio = common.paired_ratio(samples["convlens"], samples["bare"])
    return {
        "model": name,
        "weights": "imagenet" if builtin else "random",
        "input_size": list(size),
        "seconds": {case: common.summary(values) for case, values in samples.items()},
        "samples": samples,
        "classic_over_convlens": classic_ratio
        | common.target_check(classic_ratio["median"], *TARGET_CLASSIC),
        "convlens_over_bare": bare_ratio | common.target_check(bare_ratio["median"], *TARGET_BARE),
        # Shows both paths did the real work; meaningful for the built-in model only.
        "top3": {
            "classic": [label for _, label, _ in classic()[:3]],
            "convlens": [label.label for label in convlens()[:3]],
        },
    }


def render(results: dict) -> str:
    rows = []
    for m in results["models"]:
        s = m["seconds"]
        c, b = m["classic_over_convlens"], m["convlens_over_bare"]
        rows.append(
            [
                m["model"] + (" (random weights)" if m["weights"] == "random" else ""),
                f"{s['classic']['median'] * 1e3:.1f}",
                f"{s['convlens']['median'] * 1e3:.1f}",
                f"{s['bare']['median'] * 1e3:.1f}",
                common.ratio_cell(c),
                f"≥ {c['target']} — {common.verdict(c)}",
                common.ratio_cell(b),
                f"≤ {b['target']} — {common.verdict(b)}",
            ]
        )
    table = common.markdown_table(
        [
            "model",
            "classic ms",
            "ConvLens ms",
            "bare ms",
            "classic / ConvLens",
            "target",
            "ConvLens / bare",
            "target",
        ],
        rows,
    )
    builtin = next((m for m in results["models"] if m["weights"] == "imagenet"), None)
    sanity = (
        f"With the built-in model both paths name the cat: classic "
        f"{', '.join(builtin['top3']['classic'])}; ConvLens {', '.join(builtin['top3']['convlens'])}."
        if builtin
        else ""
    )
    return f"""
## Single-image latency (`bench/core_latency.py`)

One photo (scikit-image's `chelsea`, 451×300, saved as JPEG) from file to top-5 labels,
batch of one, {results["rounds"]} interleaved rounds per model. Times are medians; each ratio is
the median of the per-round ratios (range in brackets).

- **classic**: `keras.utils.load_img(path, target_size)` → `img_to_array` → `expand_dims` →
  the family's `preprocess_input` → `model.predict(x)` → `decode_predictions(top=5)`
  (Keras' class index served from a temporary `KERAS_HOME`, byte-identical to ours).
- **ConvLens**: `core.io.images.load_image(path)` → `Engine.classify_arrays([img], top=5)`, the
  code path of the window and `convlens classify`, centre-crop resize included.
- **bare**: `tf.function(lambda x: model(x, training=False))` on a ready float32 tensor.

{table}

{sanity}

{common.environment_line(results["environment"])}
Zoo models use random weights (no network here; latency does not depend on weight values).
Raw samples: `bench/results/{NAME}.json`.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--render-only", action="store_true", help="rewrite the docs section")
    args = parser.parse_args(argv)
    if args.render_only:
        common.update_benchmarks_doc(NAME, render(common.read_results(NAME)))
        return 0

    common.prepare_environment()
    photo = write_photo(common.temporary_folder("convlens-bench-photo-"))
    results = {"environment": common.environment(), "rounds": args.rounds, "models": []}
    for name in args.models.split(","):
        common.log(f"{NAME}: {name}…")
        result = measure_model(name, photo, args.rounds)
        results["models"].append(result)
        common.log(
            f"  classic/convlens {result['classic_over_convlens']['median']:.2f}×, "
            f"convlens/bare {result['convlens_over_bare']['median']:.2f}×"
        )
    results["environment"]["load_average_end"] = common.load_average()
    common.write_results(NAME, results)
    common.update_benchmarks_doc(NAME, render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
