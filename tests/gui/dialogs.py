"""Answering modal dialogs from a test: a QTimer clicks a button of the next modal dialog
once it is open (exec() runs its own event loop, so the test cannot click it in line)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog

POLL_MS = 20


class ModalAnswer:
    """Clicks the button whose text starts with `button` in the next modal dialog.

    Keeps the dialog's title, text and button texts in `seen` for the test to check.
    """

    def __init__(self, button: str, tries: int = 3000) -> None:
        self.button = button
        self.seen: dict | None = None
        self._tries = tries
        QTimer.singleShot(POLL_MS, self._poll)

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog) or not dialog.isVisible():
            self._tries -= 1
            if self._tries > 0:
                QTimer.singleShot(POLL_MS, self._poll)
            return
        buttons = [b for b in dialog.findChildren(QAbstractButton) if b.isVisible()]
        texts = [b.text().replace("&", "") for b in buttons]
        text = getattr(dialog, "text", lambda: "")()
        informative = getattr(dialog, "informativeText", lambda: "")()
        self.seen = {
            "title": dialog.windowTitle(),
            "text": text,
            "informative": informative,
            "buttons": texts,
        }
        for button, label in zip(buttons, texts, strict=True):
            if label.startswith(self.button):
                button.click()
                return
        dialog.reject()  # no such button: the test fails on `seen`
        self.seen["missing"] = self.button


def answer_next_dialog(button: str) -> ModalAnswer:
    return ModalAnswer(button)
