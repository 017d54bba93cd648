"""Many Qt calls and signal emits must not abort Python (PySide6 6.12.0 refcount bug)."""

from __future__ import annotations

import ctypes
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[3]

# 200,000 void calls and emits: far more than the few thousand references None and True
# hold in a small process, so with the bug and without the guard this aborts.
STRESS = """
import gui.app.qt_compat
from PySide6.QtCore import QObject, Signal

class Emitter(QObject):
    fired = Signal(object)

emitter = Emitter()
received = []
emitter.fired.connect(received.append)
for i in range(100_000):
    emitter.setObjectName("x")
    emitter.fired.emit(i)
print(len(received), gui.app.qt_compat.INSTALLED)
"""


def test_a_long_run_of_qt_calls_ends_cleanly():
    result = subprocess.run(
        [sys.executable, "-c", STRESS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    count, _installed = result.stdout.split()
    assert count == "100000"


def test_the_guard_only_acts_where_the_bug_is():
    from gui.app import qt_compat

    # Measured again now: the bug still takes references, the pinned counts absorb it.
    assert qt_compat.INSTALLED == (sys.version_info < (3, 12) and qt_compat.leaks_references())


# -- the guard's logic, with the bug faked (so these fail if the guard is wrong) -----------


class _Leaky:
    """A stand-in for the probe of a buggy PySide6: each call drops a reference to None
    (setObjectName) or True (emit), as 6.12.0 does, here by letting go of held ones."""

    def __init__(self) -> None:
        self._nones = [None] * 1000
        self._trues = [True] * 1000
        self.fired = self

    def setObjectName(self, _name) -> None:  # noqa: N802 (Qt's name)
        self._nones.pop()

    def emit(self) -> None:
        self._trues.pop()


class _Sound:
    def __init__(self) -> None:
        self.fired = self

    def setObjectName(self, _name) -> None:  # noqa: N802
        pass

    def emit(self) -> None:
        pass


def test_the_measurement_sees_a_leak_and_only_a_leak(monkeypatch):
    from gui.app import qt_compat

    monkeypatch.setattr(qt_compat, "_Probe", _Leaky)
    assert qt_compat.leaks_references()
    monkeypatch.setattr(qt_compat, "_Probe", _Sound)
    assert not qt_compat.leaks_references()


def test_pinning_raises_the_count_by_the_pin():
    from gui.app import qt_compat

    token = object()
    before = sys.getrefcount(token)
    qt_compat._pin(token)
    try:
        assert sys.getrefcount(token) - before == qt_compat._PIN
    finally:
        ctypes.c_ssize_t.from_address(id(token)).value -= qt_compat._PIN  # let it go again


def _python(version: tuple[int, int]) -> SimpleNamespace:
    return SimpleNamespace(version_info=version, getrefcount=sys.getrefcount)


def test_the_guard_pins_none_true_and_false_only_on_a_leaking_python_311(monkeypatch):
    from gui.app import qt_compat

    pinned = []
    monkeypatch.setattr(qt_compat, "_pin", pinned.append)
    monkeypatch.setattr(qt_compat, "leaks_references", lambda: True)
    monkeypatch.setattr(qt_compat, "sys", _python((3, 11)))
    assert qt_compat._install() is True
    assert pinned == [None, True, False]

    pinned.clear()
    monkeypatch.setattr(qt_compat, "sys", _python((3, 12)))  # immortal singletons (PEP 683)
    assert qt_compat._install() is False and pinned == []

    monkeypatch.setattr(qt_compat, "sys", _python((3, 11)))
    monkeypatch.setattr(qt_compat, "leaks_references", lambda: False)  # a sound PySide6
    assert qt_compat._install() is False and pinned == []
