"""A screenshot of the window holding a folder of 10,000 photos, for the README.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_many_photos_screenshot.py

Generates 10,000 small JPEGs (crops of scikit-image's photos, bench/extract_scale.py),
drops the folder on the real window with the built-in model, waits until a few hundred are
classified and the visible rows have their thumbnails, and writes
docs/screenshots/many_photos.png. No network.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CONVLENS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots" / "many_photos.png"
COUNT = 10_000
CLASSIFIED = 300


def main() -> int:
    from PySide6.QtCore import QEventLoop, QTimer

    from bench.extract_scale import make_photos
    from gui.app.application import create_application
    from gui.main.main_window import MainWindow
    from gui.widgets.image_list import DONE

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "photos"
    make_photos(folder, COUNT)
    app = create_application([])
    window = MainWindow()
    window.resize(1600, 960)
    window.show()
    window.start()

    def wait_for(condition) -> None:
        loop = QEventLoop()
        timer = QTimer(interval=50)
        timer.timeout.connect(lambda: condition() and loop.quit())
        timer.start()
        loop.exec()
        timer.stop()

    wait_for(lambda: window.session.model is not None)
    window.add_images([str(folder)])
    images = window.session.images
    wait_for(lambda: len(images.paths([DONE])) >= CLASSIFIED)
    view = window.image_pane.list
    # The rows on screen (how many depends on the window's size) get their thumbnails.
    shown = [
        path
        for path in images.paths()[:50]
        if view.visualRect(images.index(images.row_of(path))).intersects(view.viewport().rect())
    ]
    wait_for(lambda: all(images.thumbnail(path) for path in shown))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(OUT))
    print(f"wrote {OUT} ({len(images.paths())} photos listed, view rows {view.model().rowCount()})")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
