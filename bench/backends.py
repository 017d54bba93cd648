"""TensorFlow against ONNX Runtime: per-image latency, folder throughput, start-up, conversion.

Cases, each pair timed in one process with interleaved repetitions (ratios are medians of
per-round ratios):

latency     the compiled forward pass, TF (``KerasBackend``) vs ORT (``OnnxBackend``) on
            the same converted model, batch 1 and batch 16 (per image), for the built-in
            EfficientNet-Lite0 (its real weights) and MobileNetV2 / ResNet50 (random
            weights at 224×224: the speed does not depend on the values)
conversion  tf2onnx on each model's compiled forward pass, cold (an empty cache), once
folder      ``convlens extract``'s operation over a folder of photos with the built-in model,
            TF vs ORT (converted and cached), images per second; and decoding alone, which
            is what remains
cli         ``convlens classify photo.jpg`` end to end in a fresh process, warm cache, with
            ``--backend tf`` vs the default (answered from the ONNX cache without
            TensorFlow): wall seconds and peak resident memory

Targets (issue 9): ORT ≥ 2.5× TF per image for the built-in model and MobileNetV2, ≥ 1.5×
for ResNet50; folder extraction ≥ 1.5×; the CLI ≥ 2× faster end to end, and ≤ 0.6 s and
≤ 250 MB warm.

    python bench/backends.py [--rounds N] [--photos N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import common

NAME = "backends"
MODELS = ("EfficientNet-Lite0", "MobileNetV2", "ResNet50")
PER_IMAGE_TARGET = {"EfficientNet-Lite0": 2.5, "MobileNetV2": 2.5, "ResNet50": 1.5}


def _backends(name: str):
    """(KerasBackend, OnnxBackend, conversion seconds) for a model, converted cold."""
    from core.engine.backends.keras_backend import KerasBackend
    from core.engine.backends.onnx_backend import OnnxBackend
    from core.engine.onnx_convert import to_onnx
    from core.models.loading import load_model

    weights = "imagenet" if name == "EfficientNet-Lite0" else "none"
    loaded = load_model(name, weights=weights)
    keras = KerasBackend(loaded.model)
    start = time.perf_counter()
    data = to_onnx(keras._forward)
    seconds = time.perf_counter() - start
    return loaded, keras, OnnxBackend(data), seconds


def measure_latency(rounds: int) -> dict:
    import numpy as np

    results = {}
    rng = np.random.default_rng(0)
    for name in MODELS:
        common.log(f"{name}: converting…")
        loaded, keras, onnx, conversion = _backends(name)
        height, width = loaded.input_size
        row = {"conversion_s": conversion}
        for batch_size in (1, 16):
            batch = rng.uniform(-1, 1, (batch_size, height, width, 3)).astype(np.float32)
            diff = float(np.abs(keras.predict(batch) - onnx.predict(batch)).max())
            samples = common.interleaved(
                {
                    "tf": lambda b=batch, k=keras: k.predict(b),
                    "ort": lambda b=batch, o=onnx: o.predict(b),
                },
                rounds,
                warmup=2,
            )
            per_image = {k: [s / batch_size for s in v] for k, v in samples.items()}
            row[f"batch{batch_size}"] = {
                "tf_ms": common.summary([s * 1e3 for s in per_image["tf"]]),
                "ort_ms": common.summary([s * 1e3 for s in per_image["ort"]]),
                "speed_up": common.paired_ratio(samples["tf"], samples["ort"]),
                "max_abs_diff": diff,
            }
            common.log(
                f"{name} batch {batch_size}: TF {row[f'batch{batch_size}']['tf_ms']['median']:.1f}"
                f" → ORT {row[f'batch{batch_size}']['ort_ms']['median']:.1f} ms/image"
            )
        target = PER_IMAGE_TARGET[name]
        row["check"] = common.target_check(row["batch1"]["speed_up"]["median"], ">=", target)
        results[name] = row
    return results


def measure_folder(rounds: int, photos: int) -> dict:
    from PIL import Image
    from skimage import data

    from core.engine.engine import Engine, make_backend
    from core.io.images import iter_loaded
    from core.models.loading import load_model
    from core.models.zoo import BUILTIN_NAME

    folder = common.temporary_folder("convlens-bench-backends-")
    base = data.chelsea()
    paths = []
    for i in range(photos):  # distinct crops of a real photo, saved as phone-sized JPEGs
        crop = base[i % 60 : i % 60 + 240, (2 * i) % 120 : (2 * i) % 120 + 320]
        path = folder / f"photo_{i:03d}.jpg"
        Image.fromarray(crop).resize((1024, 768)).save(path, quality=90)
        paths.append(path)
    loaded = load_model(BUILTIN_NAME)
    tf_engine = Engine(loaded, make_backend(loaded, "keras"))
    ort_engine = Engine(loaded, make_backend(loaded, "onnx"))
    layer = tf_engine.default_feature_layer()
    ort_engine.backend.use_onnx_for_layers([layer])
    ort_engine.extract_features(paths[:16], layer, "avg")  # convert (or read the cache)
    assert ort_engine.backend_for([layer]) == "onnx"

    def decode_only():
        for _ in iter_loaded(paths, loaded.input_size, "crop"):
            pass

    samples = common.interleaved(
        {
            "tf": lambda: tf_engine.extract_features(paths, layer, "avg"),
            "ort": lambda: ort_engine.extract_features(paths, layer, "avg"),
            "decode": decode_only,
        },
        rounds,
    )
    rate = {k: [photos / s for s in v] for k, v in samples.items()}
    speed_up = common.paired_ratio(samples["tf"], samples["ort"])
    return {
        "photos": photos,
        "images_per_s": {k: common.summary(v) for k, v in rate.items()},
        "speed_up": speed_up,
        "decode_share_ort": common.summary(
            [d / o for d, o in zip(samples["decode"], samples["ort"], strict=True)]
        ),
        "check": common.target_check(speed_up["median"], ">=", 1.5),
    }


def _run_cli(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one command in a fresh process.

    GNU time reports the peak of the command alone: a child forked from this process would
    count the benchmark's own gigabytes (with TensorFlow and three models) before exec.
    """
    report = common.temporary_folder("convlens-bench-time-") / "time.txt"
    timed = ["/usr/bin/time", "-o", str(report), "-f", "%e %M", *argv]
    done = subprocess.run(timed, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.stderr.decode()[-500:]}")
    wall, kilobytes = report.read_text().split()[-2:]
    return float(wall), float(kilobytes) / 1024


def measure_cli(rounds: int) -> dict:
    from PIL import Image
    from skimage import data

    folder = common.temporary_folder("convlens-bench-cli-")
    photo = folder / "chelsea.jpg"
    Image.fromarray(data.chelsea()).save(photo, quality=92)
    env = dict(os.environ)
    script = os.path.join(os.path.dirname(sys.executable), "convlens")  # what users run
    launcher = [script] if os.path.exists(script) else [sys.executable, "-m", "core.cli.main"]
    command = [*launcher, "classify", str(photo)]
    _run_cli(command, env)  # converts and caches on the first run
    wall: dict[str, list[float]] = {"tf": [], "ort": []}
    memory: dict[str, list[float]] = {"tf": [], "ort": []}
    for r in range(rounds):
        for case in ("tf", "ort") if r % 2 == 0 else ("ort", "tf"):
            argv = command + (["--backend", "tf"] if case == "tf" else [])
            seconds, megabytes = _run_cli(argv, env)
            wall[case].append(seconds)
            memory[case].append(megabytes)
    speed_up = common.paired_ratio(wall["tf"], wall["ort"])
    ort_wall, ort_mb = common.summary(wall["ort"]), common.summary(memory["ort"])
    return {
        "wall_s": {k: common.summary(v) for k, v in wall.items()},
        "peak_mb": {k: common.summary(v) for k, v in memory.items()},
        "speed_up": speed_up,
        "checks": {
            "speed_up": common.target_check(speed_up["median"], ">=", 2.0),
            "wall": common.target_check(ort_wall["median"], "<=", 0.6),
            "memory": common.target_check(ort_mb["median"], "<=", 250),
        },
    }


def render(results: dict) -> str:
    env = results["environment"]
    rows = []
    for name, row in results["latency"].items():
        one, sixteen = row["batch1"], row["batch16"]
        rows.append(
            [
                name,
                f"{one['tf_ms']['median']:.1f} → {one['ort_ms']['median']:.1f} ms",
                common.ratio_cell(one["speed_up"]),
                f"{sixteen['tf_ms']['median']:.1f} → {sixteen['ort_ms']['median']:.1f} ms",
                common.ratio_cell(sixteen["speed_up"]),
                f"{max(one['max_abs_diff'], sixteen['max_abs_diff']):.0e}",
                f"{row['conversion_s']:.1f} s",
                f"≥ {row['check']['target']}×: {common.verdict(row['check'])}",
            ]
        )
    latency = common.markdown_table(
        [
            "model",
            "batch 1, TF → ORT",
            "speed-up",
            "batch 16 per image",
            "speed-up",
            "max abs diff",
            "conversion",
            "target (batch 1)",
        ],
        rows,
    )
    folder = results["folder"]
    rate = folder["images_per_s"]
    cli = results["cli"]
    checks = cli["checks"]
    return f"""## ONNX Runtime backend (`bench/backends.py`)

{common.environment_line(env)} ONNX Runtime {results["onnxruntime"]}, tf2onnx {results["tf2onnx"]}.
Load average at the end (the machine is shared with other work):
{", ".join(map(str, results["load_average_end"] or []))}. Ratios are medians of per-round
ratios from interleaved runs ({results["rounds"]} rounds; min–max in brackets).

Per image, the compiled forward pass (TF `tf.function` vs ORT on the model converted from it):

{latency}

Folder extraction, built-in model, {folder["photos"]} photos (1024×768 JPEG), penultimate layer:
TensorFlow {rate["tf"]["median"]:.1f} images/s, ONNX Runtime {rate["ort"]["median"]:.1f} images/s:
{common.ratio_cell(folder["speed_up"])} (target ≥ 1.5×: {common.verdict(folder["check"])}).
Decoding and fitting alone runs at {rate["decode"]["median"]:.1f} images/s, i.e.
{folder["decode_share_ort"]["median"]:.0%} of the ORT run's time is decoding: that is what remains.

`convlens classify photo.jpg`, fresh process, warm cache: `--backend tf`
{cli["wall_s"]["tf"]["median"]:.2f} s and {cli["peak_mb"]["tf"]["median"]:.0f} MB; default (ONNX
cache, no TensorFlow) {cli["wall_s"]["ort"]["median"]:.2f} s and {cli["peak_mb"]["ort"]["median"]:.0f} MB:
{common.ratio_cell(cli["speed_up"])} faster (target ≥ 2×: {common.verdict(checks["speed_up"])};
≤ 0.6 s: {common.verdict(checks["wall"])}; ≤ 250 MB: {common.verdict(checks["memory"])}).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--photos", type=int, default=96)
    args = parser.parse_args()
    common.prepare_environment()
    os.environ["CONVLENS_CACHE_DIR"] = str(common.temporary_folder("convlens-bench-cache-"))
    from importlib import metadata

    env = common.environment()
    results = {
        "environment": env,
        "rounds": args.rounds,
        "onnxruntime": metadata.version("onnxruntime"),
        "tf2onnx": metadata.version("tf2onnx"),
        "latency": measure_latency(args.rounds),
        "folder": measure_folder(max(3, args.rounds // 3), args.photos),
        "cli": measure_cli(max(3, args.rounds // 3)),
        "load_average_end": common.load_average(),
    }
    common.write_results(NAME, results)
    common.update_benchmarks_doc(NAME, render(results))
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
