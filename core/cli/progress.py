"""Progress on stderr for every command: one adapter from core's progress reports to tqdm.

Core reports ``progress(done, total, message)``. The messages say what kind of report it is:
a step ("Loading MobileNetV2…", total 0), a download ("Downloading FILE", a byte count), a
phase of a long run ("Checking images…", counted) or plain counts ("3/10 images"). Bars are
drawn even when stderr is not a terminal, so the logs of long runs show progress too.
"""

from __future__ import annotations

import sys

PHASE_END = "…"  # core's phase messages end with an ellipsis; counts ("3/10 images") do not


class ProgressBars:
    """Draws core progress reports (``progress``) and training logs on stderr.

    - total 0: a step, printed once on a line of its own;
    - "Downloading …" with a total: a byte bar;
    - a phase ("Checking images…"): a line once, or with ``phase_bars`` a bar of its own
      that goes away when the phase ends (a long run would otherwise fill the terminal);
    - counts: the item bar that ``items`` opened, which stays as the command's record;
    - ``batch`` and ``epoch``: an epoch bar with the loss, then the epoch's summary line.
    """

    def __init__(self, phase_bars: bool = False) -> None:
        self.phase_bars = phase_bars
        self._bar = None
        self._label: str | None = None  # what the open bar is for
        self._items = ""  # the item bar's label
        self._shown: set[str] = set()

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- core's progress callback ---------------------------------------------------------

    def progress(self, done: int, total: int, message: str = "") -> None:
        if total and message.startswith("Downloading"):
            self._advance(self._open(message, total, "B", leave=True, unit_scale=True), done)
        elif not total or (message.endswith(PHASE_END) and not self.phase_bars):
            self.step(message)
        elif message.endswith(PHASE_END):
            self._advance(self._open(message.rstrip("…."), total, "img", leave=False), done)
        else:
            self._advance(self._open(self._items, total, "img", leave=True), done)

    def items(self, label: str, total: int) -> None:
        """Open the item bar at 0/total, before the first (slow) batch reports."""
        self._items = label
        self._open(label, total, "img", leave=True)

    def step(self, message: str) -> None:
        """A step on a line of its own, once: loads repeat theirs as they go."""
        if not message or message in self._shown:
            return
        self._shown.add(message)
        self.close()
        print(message, file=sys.stderr)

    # -- training -------------------------------------------------------------------------

    def batch(self, log) -> None:
        """A core.training BatchLog: the epoch's bar, with the running loss."""
        bar = self._open(f"Epoch {log.epoch}/{log.epochs}", log.batches, "batch", leave=False)
        bar.set_postfix(loss=f"{log.loss:.3f}", refresh=False)
        self._advance(bar, log.batch)

    def epoch(self, log) -> None:
        """A core.training EpochLog: its summary line in place of the epoch's bar."""
        self.close()
        val = ""
        if log.val_loss is not None:
            val = f"  val_loss {log.val_loss:.4f}  val_accuracy {log.val_accuracy:.3f}"
        stage = "  (fine-tuning)" if log.stage == 2 else ""
        print(
            f"Epoch {log.epoch}/{log.epochs}  loss {log.loss:.4f}  accuracy {log.accuracy:.3f}"
            f"{val}  {log.seconds:.1f}s{stage}",
            file=sys.stderr,
        )

    # -- output ---------------------------------------------------------------------------

    def write(self, line: str, file=None) -> None:
        """Print a line (to stderr by default) without tearing an open bar."""
        file = file if file is not None else sys.stderr
        if self._bar is None:
            print(line, file=file)
            return
        from tqdm import tqdm

        tqdm.write(line, file=file)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar = self._label = None

    def _open(self, label: str, total: int, unit: str, leave: bool, **options):
        """The bar for label, replacing the open one if that is for something else."""
        if self._bar is not None and self._label == label:
            if total and self._bar.total != total:
                self._bar.total = total
            return self._bar
        from tqdm import tqdm

        self.close()
        self._bar = tqdm(
            total=total or None,
            desc=label or None,
            unit=unit,
            file=sys.stderr,
            leave=leave,
            disable=False,  # not None: shown when stderr is a file or a pipe too
            **options,
        )
        self._label = label
        return self._bar

    @staticmethod
    def _advance(bar, done: int) -> None:
        # update(), not refresh(): tqdm then redraws at most ten times a second, which a
        # download reporting every 64 KB or a fast epoch of tiny batches needs.
        bar.update(done - bar.n)
