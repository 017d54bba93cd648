"""Saving a picture as PNG from the window: ask for the file, write it, say how it went."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from gui.widgets.error_dialog import show_error, user_message


def save_png(
    window, title: str, write: Callable[[str], object], failure: str, suggested: str = ""
) -> str | None:
    """Ask for a PNG file (in the last export folder), write(path) it, and report in the
    status bar; an error dialog (a full disk, a read-only folder…) if writing fails.

    window is a MainWindow (its settings and status bar). Returns the path, or None.
    """
    folder = window.settings.last_export_dir
    start = str(Path(folder) / suggested) if suggested else folder
    path, _ = QFileDialog.getSaveFileName(window, title, start, "PNG image (*.png)")
    if not path:
        return None
    path = path if path.lower().endswith(".png") else path + ".png"
    try:
        write(path)
    except Exception as error:  # shown to the user; the file is written atomically
        show_error(window, failure, user_message(error))
        return None
    window.settings.last_export_dir = str(Path(path).parent)
    window.statusBar().showMessage(f"Saved {path}", 5000)
    return path
