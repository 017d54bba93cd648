"""The recipe of docs/ARCHITECTURE.md, followed for real: a toy operation, defined in this
module alone, registered with one line, runs from the command line and through the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.cli import main as cli_main
from core.ops import OpContext, Request, operation, run_request

# -- the toy operation: its own module (this one) ----------------------------------------


@dataclass(frozen=True)
class MeanBrightnessRequest(Request):
    """How bright each image is: its mean grey level, 0–255."""

    paths: tuple[str, ...]
    needs_engine = False


@operation(MeanBrightnessRequest)
def mean_brightness(engine, request: MeanBrightnessRequest, ctx: OpContext) -> float:
    from core.io.images import load_image

    levels = []
    for done, path in enumerate(request.paths, 1):
        ctx.cancel.raise_if_cancelled()
        levels.append(float(load_image(path).mean()))
        ctx.partial((path, levels[-1]))
        ctx.progress(done, len(request.paths), f"{done}/{len(request.paths)} images")
    return sum(levels) / len(levels)


class BrightnessCommand:
    """`convlens brightness IMAGE…`: the command-line face of the operation."""

    name = "brightness"

    @staticmethod
    def add_parser(subparsers):
        parser = subparsers.add_parser("brightness", help="mean grey level of images")
        parser.add_argument("paths", nargs="+")
        return parser

    @staticmethod
    def run(args) -> int:
        ctx = OpContext(partial=lambda piece: print(f"{piece[0]}: {piece[1]:.1f}"))
        mean = run_request(None, MeanBrightnessRequest(tuple(args.paths)), ctx)
        print(f"mean: {mean:.1f}")
        return 0


def _images(tmp_path):
    dark, light = tmp_path / "dark.png", tmp_path / "light.png"
    Image.fromarray(np.full((8, 8, 3), 10, np.uint8)).save(dark)
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(light)
    return str(dark), str(light)


def test_the_toy_operation_runs_from_the_command_line(tmp_path, monkeypatch, capsys):
    dark, light = _images(tmp_path)
    # The one registration line.
    monkeypatch.setattr(cli_main, "COMMANDS", [*cli_main.COMMANDS, BrightnessCommand])

    assert cli_main.main(["brightness", dark, light]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{dark}: 10.0", f"{light}: 200.0", "mean: 105.0"]


def test_the_toy_operation_runs_through_the_gui_worker(qtbot, tmp_path):
    from gui.app.worker import Worker

    dark, light = _images(tmp_path)
    worker = Worker()
    pieces, results, progress = [], [], []
    try:
        worker.run(
            MeanBrightnessRequest((dark, light)),
            on_partial=pieces.append,
            on_done=results.append,
            on_progress=lambda done, total, text: progress.append((done, total)),
        )
        qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    finally:
        assert worker.shutdown(timeout_s=5)
    assert results == [105.0]
    assert pieces == [(dark, 10.0), (light, 200.0)]
    assert progress[-1] == (2, 2)
