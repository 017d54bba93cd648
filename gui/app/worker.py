"""The one long-lived worker thread that owns the model and runs every model job.

Keras models are not safe to call from several threads, and TensorFlow must never be
imported on the GUI thread, so every load, prediction, activation, export (and later
training) runs here, one job at a time. Widgets talk to it only through ``submit`` and
its signals; it never touches a widget.

Work arrives in two forms. ``run(request, on_done=…, …)`` takes a typed operation request
(core.ops) and calls the requester back on the GUI thread: this is how the windows use it.
Underneath, ``submit(kind, run)`` takes a plain callable ``run(ctx) -> result``; the worker
knows nothing about what either does, so new kinds of work need no change here. The rules:

- A newer pending job of the same kind supersedes the older pending one (select layer A
  then B: only B is computed). A running job is never interrupted by a newer one.
- Higher ``priority`` runs first; equal priorities run in submission order.
- Every signal carries the ``JobHandle``; its ``generation`` says which model the job ran
  with. ``engine_changed(generation)`` is emitted when a job installs a new engine. A
  request's callbacks never see a result computed with a model that has been replaced
  since: such a job ends in ``on_cancelled`` instead.

Signals are emitted from the worker thread; Qt queues them to the receivers' thread, in
emission order. The design follows napari's ``_LayerSlicer`` (single executor, superseding
requests, ``wait_until_idle`` for tests) and superqt's worker signals.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QThread, Signal

import gui.app.qt_compat  # noqa: F401  (before any emit: PySide6 6.12 refcount fix)
from core.errors import Cancelled, ModelLoadError
from core.ops import OpContext, Request, run_request
from gui.app.job import (
    CANCELLED,
    FAILED,
    FINISHED,
    PENDING,
    RUNNING,
    Callbacks,
    JobHandle,
    WorkerContext,
)

__all__ = [
    "CANCELLED",
    "FAILED",
    "FINISHED",
    "PENDING",
    "RUNNING",
    "Callbacks",
    "JobHandle",
    "Worker",
    "WorkerContext",
    "lower_cpu_priority",
]

# The worker yields the CPU to the GUI thread: a window that reacts within a frame matters
# more than a batch finishing a few percent sooner. Threads started from the worker
# (TensorFlow's pools, image decoders) inherit it.
WORKER_NICE = 10


class Worker(QObject):
    """A single worker thread with a priority queue of superseding jobs."""

    job_started = Signal(object)  # JobHandle
    job_progressed = Signal(object, int, int, str)  # JobHandle, done, total, message
    partial_result = Signal(object, object)  # JobHandle, list of payloads, in order
    job_finished = Signal(object, object)  # JobHandle, result
    job_failed = Signal(object, object, str)  # JobHandle, exception, traceback text
    job_cancelled = Signal(object)  # JobHandle
    engine_changed = Signal(int)  # the new model generation

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._queue: list[tuple[int, int, JobHandle]] = []  # (-priority, sequence, job)
        self._ids = itertools.count(1)
        self._current: JobHandle | None = None
        self._stopping = False
        self._engine = None
        self._generation = 0
        self._store: dict = {}
        # A daemon thread: if a job is stuck where it cannot be cancelled (a TensorFlow
        # import, one long forward pass), closing the window must still end the process.
        self._thread = threading.Thread(target=self._loop, name="convlens-worker", daemon=True)
        # The generation the GUI thread has been told about; results of older ones are stale.
        self._delivered_generation = 0
        # Queued connections (the worker emits from its thread): callbacks run on the GUI
        # thread, in emission order. engine_changed first, so staleness is judged in order.
        self.engine_changed.connect(self._on_engine_changed)
        self.job_progressed.connect(self._deliver_progress)
        self.partial_result.connect(self._deliver_partial)
        self.job_finished.connect(self._deliver_finished)
        self.job_failed.connect(self._deliver_failed)
        self.job_cancelled.connect(self._deliver_cancelled)
        self._thread.start()

    # -- the GUI side ----------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """The generation of the engine installed most recently."""
        return self._generation

    def run(
        self,
        request: Request,
        *,
        on_done: Callable[[Any], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_partials: Callable[[list], None] | None = None,
        on_error: Callable[[BaseException, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        kind: str | None = None,
        supersede: bool = True,
        priority: int = 0,
    ) -> JobHandle:
        """Run an operation request on the worker; the callbacks come on the GUI thread.

        kind: what a newer request supersedes (default: the request's type).
        """

        def run(ctx: WorkerContext):
            op_ctx = OpContext(
                progress=ctx.progress,
                cancel=ctx.cancel,
                partial=ctx.partial,
                store=ctx.store,
                install_engine=ctx.set_engine,
            )
            return run_request(ctx.engine, request, op_ctx)

        callbacks = Callbacks(on_done, on_partial, on_error, on_cancelled, on_progress, on_partials)
        return self.submit(
            kind or request.kind,
            run,
            supersede=supersede,
            model_bound=request.needs_engine,
            priority=priority,
            request=request,
            callbacks=callbacks,
        )

    def submit(
        self,
        kind: str,
        run: Callable[[WorkerContext], Any],
        *,
        supersede: bool = True,
        model_bound: bool = True,
        priority: int = 0,
        request: Request | None = None,
        callbacks: Callbacks | None = None,
    ) -> JobHandle:
        """Queue run(ctx) for the worker thread.

        supersede: drop pending jobs of the same kind (they were asked for by an older
        request). model_bound: the job needs a loaded model; it fails with a ModelLoadError
        if none is loaded when it starts.
        """
        job = JobHandle(
            next(self._ids),
            kind,
            priority,
            model_bound,
            run,
            request=request,
            callbacks=callbacks or Callbacks(),
            _worker=self,
        )
        dropped = []
        with self._lock:
            if self._stopping:
                job.state = CANCELLED
                return job
            if supersede:
                dropped = [entry for entry in self._queue if entry[2].kind == kind]
                self._queue = [entry for entry in self._queue if entry[2].kind != kind]
            self._queue.append((-priority, job.id, job))
            self._wakeup.notify_all()
        for _, _, old in dropped:
            old.token.cancel()
            old.state = CANCELLED
            self.job_cancelled.emit(old)
        return job

    def cancel(self, kind: str | None = None) -> None:
        """Cancel pending and running jobs of one kind, or all jobs."""
        with self._lock:
            dropped = [e[2] for e in self._queue if kind is None or e[2].kind == kind]
            self._queue = [e for e in self._queue if e[2] not in dropped]
            current = self._current
        if current is not None and (kind is None or current.kind == kind):
            current.token.cancel()
        for job in dropped:
            job.token.cancel()
            job.state = CANCELLED
            self.job_cancelled.emit(job)

    def cancel_job(self, job: JobHandle) -> None:
        with self._lock:
            pending = [e for e in self._queue if e[2] is job]
            self._queue = [e for e in self._queue if e[2] is not job]
        job.token.cancel()
        if pending:
            job.state = CANCELLED
            self.job_cancelled.emit(job)

    def pending(self, kind: str | None = None) -> list[JobHandle]:
        """Jobs waiting or running, oldest first (running first)."""
        with self._lock:
            jobs = [e[2] for e in sorted(self._queue)]
            if self._current is not None:
                jobs.insert(0, self._current)
        return [job for job in jobs if kind is None or job.kind == kind]

    def is_idle(self) -> bool:
        with self._lock:
            return not self._queue and self._current is None

    def wait_until_idle(self, timeout: float | None = None) -> None:
        """Block until no job is queued or running; TimeoutError if that takes too long.

        On the GUI thread it keeps the event loop turning meanwhile, and delivers the
        results the worker emitted, so slots that submit follow-up jobs are waited for too.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        app = QCoreApplication.instance()
        on_gui_thread = app is not None and QThread.currentThread() is app.thread()
        while True:
            if on_gui_thread:
                QCoreApplication.sendPostedEvents()
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
            with self._lock:
                idle = not self._queue and self._current is None
                if not idle:
                    self._wakeup.wait(0.01)
            if idle:
                if not on_gui_thread:
                    return
                # Deliver what the worker emitted before going idle; a slot may submit more.
                QCoreApplication.sendPostedEvents()
                QCoreApplication.processEvents()
                if self.is_idle():
                    return
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"The worker was still busy after {timeout} s: {self.pending()}")

    def shutdown(self, timeout_s: float = 2.0) -> bool:
        """Cancel everything and join the thread; False if it did not end in time."""
        with self._lock:
            self._stopping = True
            for _, _, job in self._queue:
                job.token.cancel()
                job.state = CANCELLED
                job.callbacks = Callbacks()
            self._queue.clear()
            if self._current is not None:
                self._current.token.cancel()
            self._wakeup.notify_all()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # -- delivering to requesters (GUI thread) ---------------------------------------------

    def _on_engine_changed(self, generation: int) -> None:
        self._delivered_generation = generation

    def _stale(self, job: JobHandle) -> bool:
        """A result computed with a model that has been replaced since."""
        return job.model_bound and job.generation != self._delivered_generation

    def _deliver_progress(self, job: JobHandle, done: int, total: int, message: str) -> None:
        if job.callbacks.on_progress is not None and not self._stale(job):
            job.callbacks.on_progress(done, total, message)

    def _deliver_partial(self, job: JobHandle, payloads: list) -> None:
        if job.callbacks.on_partials is not None:
            if not self._stale(job):
                job.callbacks.on_partials(payloads)
            return
        for payload in payloads:
            if job.callbacks.on_partial is None or self._stale(job):
                return
            job.callbacks.on_partial(payload)

    def _deliver_finished(self, job: JobHandle, result) -> None:
        callbacks = _release(job)
        if job.model_bound and job.generation != self._delivered_generation:
            if callbacks.on_cancelled is not None:  # stale: computed with a replaced model
                callbacks.on_cancelled()
        elif callbacks.on_done is not None:
            callbacks.on_done(result)

    def _deliver_failed(self, job: JobHandle, error: BaseException, details: str) -> None:
        callbacks = _release(job)
        if callbacks.on_error is not None:
            callbacks.on_error(error, details)

    def _deliver_cancelled(self, job: JobHandle) -> None:
        callbacks = _release(job)
        if callbacks.on_cancelled is not None:
            callbacks.on_cancelled()

    # -- the worker thread -----------------------------------------------------------------

    def _loop(self) -> None:
        lower_cpu_priority(WORKER_NICE)
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._wakeup.wait()
                if self._stopping:
                    return
                self._queue.sort()
                _, _, job = self._queue.pop(0)
                job.state = RUNNING
                job.generation = self._generation
                self._current = job
            try:
                self._execute(job)
            finally:
                # Drop the references a finished job holds (arrays, the model) promptly.
                job.run = None
                with self._lock:
                    self._current = None
                    self._wakeup.notify_all()

    def _execute(self, job: JobHandle) -> None:
        self.job_started.emit(job)
        context = WorkerContext(self, job)
        try:
            job.token.raise_if_cancelled()
            if job.model_bound and self._engine is None:
                raise ModelLoadError("No model is loaded yet. Choose a model first.")
            try:
                result = job.run(context)
            finally:
                context.send_partials()  # before the job's end reaches the GUI
            job.token.raise_if_cancelled()  # a result nobody wants any more
        except Cancelled:
            job.state = CANCELLED
            self.job_cancelled.emit(job)
        except Exception as error:  # every failure goes to the GUI, never kills the thread
            details = "".join(traceback.format_exception(error))
            job.state = FAILED
            self.job_failed.emit(job, _without_frames(error), details)
        else:
            job.state = FINISHED
            self.job_finished.emit(job, result)


def _release(job: JobHandle) -> Callbacks:
    """A finished job's callbacks, dropped from the job.

    They hold the requester (a window's controller); a job that kept them would keep the
    window's objects in a cycle, which the garbage collector could then free on the worker
    thread, and Qt objects must be deleted on their own thread.
    """
    callbacks, job.callbacks = job.callbacks, Callbacks()
    return callbacks


def lower_cpu_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority (Linux: nice is per thread); best effort."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def _without_frames(error: BaseException) -> BaseException:
    """The error with its tracebacks dropped: their frames would keep the job's arrays and
    model alive for as long as the GUI holds the error (the text is in the details)."""
    seen = set()
    link = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    return error
