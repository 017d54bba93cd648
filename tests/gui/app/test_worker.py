"""The worker thread, with plain-Python jobs: ordering, superseding, cancel, errors, shutdown."""

from __future__ import annotations

import threading

import pytest

from core.errors import Cancelled, ConvLensError
from gui.app.job import Callbacks
from gui.app.worker import CANCELLED, FAILED, FINISHED, Worker


@pytest.fixture
def worker(qtbot):
    worker = Worker()
    yield worker
    assert worker.shutdown(timeout_s=5)


class Recorder:
    """Collects the worker's signals in the order the GUI receives them."""

    def __init__(self, worker: Worker) -> None:
        self.events = []
        worker.job_started.connect(lambda job: self.events.append(("started", job.kind)))
        worker.job_finished.connect(lambda job, r: self.events.append(("finished", job.kind, r)))
        worker.job_cancelled.connect(lambda job: self.events.append(("cancelled", job.kind)))
        worker.job_failed.connect(lambda job, e, d: self.events.append(("failed", job.kind, e, d)))
        worker.partial_result.connect(
            lambda job, ps: self.events.extend(("partial", job.kind, p) for p in ps)
        )
        worker.engine_changed.connect(lambda g: self.events.append(("engine", g)))

    def of(self, name):
        return [e for e in self.events if e[0] == name]


def blocker():
    """A job that runs until released, so tests can queue jobs behind it."""
    started, release = threading.Event(), threading.Event()

    def run(ctx):
        started.set()
        while not release.wait(0.01):
            ctx.cancel.raise_if_cancelled()
        return "blocker"

    return run, started, release


def test_a_newer_pending_job_supersedes_the_older_one_of_its_kind(worker):
    record = Recorder(worker)
    run, started, release = blocker()
    worker.submit("block", run, model_bound=False)
    assert started.wait(5)
    a = worker.submit("activations", lambda ctx: "layer A", model_bound=False)
    b = worker.submit("activations", lambda ctx: "layer B", model_bound=False)
    other = worker.submit("export", lambda ctx: "export", model_bound=False)
    release.set()
    worker.wait_until_idle(5)
    finished = [e[2] for e in record.of("finished")]
    assert finished == ["blocker", "layer B", "export"]
    assert a.state == CANCELLED and b.state == FINISHED and other.state == FINISHED
    assert ("cancelled", "activations") in record.events


def test_jobs_of_different_kinds_or_without_supersede_all_run(worker):
    record = Recorder(worker)
    run, started, release = blocker()
    worker.submit("block", run, model_bound=False)
    assert started.wait(5)
    for i in range(3):
        worker.submit("classify", lambda ctx, i=i: i, supersede=False, model_bound=False)
    release.set()
    worker.wait_until_idle(5)
    assert [e[2] for e in record.of("finished")][1:] == [0, 1, 2]


def test_higher_priority_jobs_run_first(worker):
    record = Recorder(worker)
    run, started, release = blocker()
    worker.submit("block", run, model_bound=False)
    assert started.wait(5)
    worker.submit("batch", lambda ctx: "batch", model_bound=False, priority=0)
    worker.submit("interactive", lambda ctx: "interactive", model_bound=False, priority=1)
    release.set()
    worker.wait_until_idle(5)
    assert [e[2] for e in record.of("finished")] == ["blocker", "interactive", "batch"]


def test_cancel_stops_the_running_job_and_drops_pending_ones(worker):
    record = Recorder(worker)
    run, started, _release = blocker()
    running = worker.submit("classify", run, supersede=False, model_bound=False)
    assert started.wait(5)
    queued = worker.submit("classify", lambda ctx: "never", supersede=False, model_bound=False)
    kept = worker.submit("export", lambda ctx: "kept", model_bound=False)
    worker.cancel("classify")
    worker.wait_until_idle(5)
    assert running.state == CANCELLED and queued.state == CANCELLED
    assert kept.state == FINISHED
    assert [e[2] for e in record.of("finished")] == ["kept"]


def test_a_failing_job_reports_message_and_traceback_and_the_worker_goes_on(worker):
    record = Recorder(worker)

    def broken(ctx):
        raise ConvLensError("The file is damaged.")

    job = worker.submit("load", broken, model_bound=False)
    worker.submit("after", lambda ctx: "still alive", model_bound=False)
    worker.wait_until_idle(5)
    (_, kind, error, details) = record.of("failed")[0]
    assert job.state == FAILED and kind == "load"
    assert str(error) == "The file is damaged."
    assert "Traceback" in details and "def broken" not in details and "broken" in details
    assert record.of("finished")[0][2] == "still alive"


def test_a_model_job_without_a_model_fails_with_a_clear_message(worker):
    record = Recorder(worker)
    worker.submit("classify", lambda ctx: ctx.engine.classify(), model_bound=True)
    worker.wait_until_idle(5)
    assert "No model is loaded" in str(record.of("failed")[0][2])


def test_set_engine_bumps_the_generation_and_results_carry_it(worker):
    record = Recorder(worker)
    jobs = []
    worker.job_finished.connect(lambda job, result: jobs.append(job))

    def load(ctx):
        ctx.store["cache"] = "old"
        return ctx.set_engine(object())

    def use(ctx):
        return ("cache" in ctx.store, ctx.generation)

    for _ in range(2):
        worker.submit("load", load, model_bound=False, supersede=False)
        worker.submit("use", use, supersede=False)
    worker.wait_until_idle(5)
    assert record.of("engine") == [("engine", 1), ("engine", 2)]
    assert [job.generation for job in jobs] == [1, 1, 2, 2]
    # Caches of one model never leak to the next.
    assert [e[2] for e in record.of("finished")] == [1, (False, 1), 2, (False, 2)]


def test_a_cancelled_load_does_not_replace_the_engine(worker):
    started, release = threading.Event(), threading.Event()

    def load(ctx):
        started.set()
        release.wait(5)
        ctx.set_engine("new")

    worker.submit("load", lambda ctx: ctx.set_engine("old"), model_bound=False)
    job = worker.submit("load", load, model_bound=False, supersede=False)
    assert started.wait(5)
    job.cancel()
    release.set()
    worker.wait_until_idle(5)
    assert job.state == CANCELLED
    assert worker.generation == 1
    assert worker._engine == "old"


def test_partial_results_and_progress_reach_the_gui_in_order(worker, qtbot):
    record = Recorder(worker)
    progress = []
    worker.job_progressed.connect(lambda job, done, total, msg: progress.append((done, total)))

    def stream(ctx):
        for i in range(5):
            ctx.partial(i)
            ctx.progress(i + 1, 5, "streaming")
        return "done"

    worker.submit("classify", stream, model_bound=False)
    worker.wait_until_idle(5)
    assert [e[2] for e in record.of("partial")] == [0, 1, 2, 3, 4]
    assert record.events[-1] == ("finished", "classify", "done")
    assert progress[-1] == (5, 5)  # coalesced, but the last report always arrives


def test_many_partial_results_arrive_in_order_in_a_few_bunches(worker, qtbot):
    bunches = []
    worker.partial_result.connect(lambda job, payloads: bunches.append(list(payloads)))
    record = Recorder(worker)

    def stream(ctx):
        for i in range(200):
            ctx.partial(i)
        return "done"

    worker.submit("classify", stream, model_bound=False)
    worker.wait_until_idle(5)
    assert [e[2] for e in record.of("partial")] == list(range(200))
    assert record.events[-1] == ("finished", "classify", "done")  # after the last result
    assert len(bunches) <= 200 // 64 + 2  # not 200 signals, each a hand-off between threads


def test_on_partials_gets_each_bunch_in_one_call_in_order(worker, qtbot):
    calls = []

    def stream(ctx):
        for i in range(200):
            ctx.partial(i)
        return "done"

    job = worker.submit(
        "classify",
        stream,
        model_bound=False,
        callbacks=Callbacks(on_partials=lambda payloads: calls.append(list(payloads))),
    )
    worker.wait_until_idle(5)
    assert job.state == FINISHED
    assert [p for bunch in calls for p in bunch] == list(range(200))
    assert len(calls) <= 200 // 64 + 2  # a call per bunch, not one per result


def test_progress_is_a_cancellation_point(worker):
    record = Recorder(worker)
    started = threading.Event()

    def long(ctx):
        started.set()
        while True:
            ctx.progress(0, 0, "working")

    job = worker.submit("export", long, model_bound=False)
    assert started.wait(5)
    worker.cancel()
    worker.wait_until_idle(5)
    assert job.state == CANCELLED
    assert record.of("cancelled")


def test_shutdown_cancels_a_busy_worker_and_joins_it(qtbot):
    worker = Worker()
    run, started, _release = blocker()
    worker.submit("classify", run, model_bound=False)
    worker.submit("classify", run, supersede=False, model_bound=False)
    assert started.wait(5)
    assert worker.shutdown(timeout_s=2.0)
    assert not worker._thread.is_alive()
    assert worker.submit("late", lambda ctx: 1).state == CANCELLED


def test_wait_until_idle_times_out_when_the_worker_stays_busy(worker):
    run, started, release = blocker()
    worker.submit("block", run, model_bound=False)
    assert started.wait(5)
    with pytest.raises(TimeoutError):
        worker.wait_until_idle(0.2)
    release.set()
    worker.wait_until_idle(5)


def test_a_job_raising_cancelled_counts_as_cancelled(worker):
    record = Recorder(worker)

    def stop(ctx):
        raise Cancelled()

    worker.submit("export", stop, model_bound=False)
    worker.wait_until_idle(5)
    assert record.of("cancelled") and not record.of("failed")
