"""Answering modal dialogs from a test: a QTimer clicks a button of the next modal dialog
once it is open (exec() runs its own event loop, so the test cannot click it in line)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog

POLL_MS = 20
_LIVE: list = []  # answers still waiting: kept alive though the caller drops its reference


class ModalAnswer:
    """Clicks, in each of the next modal dialogs in turn, the button whose text starts with
    the next of `buttons`. Keeps each dialog's title, text and button texts in `seen`."""

    def __init__(self, *buttons: str, tries: int = 3000, prepare=None) -> None:
        self.buttons = list(buttons)
        self.prepare = prepare  # called with each dialog before its button is clicked
        self.seen: list[dict] = []
        self._answered: QDialog | None = None
        self._tries = tries
        _LIVE.append(self)
        QTimer.singleShot(POLL_MS, self._poll)

    def done(self) -> bool:
        return not self.buttons

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog) or not dialog.isVisible() or dialog is self._answered:
            self._tries -= 1
            if self._tries > 0:
                QTimer.singleShot(POLL_MS, self._poll)
            elif self in _LIVE:
                _LIVE.remove(self)
            return
        buttons = [b for b in dialog.findChildren(QAbstractButton) if b.isVisible()]
        texts = [b.text().replace("&", "") for b in buttons]
        self.seen.append(
            {
                "title": dialog.windowTitle(),
                "text": getattr(dialog, "text", lambda: "")(),
                "informative": getattr(dialog, "informativeText", lambda: "")(),
                "buttons": texts,
            }
        )
        if self.prepare is not None:
            self.prepare(dialog)
        wanted = self.buttons.pop(0)
        self._answered = dialog
        if self.buttons:
            QTimer.singleShot(POLL_MS, self._poll)
        elif self in _LIVE:
            _LIVE.remove(self)
        for button, label in zip(buttons, texts, strict=True):
            if label.startswith(wanted):
                button.click()
                return
        self.seen[-1]["missing"] = wanted  # no such button: the test fails on `seen`
        dialog.reject()


def answer_next_dialog(*buttons: str, prepare=None) -> ModalAnswer:
    return ModalAnswer(*buttons, prepare=prepare)


def activate(qtbot, window) -> None:
    """The window in front again, as a click on it makes it: its shortcuts work when it is
    active, and the offscreen platform does not give it back when a dialog closes."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
