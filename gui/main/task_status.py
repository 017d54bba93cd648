"""The status bar's account of background work: what is running, how far, and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class TaskStatus(QWidget):
    """Shows the most recently started task; several may run (a load, then a batch)."""

    cancel_requested = Signal(str)  # the task's key

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this work (Esc)")
        self.cancel_button.clicked.connect(self.cancel_current)
        # Showing the bar and button must not change the status bar's height: that would
        # resize the whole window's contents (and re-lay out every plot) twice per task.
        for widget in (self.bar, self.cancel_button):
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        # key -> (text, done, total, cancellable), most recently started last
        self._tasks: dict[str, tuple[str, int, int, bool]] = {}
        self._idle_text = ""  # the outcome of the last task that said something
        self._refresh()

    def busy(
        self, key: str, text: str, done: int = 0, total: int = 0, cancellable: bool = True
    ) -> None:
        """Start or update a task; total 0 means "we don't know how long" (a busy bar)."""
        self._tasks.pop(key, None)  # most recent last
        self._tasks[key] = (text, done, total, cancellable)
        self._refresh()

    def done(self, key: str, text: str = "") -> None:
        """End a task; text (if any) says how it went and stays until the next news."""
        self._tasks.pop(key, None)
        if text:
            self._idle_text = text
        self._refresh()

    def is_busy(self, key: str | None = None) -> bool:
        return bool(self._tasks) if key is None else key in self._tasks

    def current(self) -> str | None:
        return next(reversed(self._tasks), None)

    def text(self) -> str:
        return self.message.text()

    def cancel_current(self) -> None:
        key = self.current()
        if key is not None and self._tasks[key][3]:
            self.cancel_requested.emit(key)

    def _refresh(self) -> None:
        key = self.current()
        if key is None:
            self.message.setText(self._idle_text)
            self.bar.hide()
            self.cancel_button.hide()
            return
        text, done, total, cancellable = self._tasks[key]
        self.message.setText(text)
        self.bar.setRange(0, max(total, 0))
        if total:
            self.bar.setValue(min(done, total))
            self.bar.setFormat(f"{done * 100 // total}%" if total > 1000 else f"{done}/{total}")
        self.bar.show()
        self.cancel_button.setVisible(cancellable)
