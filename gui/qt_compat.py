"""A guard against a reference-count bug in PySide6's ``Signal.emit`` (seen in 6.12.0).

There, ``SignalInstance.emit`` returns ``True`` without taking a reference for it, so every
emit from Python code takes one reference away from ``True``. On Python < 3.12, where
``True`` is not immortal, a few thousand emits (a batch of images reports progress, results
and thumbnails) bring its count to zero and the interpreter aborts with "Fatal Python
error: bool_dealloc". Importing this module measures the bug on a private signal and, only
if it is present, wraps ``emit`` to add the missing reference. Harmless where it is fixed.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 32


class _Probe(QObject):
    fired = Signal()


def emit_loses_references() -> bool:
    """Whether emit() takes references away from the value it returns."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe itself took
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    # Other threads may move the count a little meanwhile; the bug moves it by every emit.
    return lost >= _PROBES * 3 // 4


def _install() -> bool:
    if getattr(SignalInstance.emit, "_convlens_refcount_fix", False):
        return True
    if sys.version_info >= (3, 12) or not emit_loses_references():
        return False  # immortal True (PEP 683), or a PySide6 without the bug
    original = SignalInstance.emit

    def emit(self, *args):
        result = original(self, *args)
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))
        return result

    emit._convlens_refcount_fix = True
    SignalInstance.emit = emit
    return True


INSTALLED = _install()
