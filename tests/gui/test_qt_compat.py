"""Emitting signals must not use up references to True (PySide6 6.12.0 bug, guarded)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

import gui.qt_compat  # noqa: F401


class Emitter(QObject):
    fired = Signal(object)


def test_thousands_of_emits_leave_the_refcount_of_true_alone(qtbot):
    emitter = Emitter()
    received = []
    emitter.fired.connect(received.append)
    before = sys.getrefcount(True)
    for i in range(2000):
        emitter.fired.emit(i)
    # Without the guard the count drops by one per emit and the interpreter aborts later.
    assert abs(sys.getrefcount(True) - before) < 50
    assert len(received) == 2000
