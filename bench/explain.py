"""Explaining one prediction of the built-in model: Grad-CAM and Integrated Gradients.

Cases, timed in the same process with interleaved repetitions, on one photo already fitted
and preprocessed (scikit-image's `chelsea`), explaining its top class:

forward    the compiled forward pass alone (the baseline every figure is divided by)
gradcam    ConvLens' Grad-CAM at the last conv layer (core.explain, compiled gradients)
keras_io   the keras.io Grad-CAM recipe as documented (eager GradientTape on
           Model(model.inputs, [conv.output, model.output])), on a copy of the model with
           the softmax removed as the recipe says; it works here because the built-in model
           is not nested
ig32       ConvLens' Integrated Gradients, 32 steps in batches of 16
op         the whole `ExplainRequest` from the file (decode, fit, top class, Grad-CAM, overlay
           on the photo), with an empty cache each time: what the window waits for

Targets (issue 10): Grad-CAM ≤ 150 ms warm and IG with 32 steps ≤ 2 s, on 2 cores.

    python bench/explain.py [--rounds N] [--render-only]
"""

from __future__ import annotations

import argparse

import common

NAME = "explain"
TARGET_GRADCAM_S = 0.150
TARGET_IG_S = 2.0


def keras_io_recipe(model, layer: str):
    """The keras.io Grad-CAM example's make_gradcam_heatmap, on its own copy of the model."""
    import warnings

    import keras
    import tensorflow as tf

    # The recipe passes a tensor where Keras expects the list of inputs: it warns, and works.
    warnings.filterwarnings("ignore", message="The structure of `inputs`")
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    copy.layers[-1].activation = None  # "Remove last layer's softmax"
    grad_model = keras.models.Model(copy.inputs, [copy.get_layer(layer).output, copy.output])

    def make_gradcam_heatmap(img_array, pred_index):
        with tf.GradientTape() as tape:
            last_conv_layer_output, preds = grad_model(img_array)
            class_channel = preds[:, pred_index]
        grads = tape.gradient(class_channel, last_conv_layer_output)
        pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
        heatmap = last_conv_layer_output[0] @ pooled_grads[..., tf.newaxis]
        return tf.squeeze(heatmap).numpy()

    return make_gradcam_heatmap


def measure(rounds: int) -> dict:
    import numpy as np
    from PIL import Image
    from skimage import data

    from core.engine.engine import Engine
    from core.explain import ExplainOptions, Target, get_method
    from core.explain.targets import default_layer
    from core.models.loading import load_model
    from core.models.zoo import BUILTIN_NAME
    from core.ops import OpContext, run_request
    from core.ops.explain import ExplainRequest
    from core.progress import NEVER_CANCELLED, no_progress

    folder = common.temporary_folder("convlens-bench-explain-")
    photo = folder / "chelsea.jpg"
    Image.fromarray(data.chelsea()).save(photo, quality=92)
    engine = Engine(load_model(BUILTIN_NAME))
    layer = default_layer(engine.layer_tree())
    batch = engine.preprocess([engine.prepare(data.chelsea())])
    top = int(np.argmax(engine.scores(batch)[0]))
    target = Target.for_class(top, 1000)
    gradcam, ig = get_method("gradcam"), get_method("integrated-gradients")
    options = ExplainOptions(steps=32, batch_size=16)
    recipe = keras_io_recipe(engine.model, layer)

    def explain(method):
        return method.explain(engine, batch, target, layer, options, no_progress, NEVER_CANCELLED)

    # Check the work: ConvLens' map is the recipe's (same logits, same layer, same formula).
    ours, theirs = explain(gradcam).raw, recipe(batch, top)
    difference = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
    assert difference < 1e-4, f"Grad-CAM differs from the keras.io recipe: {difference:.2e}"

    cases = {
        "forward": lambda: engine.scores(batch),
        "gradcam": lambda: explain(gradcam),
        "keras_io": lambda: recipe(batch, top),
        "ig32": lambda: explain(ig),
        "op": lambda: run_request(engine, ExplainRequest(str(photo)), OpContext()),
    }
    cpu: dict[str, list[float]] = {}
    samples = common.interleaved(cases, rounds=rounds, warmup=2, cpu_seconds=cpu)
    median = {name: common.summary(values)["median"] for name, values in samples.items()}
    return {
        "model": BUILTIN_NAME,
        "layer": layer,
        "class": engine.loaded.class_names[top],
        "recipe_max_relative_difference": difference,
        "rounds": rounds,
        "seconds": {name: common.summary(values) for name, values in samples.items()},
        "cpu_seconds": {name: common.summary(values) for name, values in cpu.items()},
        "samples": samples,
        "over_forward": {
            name: common.paired_ratio(samples[name], samples["forward"])
            for name in ("gradcam", "keras_io", "ig32", "op")
        },
        "recipe_over_gradcam": common.paired_ratio(samples["keras_io"], samples["gradcam"]),
        "gradcam_target": common.target_check(median["gradcam"], "<=", TARGET_GRADCAM_S),
        "ig32_target": common.target_check(median["ig32"], "<=", TARGET_IG_S),
    }


def render(results: dict) -> str:
    s, cpu, over = results["seconds"], results["cpu_seconds"], results["over_forward"]
    labels = {
        "forward": "forward pass (baseline)",
        "gradcam": "Grad-CAM",
        "keras_io": "keras.io Grad-CAM recipe",
        "ig32": "Integrated Gradients, 32 steps",
        "op": "whole request from the file",
    }
    targets = {
        "gradcam": f"≤ {TARGET_GRADCAM_S * 1e3:.0f} ms — {common.verdict(results['gradcam_target'])}",
        "ig32": f"≤ {TARGET_IG_S:.0f} s — {common.verdict(results['ig32_target'])}",
    }
    rows = [
        [
            labels[name],
            f"{s[name]['median'] * 1e3:.0f}",
            f"{cpu[name]['median'] * 1e3:.0f}",
            "1" if name == "forward" else common.ratio_cell(over[name]),
            targets.get(name, ""),
        ]
        for name in labels
    ]
    table = common.markdown_table(
        ["case", "wall ms (median)", "CPU ms", "× forward pass", "target"], rows
    )
    recipe = results["recipe_over_gradcam"]
    return f"""
## Explaining a prediction (`bench/explain.py`)

The built-in {results["model"]} on scikit-image's `chelsea` (fitted and preprocessed once),
explaining its top class ({results["class"].replace("_", " ")}) at `{results["layer"]}`;
{results["rounds"]} interleaved rounds. "× forward pass" is the median of the per-round ratios
to the compiled forward pass of the same round (range in brackets); CPU time is the
process's, all threads.

{table}

The keras.io recipe computes the same map (largest difference
{results["recipe_max_relative_difference"]:.1e} of its maximum, checked before timing) in
{common.ratio_cell(recipe)} the time of ConvLens' compiled Grad-CAM, and cannot be used at all
on a transfer-learning model whose base is nested ("Graph disconnected"). The whole request
adds decoding the JPEG, the top class, and drawing the overlay on the photo.

{common.environment_line(results["environment"])}
Raw samples: `bench/results/{NAME}.json`.
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--render-only", action="store_true", help="rewrite the docs section")
    args = parser.parse_args(argv)
    if args.render_only:
        common.update_benchmarks_doc(NAME, render(common.read_results(NAME)))
        return 0
    common.prepare_environment()
    results = {"environment": common.environment()}
    common.log(f"{NAME}: measuring…")
    results |= measure(args.rounds)
    results["environment"]["load_average_end"] = common.load_average()
    common.log(
        f"  Grad-CAM {results['seconds']['gradcam']['median'] * 1e3:.0f} ms, "
        f"IG-32 {results['seconds']['ig32']['median']:.2f} s"
    )
    common.write_results(NAME, results)
    common.update_benchmarks_doc(NAME, render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
