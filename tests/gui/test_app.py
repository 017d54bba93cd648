"""Start-up without TensorFlow, uncaught errors as dialogs, and Help → About."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from gui import about, error_dialog

ROOT = Path(__file__).resolve().parents[2]


def test_the_window_shows_before_tensorflow_is_imported(tmp_path):
    code = """
import json, sys, time
start = time.perf_counter()
from gui.app import create_application
app = create_application([])
from gui.main_window import MainWindow
window = MainWindow()
window.show()
app.processEvents()
shown = time.perf_counter() - start
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))
print(json.dumps({"visible": window.isVisible(), "heavy": heavy[:3], "seconds": shown}))
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


def test_closing_while_tensorflow_loads_exits_promptly(tmp_path):
    """The real entry point: close the window 1 s after launch, mid TensorFlow import."""
    code = """
import time
start = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui import app
app.create_application([])
QTimer.singleShot(1000, QApplication.closeAllWindows)
status = app.main([])
print("exited", status, round(time.perf_counter() - start, 2), flush=True)
"""
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "PATH": "/usr/bin:/bin",
        "CONVLENS_CONFIG_DIR": str(tmp_path / "config"),
        "CONVLENS_CACHE_DIR": str(tmp_path / "cache"),
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert elapsed < 10  # 1 s of window, at most 2 s waiting for the worker, start-up
    assert (tmp_path / "config" / "settings.ini").is_file()  # geometry saved on the way out
