"""The screenshot of the ONNX Runtime backend for the README, made offscreen with the real window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_runtime_screenshot.py

Writes docs/screenshots/runtime.png: the window classifying photos with the built-in model
on ONNX Runtime (the status bar says so), with the Model → Runtime menu open beside it.
The first start converts the model (cached in a temporary folder); the window is then
started again, as a user's second start is, and answers from the cache.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CONVLENS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-")
os.environ["CONVLENS_CACHE_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-cache-")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS))

from make_screenshots import OUT, settle, write_photos  # noqa: E402

SIZE = (1400, 860)


def main() -> int:
    import numpy as np
    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtGui import QPainter, QPixmap

    from core.engine.engine import Engine, make_backend
    from core.engine.onnx_cache import source_key
    from core.models.loading import load_model
    from core.models.zoo import BUILTIN_NAME
    from gui.app.application import create_application
    from gui.main.main_window import MainWindow

    app = create_application([])
    loaded = load_model(BUILTIN_NAME)  # the first start's conversion, done beforehand
    backend = make_backend(loaded, "auto", source_key=source_key(BUILTIN_NAME))
    Engine(loaded, backend).classify_arrays([np.zeros((224, 224, 3), np.uint8)])
    photos = write_photos(Path(tempfile.mkdtemp(prefix="convlens-shots-photos-")))

    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    window.start()
    window.add_images([str(p) for p in photos])
    settle(app, window)
    window.image_pane.select_path(str(photos[0]))
    settle(app, window)

    model_menu = next(a.menu() for a in window.menuBar().actions() if "Model" in a.text())
    runtime_menu = next(a.menu() for a in model_menu.actions() if a.menu())
    model_menu.popup(window.mapToGlobal(QPoint(0, 0)))
    runtime_menu.popup(window.mapToGlobal(QPoint(0, 0)))
    for _ in range(5):
        app.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    top = window.menuBar().height()
    x = window.menuBar().actionGeometry(model_menu.menuAction()).x()
    painter.drawPixmap(x, top, model_menu.grab())
    action = next(a for a in model_menu.actions() if a.menu())
    y = top + model_menu.actionGeometry(action).y()
    painter.drawPixmap(x + model_menu.width() - 4, y, runtime_menu.grab())
    painter.end()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "runtime.png"
    if not QPixmap(shot).save(str(path)):
        raise OSError(f"Could not write {path}")
    print(f"wrote {path}")
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
