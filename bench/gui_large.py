"""The window with a folder of 10,000 photos: the event loop's longest stall and peak memory,
against the same window with 100 photos.

Each launch is a fresh process (offscreen Qt, first-start settings). A folder of generated
320×240 JPEGs (bench/extract_scale.py) is dropped on the window, and a 5 ms QTimer
heartbeat runs on the GUI thread (1) from the drop until every photo is listed and the
visible rows have their thumbnails (background listing, bulk insertion, lazy thumbnails),
then (2) while the scroll bar is dragged from the top of the list to the bottom in 100
steps, each step's visible thumbnails decoded. Peak RSS is the window process's ru_maxrss.
By default no model is loaded, so the figures are the window's own work; ``--with-model``
also loads the built-in model and waits for every photo to be classified (phase 1 then
includes the results arriving), and reports the window's classification rate.

    python bench/gui_large.py                    # 100 and 10,000 photos
    python bench/gui_large.py --photos 10000 --with-model
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.gui_responsiveness import HEARTBEAT_MS, STALL_TARGET_MS, _gap_summary  # noqa: E402

SMALL = 100


def child(folder: str, count: int, with_model: bool, out: str) -> None:
    import resource

    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    from gui.app.application import create_application

    app = create_application([])
    from gui.main.main_window import MainWindow
    from gui.widgets.image_list import DONE, FAILED

    window = MainWindow()
    window.resize(1400, 900)
    images, loader = window.session.images, window.session.loader
    clock, beats = QElapsedTimer(), []
    heartbeat = QTimer(timerType=Qt.TimerType.PreciseTimer, interval=HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: beats.append(clock.nsecsElapsed()))
    report: dict = {}

    def gaps() -> list[float]:
        heartbeat.stop()
        return [(b - a) / 1e6 for a, b in zip(beats, beats[1:], strict=False)]

    def start_heartbeat() -> None:
        clock.start()
        beats[:] = [0]
        heartbeat.start()

    def drop() -> None:
        start_heartbeat()
        report["started"] = time.perf_counter()
        window.add_images([folder])
        poll.start()

    def dropped_done() -> bool:
        if images.rowCount() < count or loader.pending_thumbnails():
            return False
        return not with_model or len(images.paths([DONE, FAILED])) == count

    def check() -> None:
        if with_model and window.session.model is None:
            return
        if "started" not in report:
            drop()
        elif dropped_done():
            poll.stop()
            report["drop_s"] = time.perf_counter() - report.pop("started")
            report["drop"] = _gap_summary(gaps())
            scroll()

    def scroll() -> None:
        bar = window.image_pane.list.verticalScrollBar()
        step = {"n": 0}
        timer = QTimer(interval=20)

        def one() -> None:
            step["n"] += 1
            bar.setValue(bar.maximum() * step["n"] // 100)
            if step["n"] >= 100:
                timer.stop()
                report["scroll"] = _gap_summary(gaps())
                report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                window.close()

        timer.timeout.connect(one)
        start_heartbeat()
        timer.start()

    poll = QTimer(interval=20)
    poll.timeout.connect(check)
    window.show()
    if with_model:
        QTimer.singleShot(0, window.start)
    QTimer.singleShot(0, check)
    QTimer.singleShot(100, poll.start)
    QTimer.singleShot(3_600_000, app.quit)  # a safety net
    app.exec()
    Path(out).write_text(json.dumps(report))


def run_child(folder: Path, count: int, with_model: bool, out: Path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="3")
    env["CONVLENS_CONFIG_DIR"] = str(out.with_suffix(".config"))  # a first start
    subprocess.run(
        [sys.executable, __file__, "--child", str(folder), str(count), str(int(with_model)),
         str(out)],
        env=env,
        cwd=REPO,
        check=True,
        timeout=7200,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return json.loads(out.read_text())


def main() -> int:
    from bench.common import (
        environment,
        environment_line,
        load_average,
        log,
        markdown_table,
        temporary_folder,
        update_benchmarks_doc,
        write_results,
    )
    from bench.extract_scale import make_photos

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--with-model", action="store_true")
    parser.add_argument("--folder", type=Path, help="keep the generated photos in this folder")
    args = parser.parse_args()
    work = temporary_folder("convlens-bench-gui-large-")
    root = args.folder or work / "photos"
    make_photos(root, args.photos)
    small = work / "small"
    small.mkdir()
    for path in sorted((root / "part0000").iterdir())[:SMALL]:
        shutil.copy(path, small / path.name)
    runs = {}
    for count, folder in ((SMALL, small), (args.photos, root)):
        load = load_average()
        log(f"{count} photos (load {load})…")
        runs[count] = run_child(folder, count, args.with_model, work / f"run{count}.json")
        runs[count]["load_average"] = load
        log(f"  {json.dumps(runs[count])}")
    results = {
        "with_model": args.with_model,
        "runs": {str(k): v for k, v in runs.items()},
        "environment": environment(),
    }
    name = "gui_large_model" if args.with_model else "gui_large_listing"
    write_results(name, results)
    base = runs[SMALL]["peak_rss_mb"]
    rows = [
        [
            f"{count:,}",
            f"{run['drop_s']:.1f} s",
            f"{run['drop']['longest_stall_ms']:.0f} ms ({run['drop']['gaps_over_target']})",
            f"{run['scroll']['longest_stall_ms']:.0f} ms ({run['scroll']['gaps_over_target']})",
            f"{run['peak_rss_mb']:,.0f} MB",
            f"{run['peak_rss_mb'] / base:.2f}×",
            ", ".join(map(str, run["load_average"] or [])),
        ]
        for count, run in runs.items()
    ]
    until = "classified" if args.with_model else "listed with visible thumbnails"
    table = markdown_table(
        [
            "photos",
            f"drop → all {until}",
            f"longest stall until then (gaps > {STALL_TARGET_MS:.0f} ms)",
            "longest stall scrolling top to bottom (gaps)",
            "peak RSS",
            f"vs {SMALL}",
            "load average",
        ],
        rows,
    )
    print(table)
    what = (
        "with the built-in model loaded, until every photo is classified"
        if args.with_model
        else "without a model (the window's own work: listing, rows, thumbnails, scrolling)"
    )
    body = f"""
## The window with {args.photos:,} photos (`bench/gui_large.py{" --with-model" if args.with_model else ""}`)

A folder of generated 320×240 JPEGs dropped on the window, {what}; one fresh launch per
row, offscreen. A {HEARTBEAT_MS} ms `QTimer` heartbeat on the GUI thread measures the longest
time the window could not react, from the drop until the photos are {until}, then while
the scroll bar is dragged from the top of the list to the bottom in 100 steps (each step's
thumbnails decoded on demand). Peak RSS is the window's process, compared with the
{SMALL}-photo launch. One run each; the machine is shared with other engineers' test runs
(2 cores): the load average at the start of each row is given.

{table}

{environment_line(results["environment"])}
Raw samples: `bench/results/{name}.json`.
"""
    update_benchmarks_doc(name, body)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        folder, count, with_model, out = sys.argv[2:6]
        child(folder, int(count), with_model == "1", out)
        sys.exit(0)
    sys.exit(main())
