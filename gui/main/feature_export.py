"""Feature vectors exported from the window: an ExtractRequest on the worker, reported
through the session's task, error and export_finished signals."""

from __future__ import annotations

from core.ops.extract import ExtractRequest
from gui.app.worker import JobHandle
from gui.widgets.error_dialog import user_message


def start_export(session, request: ExtractRequest, priority: int) -> JobHandle:
    """Run request on session's worker; the status bar follows it."""

    def done(result) -> None:
        session.task_done.emit(
            "export", f"Exported {result.count} feature vectors to {result.path.name}"
        )
        session.export_finished.emit(result)

    def failed(error, details: str) -> None:
        session.task_done.emit("export", "Export failed")
        session.failed.emit("Export failed", user_message(error), details)

    job = session.worker.run(
        request,
        kind="export",
        priority=priority,
        on_done=done,
        on_error=failed,
        on_cancelled=lambda: session.task_done.emit(
            "export", "Export cancelled; no file was written"
        ),
        on_progress=lambda done, total, text: session.task_busy.emit("export", text, done, total),
    )
    count = len(request.paths)
    session.task_busy.emit("export", f"Exporting features of {count} images…", 0, count)
    return job
