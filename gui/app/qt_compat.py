"""A guard against reference-count bugs in PySide6 6.12.0 on Python 3.11.

In that release every wrapped method that returns nothing (``widget.update()``,
``painter.drawRect()``, ``timer.start()``, a Python ``paintEvent`` override…) hands back
``None`` without taking a reference for it, and ``Signal.emit`` does the same with
``True``. Each call takes one reference away from the singleton; after some thousands of
calls, which a window makes in seconds, the count reaches zero and the interpreter aborts
with "Fatal Python error: none_dealloc" (or "bool_dealloc"), at the latest on exit.
PySide6 6.11.3 is free of it, and from Python 3.12 on these singletons are immortal
(PEP 683) so the bug is harmless there.

Importing this module measures the bug on a private object and, only where it is present,
does what Python 3.12 does: gives ``None``, ``True`` and ``False`` a reference count so
large that no run can use it up. They are static objects that are never freed, so this
changes nothing else. The real fix is a PySide6 without the bug (see pyproject.toml).
"""

from __future__ import annotations

import ctypes
import platform
import sys

from PySide6.QtCore import QObject, Signal

_PROBES = 64
# 2**40 calls: at a million leaking calls per second, twelve days of uptime.
_PIN = 1 << 40


class _Probe(QObject):
    fired = Signal()


def _lost(singleton, action) -> int:
    before = sys.getrefcount(singleton)
    for _ in range(_PROBES):
        action()
    return before - sys.getrefcount(singleton)


def leaks_references() -> bool:
    """Whether this PySide6 takes references away from None or True on ordinary calls."""
    probe = _Probe()
    lost_none = _lost(None, lambda: probe.setObjectName("probe"))
    lost_true = _lost(True, probe.fired.emit)
    # Other threads may move the counts a little meanwhile; the bug moves them every call.
    return max(lost_none, lost_true) >= _PROBES * 3 // 4


def _pin(singleton) -> None:
    # ob_refcnt is the first field of every CPython object, at the object's address.
    ctypes.c_ssize_t.from_address(id(singleton)).value += _PIN


def _install() -> bool:
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    if not leaks_references():
        return False
    for singleton in (None, True, False):
        _pin(singleton)
    return True


INSTALLED = _install()
