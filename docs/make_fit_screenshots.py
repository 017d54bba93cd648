"""Screenshots for the README's "Phone photos, fitting and input size" section.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_fit_screenshots.py

Writes docs/screenshots/fit_options.png: the main window on an iPhone HEIC photo with
"Squash whole photos" on and "What the network sees" shown, the Model menu open (a menu is
a window of its own: its picture is painted where it opened, over the window's), and
training_split_folder.png: the training window's settings on a dataset folder holding
train/ and val/. Uses the built-in model and scikit-image's photos; no network.
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
sys.path.insert(0, str(REPO / "docs"))
OUT = REPO / "docs" / "screenshots"

from make_screenshots import grab, settle  # noqa: E402


def phone_photos(folder: Path) -> list[Path]:
    import pillow_heif
    import skimage.data
    from PIL import Image

    pillow_heif.register_heif_opener()
    heic, avif = folder / "IMG_0001.HEIC", folder / "IMG_0002.avif"
    Image.fromarray(skimage.data.chelsea()).save(heic, quality=90)
    Image.fromarray(skimage.data.coffee()).save(avif, quality=90)
    return [heic, avif]


def main() -> int:
    from gui.app.application import create_application

    app = create_application([])
    from PySide6.QtCore import QPoint, QTimer
    from PySide6.QtGui import QPainter

    from gui.app.settings import Settings
    from gui.main.main_window import MainWindow
    from tests.training_data import make_texture_dataset

    Settings().resize_mode = "squash"
    work = Path(tempfile.mkdtemp(prefix="convlens-shots-photos-"))
    photos = phone_photos(work)
    window = MainWindow()
    window.setGeometry(0, 0, 1500, 900)
    window.show()
    window.start()
    window.add_images([str(p) for p in photos])
    settle(app, window)
    window.image_pane.select_path(str(photos[0]))
    window.layer_tree.select_layer("stem_activation")
    window.image_pane.network_toggle.setChecked(True)
    settle(app, window)
    while "network input" not in window.image_pane.caption.text():  # decoded off the GUI thread
        settle(app, window)
    menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&Model")
    bar = window.menuBar()
    corner = bar.actionGeometry(menu.menuAction()).bottomLeft()
    menu.popup(bar.mapToGlobal(corner + QPoint(0, 1)))
    menu.setActiveAction(window.actions["squash"])
    settle(app, window)
    OUT.mkdir(parents=True, exist_ok=True)
    picture = window.grab()
    painter = QPainter(picture)
    painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    shot = OUT / "fit_options.png"
    if not picture.save(str(shot)):
        raise OSError(f"Could not write {shot}")
    print(f"wrote {shot.relative_to(REPO)}")
    menu.hide()

    data = make_texture_dataset(work / "textures", 12, 4)
    training = window.show_training()
    training.resize(1280, 860)
    training.set_dataset(str(data.train_dir.parent))
    for _ in range(200):
        settle(app, window)
        if not training.is_listing() and not training.controller.has_jobs():
            break
    settle(app, window)
    grab(training.settings, "training_split_folder.png")

    training.close()
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
