"""Screenshots of the Feature map for the README, made offscreen with the real window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_feature_map_screenshots.py

Writes docs/screenshots/feature_map.png (the window with the Feature map dock: 61 photos
by t-SNE coloured by predicted label, a cat clicked and its similar images listed),
feature_map_zoomed.png (zoomed in: thumbnails drawn at their points), feature_map_layer.png
(the map at another layer, max-pooled, offering to add photos classified since) and feature_map_cli.png
(`convlens map … --out map.png --thumbnails 24`). The photos are scikit-image's, each in
ten variants (crops, flips, lighting), plus one exact copy; the built-in model; no network.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CONVLENS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS))

from make_screenshots import grab, settle  # noqa: E402

SIZE = (1600, 1000)


def write_variants(folder: Path) -> list[Path]:
    """Ten variants of six photos, in a folder per photo, and one exact copy."""
    import numpy as np
    import skimage.data
    from PIL import Image, ImageEnhance, ImageOps

    photos = {
        "cat": skimage.data.chelsea(),
        "coffee": skimage.data.coffee(),
        "astronaut": skimage.data.astronaut(),
        "rocket": skimage.data.rocket(),
        "camera": np.stack([skimage.data.camera()] * 3, axis=-1),
        "coins": np.stack([skimage.data.coins()] * 3, axis=-1),
    }
    rng = np.random.default_rng(0)
    paths = []
    for name, pixels in photos.items():
        (folder / name).mkdir(parents=True)
        base = Image.fromarray(pixels)
        for i in range(10):
            w, h = base.size
            scale = rng.uniform(0.6, 0.95)
            cw, ch = int(w * scale), int(h * scale)
            x, y = rng.integers(0, w - cw), rng.integers(0, h - ch)
            image = base.crop((x, y, x + cw, y + ch))
            if i % 2:
                image = ImageOps.mirror(image)
            image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.7, 1.3))
            path = folder / name / f"{name}_{i:02d}.jpg"
            image.save(path, quality=90)
            paths.append(path)
    copy = folder / "cat" / "cat_03_copy.jpg"
    shutil.copy(folder / "cat" / "cat_03.jpg", copy)
    paths.append(copy)
    return paths


def main() -> int:
    from PySide6.QtCore import Qt, QTimer

    from gui.app.application import create_application

    app = create_application([])
    from gui.main.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="convlens-shots-map-"))
    paths = write_variants(work / "photos")
    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    window.start()
    window.add_images([str(work / "photos")])
    settle(app, window)
    exploring = window.exploring
    exploring.panel.method.setCurrentIndex(2)  # t-SNE (this maps once the dock is shown)
    exploring.toggle()
    window.resizeDocks([exploring.dock], [560], Qt.Orientation.Vertical)
    settle(app, window)
    cat = str(paths[3])
    exploring.view.select_paths([cat])
    exploring.view.point_clicked.emit(cat)  # as a click on its point
    settle(app, window)
    exploring.find_duplicates()
    settle(app, window)
    exploring.panel.tabs.setCurrentIndex(1)
    settle(app, window)
    strip = exploring.panel.similar
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(
        strip.item(row).icon().isNull() for row in range(strip.count())
    ):
        app.processEvents()
        time.sleep(0.05)  # thumbnails decode on the loader's thread
    grab(window, "feature_map.png")

    view = exploring.view
    points = view.points[[view.paths.index(str(p)) for p in paths[:10]]]
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    view.box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.3)
    settle(app, window)
    deadline = time.monotonic() + 30
    while view.in_place_count() < 5 and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.05)  # thumbnails decode on the loader's thread
    grab(exploring.panel.view, "feature_map_zoomed.png")

    # Another layer, max-pooled; then photos added after the map: t-SNE offers the update.
    panel = exploring.panel
    panel.layer.setCurrentIndex(panel.layer.findData("top_conv"))
    panel.pooling.setCurrentIndex(panel.pooling.findData("max"))
    settle(app, window)
    later = work / "later"
    later.mkdir()
    for path in paths[20:23]:
        shutil.copy(path, later / f"new_{path.name}")
        with open(later / f"new_{path.name}", "ab") as out:
            out.write(b"\0")  # other bytes: not the copy the cache knows
    window.add_images([str(later)])
    settle(app, window)
    grab(panel, "feature_map_layer.png")
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()

    from core.cli.main import main as convlens

    out = DOCS / "screenshots" / "feature_map_cli.png"
    argv = ["map", str(work / "photos"), "--method", "tsne", "--thumbnails", "24"]
    convlens([*argv, "--out", str(out), "--overwrite"])
    print(f"wrote docs/screenshots/{out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
