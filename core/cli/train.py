"""``convlens train``: transfer learning from the command line.

Options are checked (and --out is checked for being writable) before any image is read,
so mistakes answer at once with exit status 2. Progress goes to stderr as tqdm bars, one
per phase; the final metrics go to stderr, or to stdout as JSON with --json. Ctrl+C stops
training after the current batch and saves the best epoch so far (a second Ctrl+C quits at
once). Exit status: 0 trained and saved, 1 trained and saved but some images were
unreadable and skipped, or stopped early by Ctrl+C (or a ConvLens error stopped the run),
2 usage error, 130 interrupted with nothing saved.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

from core.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SOME_FAILED,
    UsageError,
    add_backend_option,
    add_fit_options,
    add_model_options,
    check_output,
)
from core.cli.progress import ProgressBars
from core.errors import Cancelled
from core.io.images import DEFAULT_RESIZE
from core.progress import CancelToken
from core.training.config import AUGMENTATIONS, HEADS, TrainConfig, TrainConfigError
from core.training.datasets import DEFAULT_VAL_SPLIT

NAME = "train"


def add_parser(subparsers):
    train = subparsers.add_parser(
        NAME,
        help="train a new classifier on labelled folders (transfer learning)",
        description="Train a classifier on DATA_DIR, a folder with one subfolder of images "
        "per class, on top of a pretrained network.",
    )
    train.add_argument("data_dir", metavar="DATA_DIR", help="folder with one subfolder per class")
    add_model_options(train, base=True)
    add_fit_options(train)
    train.add_argument("--cut-at", metavar="LAYER", help="model files: the layer feeding the head")
    train.add_argument("--head", choices=list(HEADS), default="avg", help="pooling (default avg)")
    train.add_argument("--dense", type=int, default=0, metavar="UNITS", help="hidden Dense layer")
    train.add_argument("--dropout", type=float, default=0.2, help="before the classifier (0.2)")
    train.add_argument(
        "--freeze", default="all", help="all (default), none, or up-to:LAYER (that layer included)"
    )
    train.add_argument(
        "--fine-tune-top",
        type=int,
        default=0,
        metavar="N",
        help="then unfreeze the top N base layers and continue at lr/10",
    )
    train.add_argument(
        "--fine-tune-epochs", type=int, help="epochs of that stage (default --epochs)"
    )
    train.add_argument("--epochs", type=int, default=10, help="default 10")
    train.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 0.001)")
    train.add_argument("--batch-size", type=int, default=32, help="default 32")
    val = train.add_mutually_exclusive_group()
    val.add_argument(
        "--val-split",
        type=float,
        help="validation share of each class (default 0.2; a DATA_DIR with train/ and val/ "
        "folders validates on val/)",
    )
    val.add_argument("--val-dir", help="a separate validation folder with the same classes")
    train.add_argument(
        "--augment",
        nargs="?",
        const=",".join(AUGMENTATIONS),
        default="",
        metavar="LIST",
        help=f"random {', '.join(AUGMENTATIONS)} in training (or a comma-separated choice)",
    )
    add_backend_option(train)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--patience", type=int, default=3, help="early stopping after N epochs (0: off)"
    )
    train.add_argument("--out", "-o", required=True, metavar="MODEL.keras", help="model to write")
    train.add_argument("--tflite", metavar="FILE", help="also export TensorFlow Lite (.tflite)")
    train.add_argument("--overwrite", action="store_true", help="replace existing output files")
    train.add_argument("--json", action="store_true", help="print the metrics as JSON on stdout")
    return train


def config_from_args(args) -> TrainConfig:
    """A checked TrainConfig from parsed arguments; UsageError for anything wrong."""
    if not Path(args.data_dir).is_dir():
        raise UsageError(f"{args.data_dir} is not a folder")
    if args.val_dir and not Path(args.val_dir).is_dir():
        raise UsageError(f"{args.val_dir} is not a folder")
    _check_model(args.model)
    if (
        args.weights.lower() not in ("imagenet", "none", "random")
        and not Path(args.weights).is_file()
    ):
        raise UsageError(f"the weights file {args.weights} does not exist")
    check_output(args.out, args.overwrite, ".keras")
    if args.tflite:
        check_output(args.tflite, args.overwrite, ".tflite")
    augment = tuple(name.strip() for name in args.augment.split(",") if name.strip())
    try:
        return TrainConfig(
            data_dir=args.data_dir,
            model=args.model,
            weights=args.weights,
            input_size=args.input_size,
            cut_layer=args.cut_at,
            head=args.head,
            dense_units=args.dense,
            dropout=args.dropout,
            freeze=args.freeze,
            fine_tune_top=args.fine_tune_top,
            fine_tune_epochs=args.fine_tune_epochs,
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            val_split=DEFAULT_VAL_SPLIT if args.val_split is None else args.val_split,
            val_dir=args.val_dir,
            augment=augment,
            seed=args.seed,
            patience=args.patience,
            resize=args.resize or DEFAULT_RESIZE,
            backend=args.backend,
        ).validated()
    except TrainConfigError as exc:
        raise UsageError(str(exc)) from exc


def _check_model(name: str) -> None:
    from core.models.source import MissingFileError, UnknownModelError, model_source

    try:
        model_source(name)
    except UnknownModelError as exc:
        raise UsageError(
            f"unknown model {name!r}: use a zoo name (see 'convlens models') or a model file"
        ) from exc
    except MissingFileError as exc:
        raise UsageError(str(exc)) from exc


@contextlib.contextmanager
def _ctrl_c_cancels(cancel: CancelToken):
    """While active, a first Ctrl+C cancels the run: training stops after the current batch
    and keeps its best epoch. A second one raises KeyboardInterrupt: quit at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers (and only it gets SIGINT)
        return

    def on_sigint(signum, frame):
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        _say("\nStopping after the current batch (press Ctrl+C again to quit at once)…")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _say(message: str) -> None:
    """Print from a signal handler: straight to the descriptor, as the handler may have
    interrupted a write to sys.stderr's buffer (re-entering it raises RuntimeError)."""
    try:
        os.write(sys.stderr.fileno(), (message + "\n").encode(errors="replace"))
    except (AttributeError, OSError, ValueError):  # stderr replaced (tests), or closed
        print(message, file=sys.stderr)


def run(args) -> int:
    config = config_from_args(args)
    from core.ops import OpContext, run_request
    from core.ops.training import ExportTFLiteRequest, SaveModelRequest, ScanDatasetRequest
    from core.training.trainer import train

    bars = ProgressBars(phase_bars=True)
    cancel = CancelToken()
    try:
        with _ctrl_c_cancels(cancel):
            scan = ScanDatasetRequest(config.data_dir)
            dataset = run_request(None, scan, OpContext(progress=bars.progress, cancel=cancel))
            bars.write(_validation_line(config, dataset, args.val_split is not None))
            if config.weights.lower() in ("none", "random"):
                bars.write(
                    "note: the base has random weights (--weights none): nothing is "
                    "transferred from ImageNet, so expect much lower accuracy"
                )
            for warning in dataset.warnings:
                bars.write(f"warning: {warning}")
            for path, reason in dataset.unreadable:
                bars.write(f"{path}: error: {reason}")
            # Not through TrainRequest: it thins batch reports out for the window, and the
            # bars here (and Ctrl+C in the tests) follow every batch.
            result = train(
                config,
                progress=bars.progress,
                cancel=cancel,
                on_epoch=bars.epoch,
                on_batch=bars.batch,
                dataset=dataset,
            )
    except TrainConfigError as exc:  # options only the model can check (a layer name)
        raise UsageError(str(exc)) from exc
    except Cancelled:
        if not cancel.cancelled:
            raise
        bars.close()
        print(
            "convlens train: stopped before the first epoch finished; nothing was saved",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        bars.close()
    with bars:
        ctx = OpContext(progress=bars.progress)
        saved = run_request(None, SaveModelRequest(result, args.out), ctx)
        summary = {"model": str(saved), **result.metrics}
        summary["base"] = {"model": config.model, "weights": config.weights}
        if args.tflite:
            exported = run_request(None, ExportTFLiteRequest(result, args.tflite), ctx)
            summary["tflite"] = str(exported)
    summary["dataset"] = dataset.to_dict()
    summary["history"] = [log.to_dict() for log in result.history]
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(result, summary)
    if result.cancelled:
        last = result.history[-1]
        print(
            f"note: stopped early at epoch {last.epoch} of {last.epochs} (Ctrl+C); "
            f"saved the best epoch ({result.best_epoch})",
            file=sys.stderr,
        )
        return EXIT_SOME_FAILED
    return EXIT_SOME_FAILED if dataset.unreadable else EXIT_OK


def _validation_line(config: TrainConfig, dataset, split_given: bool) -> str:
    """Which images validate the run, said before it starts."""
    if config.val_dir is not None:
        return f"Validation: the folder {config.val_dir}"
    if dataset.split is not None:
        line = f"Validation: {dataset.split.describe()}"
        return line + ("; --val-split does not apply" if split_given else "")
    return f"Validation: {config.val_split:.0%} of each class's images (--val-split)"


def _print_summary(result, summary: dict) -> None:
    evaluation = result.evaluation
    out = sys.stderr
    for note in result.notes:
        print(f"note: {note}", file=out)
    print(
        f"Validation accuracy {evaluation.accuracy:.1%} on {evaluation.count} images "
        f"(best epoch {result.best_epoch}){'; cancelled' if result.cancelled else ''}",
        file=out,
    )
    width = max(len(name) for name in evaluation.class_names)
    print(f"{'class':<{width}}  precision  recall", file=out)
    for name, p, r in zip(
        evaluation.class_names, evaluation.precision, evaluation.recall, strict=True
    ):
        print(f"{name:<{width}}  {_percent(p):>9}  {_percent(r):>6}", file=out)
    for wrong in evaluation.misclassified[:10]:
        print(
            f"misclassified: {wrong.path} ({wrong.true_label} taken for "
            f"{wrong.predicted_label}, {wrong.probability:.0%})",
            file=out,
        )
    print(f"Saved {summary['model']}", file=out)
    if "tflite" in summary:
        print(f"Exported {summary['tflite']}", file=out)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"
