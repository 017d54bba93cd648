"""Shared helpers for the benchmark scripts: set-up, interleaved timing, results and docs.

The machines we measure on are shared and noisy (2 cores, other people's test runs), so
every figure that matters is a ratio between two ways of doing the same work, measured in
the same process and run, with the repetitions interleaved (A B, B A, A B, ...) so drifts
in load hit both sides alike. Reported values are medians; the headline ratio is the
median of the per-round ratios, each taken from one adjacent pair of measurements.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
BENCHMARKS_MD = REPO / "docs" / "BENCHMARKS.md"

if str(REPO) not in sys.path:  # run as `python bench/x.py` from anywhere
    sys.path.insert(0, str(REPO))


def prepare_environment() -> Path:
    """Quiet, offline set-up; call before TensorFlow or Keras is imported.

    Keras' ``decode_predictions`` fetches ``imagenet_class_index.json`` into
    ``$KERAS_HOME/models``. We point ``KERAS_HOME`` at a temporary folder holding ConvLens'
    own byte-identical copy (Keras checks its md5), so the classic recipe runs offline
    unmodified. Any other download attempt fails at once instead of hanging.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        os.environ[var] = "http://127.0.0.1:9"
    keras_home = Path(tempfile.mkdtemp(prefix="convlens-bench-keras-"))
    atexit.register(shutil.rmtree, keras_home, ignore_errors=True)
    (keras_home / "models").mkdir()
    shutil.copyfile(
        REPO / "resources" / "imagenet_class_index.json",
        keras_home / "models" / "imagenet_class_index.json",
    )
    os.environ["KERAS_HOME"] = str(keras_home)
    return keras_home


def temporary_folder(prefix: str) -> Path:
    """A scratch folder removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def classic_preprocess_input(model_name: str) -> Callable:
    """The ``preprocess_input`` a Keras user would call for one of the benchmarked models."""
    import keras

    families = {
        "MobileNetV2": keras.applications.mobilenet_v2,
        "ResNet50": keras.applications.resnet50,
        "VGG16": keras.applications.vgg16,
    }
    if model_name in families:
        return families[model_name].preprocess_input
    # EfficientNet-Lite0 has no keras.applications module; its documented normalisation:
    return lambda x: (x - 127.0) / 128.0


# -- timing -------------------------------------------------------------------------------


def time_call(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call, with garbage collection done beforehand."""
    return time_call_with_cpu(fn)[0]


def time_call_with_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and process CPU seconds (all threads) of one call.

    CPU time is the load-robust cross-check: other people's processes stretch our wall
    time, not the CPU work we do.
    """
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def interleaved(
    cases: Mapping[str, Callable[[], object]],
    rounds: int,
    warmup: int = 1,
    per_round: Mapping[str, Callable[[int], Callable[[], object]]] | None = None,
    cpu_seconds: dict[str, list[float]] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call of each case, one call per case per round, in alternating order.

    Even rounds run the cases in the given order, odd rounds in reverse, so no case always
    goes first (after a pause) or last. ``per_round`` cases get a fresh callable for each
    round (e.g. round r processes its own slice of the data). Warm-up calls (tracing,
    caches) are made first and not recorded. If ``cpu_seconds`` is given, it is filled with
    the process CPU seconds of the same calls.
    """
    makers: dict[str, Callable[[int], Callable[[], object]]] = {
        name: (lambda _r, fn=fn: fn) for name, fn in cases.items()
    }
    makers.update(per_round or {})
    for _ in range(warmup):
        for make in makers.values():
            make(0)()
    samples: dict[str, list[float]] = {name: [] for name in makers}
    names = list(makers)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            wall, cpu = time_call_with_cpu(makers[name](r))
            samples[name].append(wall)
            if cpu_seconds is not None:
                cpu_seconds.setdefault(name, []).append(cpu)
    return samples


def summary(values: Sequence[float]) -> dict:
    """Median, spread and count of a list of measurements."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> dict:
    """Ratio of two interleaved series: the median of per-round ratios, with their spread."""
    ratios = [a / b for a, b in zip(numerators, denominators, strict=True)]
    return {
        "median": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
        "n": len(ratios),
    }


def target_check(value: float, op: str, target: float) -> dict:
    met = value >= target if op == ">=" else value <= target
    return {"op": op, "target": target, "met": bool(met)}


# -- environment and results ----------------------------------------------------------------


def environment() -> dict:
    """What a reader needs to compare runs: when, where, with which versions."""
    import keras
    import numpy
    import PIL
    import tensorflow as tf

    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": load_average(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
        "tf_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "git_commit": commit,
    }


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: how busy the shared machine was."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def write_results(name: str, payload: dict) -> Path:
    """Write bench/results/<name>.json atomically."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_results(name: str) -> dict:
    return json.loads((RESULTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


# -- docs/BENCHMARKS.md -------------------------------------------------------------------


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(check: dict) -> str:
    return "met" if check["met"] else "**missed**"


def ratio_cell(ratio: dict) -> str:
    """ "**median×** (min–max)", with a third decimal when two would hide which side of the
    target the median falls on (0.849 shown as 0.85 against a 0.85 target)."""
    digits = 2
    if "target" in ratio and round(ratio["median"], 2) == ratio["target"]:
        digits = 3
    return f"**{ratio['median']:.{digits}f}×** ({ratio['min']:.2f}–{ratio['max']:.2f})"


def environment_line(env: dict) -> str:
    return (
        f"Measured {env['date']} on {env['cpu_count']} CPUs ({env['machine']}, load average "
        f"at start {', '.join(map(str, env['load_average'] or []))}), Python {env['python']}, "
        f"TensorFlow {env['tensorflow']}, Keras {env['keras']}, NumPy {env['numpy']}, "
        f"Pillow {env['pillow']}, commit `{env['git_commit']}`."
    )


def update_benchmarks_doc(section: str, body: str) -> Path:
    """Replace this script's section of docs/BENCHMARKS.md, or append it.

    Each bench script owns the text between its two markers; everything else in the file
    (the introduction, other scripts' sections) is left as it is.
    """
    start, end = f"<!-- bench:{section}:start -->", f"<!-- bench:{section}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else ""
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS_MD.write_text(text, encoding="utf-8")
    return BENCHMARKS_MD
