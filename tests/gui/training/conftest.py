"""The training window on a worker of its own, closed after the test (a trained model that
was not saved is discarded: closing asks about it, as a user would be asked)."""

from __future__ import annotations

import pytest

from gui.app.worker import Worker
from gui.training.window import TrainingWindow
from tests.gui.dialogs import answer_next_dialog


@pytest.fixture
def view(qtbot):
    worker = Worker()
    view = TrainingWindow(worker)
    view.show()  # not qtbot.addWidget: its teardown would close it before the answer below
    yield view
    if view.controller.unsaved() and not view.is_training():
        answer_next_dialog("Discard")  # closing asks about the trained model
    view.close()
    assert worker.shutdown(timeout_s=10)
