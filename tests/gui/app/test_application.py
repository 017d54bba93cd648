"""Start-up without TensorFlow, uncaught errors as dialogs, and Help → About."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from gui.main import about
from gui.widgets import error_dialog

ROOT = Path(__file__).resolve().parents[3]


def test_the_window_shows_before_tensorflow_is_imported(tmp_path):
    code = """
import json, sys
from gui.app.application import create_application
app = create_application([])
from gui.main.main_window import MainWindow
window = MainWindow()
window.show()
app.processEvents()
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))
print(json.dumps({"visible": window.isVisible(), "heavy": heavy[:3]}))
window.close()
"""
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "PATH": "/usr/bin:/bin",
        "CONVLENS_CONFIG_DIR": str(tmp_path / "config"),
        "CONVLENS_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["visible"] and report["heavy"] == []


def test_uncaught_errors_become_a_message_with_details(qtbot, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    error_dialog.install_excepthook()
    try:
        raise ValueError("boom")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(
        lambda: any(
            isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()
        )
    )
    box = next(
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    )
    assert "ValueError: boom" in box.text()
    assert "Traceback" in box.detailedText()
    box.close()


def test_about_lists_the_versions_fetched_by_the_worker(window):
    import keras
    import tensorflow as tf

    html = about.about_html(window.session.versions)
    assert f"<td>Keras</td><td>&nbsp;&nbsp;{keras.__version__}" in html
    assert f"<td>TensorFlow</td><td>&nbsp;&nbsp;{tf.__version__}" in html
    assert "PySide6" in html and "Qt" in html
    assert "loading…" in about.about_html({})


def test_keyboard_shortcuts_are_listed_and_bound(window):
    listed = {keys for keys, _ in about.SHORTCUTS}
    bound = {a.shortcut().toString() for a in window.actions.values() if not a.shortcut().isEmpty()}
    for keys in ("Ctrl+O", "Ctrl+V", "Ctrl+E", "Ctrl+Shift+C", "Ctrl+Shift+O", "F5", "Esc"):
        assert keys in listed and keys in bound
    assert bound <= listed  # every bound shortcut is listed in Help → Keyboard shortcuts


def test_closing_while_tensorflow_loads_exits(tmp_path):
    """The real entry point: close the window as soon as it says TensorFlow is loading."""
    code = """
from gui.app import application as app
from gui.main import main_window

class Window(main_window.MainWindow):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session.task_busy.connect(self._close_while_tensorflow_loads)

    def _close_while_tensorflow_loads(self, key, text, done, total):
        if text == "Loading TensorFlow…" and self.isVisible():
            print("closing:", text, flush=True)
            self.close()

main_window.MainWindow = Window  # app.main imports it when it starts
status = app.main([])
print("exited", status, flush=True)
"""
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "PATH": "/usr/bin:/bin",
        "CONVLENS_CONFIG_DIR": str(tmp_path / "config"),
        "CONVLENS_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120
    )
    # The process ended by itself, with status 0: through main's return when the worker
    # stopped within the close's wait, else at once (os._exit) if the import held it.
    assert result.returncode == 0, result.stderr[-2000:]
    assert "closing: Loading TensorFlow…" in result.stdout  # closed mid-import
    assert (tmp_path / "config" / "settings.ini").is_file()  # geometry saved on the way out
