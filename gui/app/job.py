"""A job on the worker thread: its handle (state, cancel token, callbacks) and its context.

Split from gui.app.worker so each module reads in one sitting; nothing here runs a thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from core.ops import Request
from core.progress import CancelToken

if TYPE_CHECKING:
    from gui.app.worker import Worker

# Progress reports closer together than this are coalesced: a batch can report far faster
# than a progress bar can usefully repaint, and every report is a queued GUI event.
_PROGRESS_INTERVAL_S = 0.05
# Partial results go to the GUI in bunches: every cross-thread signal costs the worker a
# hand-off of the interpreter lock (about 1.2 ms per photo while the window classified,
# measured with py-spy), so results are sent together when the job reports progress (after
# each forward pass), every _PARTIAL_INTERVAL_S, and when it ends.
_PARTIAL_INTERVAL_S = 0.05
_PARTIAL_MAX = 64

PENDING, RUNNING, FINISHED, FAILED, CANCELLED = (
    "pending",
    "running",
    "finished",
    "failed",
    "cancelled",
)


class Callbacks(NamedTuple):
    """What a requester is told, on the GUI thread. Any of them may be None."""

    on_done: Callable[[Any], None] | None = None  # the result
    on_partial: Callable[[Any], None] | None = None  # one piece of the result
    on_error: Callable[[BaseException, str], None] | None = None  # error, traceback text
    on_cancelled: Callable[[], None] | None = None  # cancelled, superseded or stale
    on_progress: Callable[[int, int, str], None] | None = None  # done, total, message
    # The pieces that arrived together, in one call (instead of on_partial once each).
    on_partials: Callable[[list], None] | None = None


@dataclass(eq=False)
class JobHandle:
    """One submitted job. Shared between threads; only the worker changes it."""

    id: int
    kind: str
    priority: int
    model_bound: bool
    run: Callable[[WorkerContext], Any] = field(repr=False)
    token: CancelToken = field(default_factory=CancelToken, repr=False)
    generation: int = -1  # the model generation it ran with; -1 until it starts
    state: str = PENDING
    request: Request | None = None  # what it answers, for jobs made by Worker.run
    callbacks: Callbacks = field(default_factory=Callbacks, repr=False)
    _worker: Worker | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.state in (FINISHED, FAILED, CANCELLED)

    def cancel(self) -> None:
        """Drop the job if it is pending; ask it to stop if it is running."""
        if self._worker is not None:
            self._worker.cancel_job(self)


class WorkerContext:
    """What a job sees while it runs on the worker thread."""

    def __init__(self, worker: Worker, job: JobHandle) -> None:
        self._worker = worker
        self.job = job
        self.cancel: CancelToken = job.token
        self._last_report = 0.0
        self._last_message = None
        self._partials: list = []
        self._last_partials = time.monotonic()

    @property
    def engine(self):
        """The current ``core.inference.Engine``, or None before any model has loaded."""
        return self._worker._engine

    @property
    def generation(self) -> int:
        return self._worker._generation

    @property
    def store(self) -> dict:
        """Worker-thread scratch space for jobs (caches); emptied when the engine changes."""
        return self._worker._store

    def set_engine(self, engine) -> int:
        """Install a new engine (a model switch); returns its generation number."""
        # A cancelled load must not replace the model the user kept.
        self.cancel.raise_if_cancelled()
        worker = self._worker
        with worker._lock:
            worker._engine = engine
            worker._generation += 1
            worker._store = {}
            self.job.generation = worker._generation
        worker.engine_changed.emit(worker._generation)
        return worker._generation

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Report progress (coalesced); also a cancellation point for the job."""
        self.send_partials()  # what came before this report arrives before it
        self.cancel.raise_if_cancelled()
        now = time.monotonic()
        if (
            message != self._last_message
            or (total and done >= total)
            or now - self._last_report >= _PROGRESS_INTERVAL_S
        ):
            self._last_report, self._last_message = now, message
            self._worker.job_progressed.emit(self.job, int(done), int(total), message)

    def partial(self, payload: Any) -> None:
        """Stream one piece of the result (e.g. one image's predictions) to the GUI."""
        self._partials.append(payload)
        if (
            len(self._partials) >= _PARTIAL_MAX
            or time.monotonic() - self._last_partials >= _PARTIAL_INTERVAL_S
        ):
            self.send_partials()

    def send_partials(self) -> None:
        """Send the partial results not sent yet, in order (the worker calls it at the end)."""
        if self._partials:
            payloads, self._partials = self._partials, []
            self._worker.partial_result.emit(self.job, payloads)
        self._last_partials = time.monotonic()
