"""Errors reach the user as a message with the traceback behind "Details", never as a crash."""

from __future__ import annotations

import sys
import threading
import traceback

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.errors import ConvLensError, WeightsUnavailableError

_open_boxes: set[QMessageBox] = set()


def show_error(
    parent: QWidget | None, title: str, message: str, details: str | None = None
) -> QMessageBox:
    """Show an error (window-modal, not blocking); the traceback goes behind "Details"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(message)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is None:  # nothing else would keep a parentless box alive
        _open_boxes.add(box)
        box.finished.connect(lambda _result: _open_boxes.discard(box))
    # open(), not exec(): no nested event loop, so worker results keep arriving meanwhile.
    box.open()
    return box


def user_message(error: BaseException) -> str:
    """Our own errors are written for users; anything else is a bug, and says so."""
    if isinstance(error, WeightsUnavailableError):  # its own text names command-line flags
        return f"{error.summary} Download it from {error.url} and put it in {error.folder}."
    if isinstance(error, ConvLensError):
        return str(error)
    return (
        f"Something went wrong inside ConvLens ({type(error).__name__}: {error}).\n"
        "Your images and files are untouched. The details below help us fix it."
    )


class _Relay(QObject):
    """Carries an exception from any thread to the GUI thread."""

    raised = Signal(object, str)


_relay: _Relay | None = None
_showing = False


def install_excepthook(parent_getter=lambda: None) -> None:
    """Show uncaught exceptions (in slots, timers, or any thread) instead of aborting."""
    global _relay
    _relay = _Relay()
    _relay.raised.connect(lambda error, details: _show_uncaught(parent_getter(), error, details))

    def hook(kind, error, tb):
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        details = "".join(traceback.format_exception(kind, error, tb))
        sys.stderr.write(details)
        _relay.raised.emit(error, details)

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value, args.exc_traceback)


def _show_uncaught(parent, error, details) -> None:
    global _showing
    if _showing or QApplication.instance() is None:
        return  # one dialog at a time: an error in a paint event would otherwise cascade
    _showing = True
    box = show_error(parent, "ConvLens error", user_message(error), details)
    box.finished.connect(_reset)


def _reset() -> None:
    global _showing
    _showing = False
