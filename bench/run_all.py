"""Run every benchmark script in bench/, one after another, each in a fresh process.

Every ``bench/*.py`` except this file and ``common.py`` is a benchmark: it measures, writes
``bench/results/<name>.json`` and rewrites its own section of ``docs/BENCHMARKS.md``.
Scripts run one at a time (never in parallel: they would disturb each other's timings),
each in its own process so that no TensorFlow or Qt state carries over.

    python bench/run_all.py            # all of them (what `make bench` runs)
    python bench/run_all.py core_latency folder_throughput
    python bench/run_all.py --list
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"run_all", "common"}


def discover() -> list[str]:
    """Benchmark script names (without .py), in alphabetical order."""
    return sorted(
        path.stem
        for path in BENCH.glob("*.py")
        if path.stem not in NOT_BENCHMARKS and not path.stem.startswith("_")
    )


def main(argv=None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"scripts to run (default: all of {available})")
    parser.add_argument("--list", action="store_true", help="print the script names and stop")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(available))
        return 0
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)} (have: {', '.join(available)})")

    outcomes = []
    for name in args.names or available:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        status = subprocess.call([sys.executable, str(BENCH / f"{name}.py")], cwd=BENCH.parent)
        outcomes.append((name, status, time.perf_counter() - start))

    print("\n== summary")
    for name, status, seconds in outcomes:
        print(f"{name:28s} {'ok' if status == 0 else f'FAILED ({status})':12s} {seconds:6.0f} s")
    print(f"{'total':28s} {'':12s} {sum(s for *_, s in outcomes):6.0f} s")
    return 0 if all(status == 0 for _, status, _ in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
