"""Screenshots of Explain for the README, made offscreen with the real window and photos.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_explain_screenshots.py

Writes docs/screenshots/explain.png (the main window: Grad-CAM over the cat, its class
outlined in the top-5), explain_compare.png (the compare window: the built-in model beside
a transfer-learning classifier whose base is nested) and explain_classes.png (one picture
of a cat and a coffee cup, explained for "tabby" and for "espresso", as `convlens explain`
writes them). Uses the built-in model and scikit-image's photos; no network.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CONVLENS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS))

from make_screenshots import grab, settle, write_photos, write_transfer_model  # noqa: E402

SIZE = (1600, 960)
QUADRANT = 300


def write_composite(folder: Path) -> Path:
    """Cat top-left, coffee bottom-right, grey noise elsewhere."""
    import numpy as np
    import skimage.data
    from PIL import Image

    canvas = np.random.default_rng(0).integers(90, 170, (2 * QUADRANT, 2 * QUADRANT, 3))
    canvas = canvas.astype(np.uint8)
    for photo, (row, col) in ((skimage.data.chelsea(), (0, 0)), (skimage.data.coffee(), (1, 1))):
        tile = Image.fromarray(photo).resize((QUADRANT, QUADRANT))
        canvas[row * QUADRANT : (row + 1) * QUADRANT, col * QUADRANT : (col + 1) * QUADRANT] = tile
    path = folder / "cat_and_coffee.png"
    Image.fromarray(canvas).save(path)
    return path


def explain_classes(path: Path, labels: list[str]) -> Path:
    """The composite explained for each label, side by side with a caption."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from core.engine.engine import Engine
    from core.models.loading import load_model
    from core.models.zoo import BUILTIN_NAME
    from core.ops import OpContext, run_request
    from core.ops.explain import ExplainRequest

    engine = Engine(load_model(BUILTIN_NAME))
    tiles = []
    for label in labels:
        index = engine.loaded.class_names.index(label)
        result = run_request(engine, ExplainRequest(str(path), index), OpContext())
        tile = Image.fromarray(result.overlay)
        strip = Image.new("RGB", (tile.width, 34), (245, 245, 245))
        text = f"Grad-CAM for “{label.replace('_', ' ')}” ({result.label.probability:.1%})"
        font = ImageFont.load_default(size=18)
        ImageDraw.Draw(strip).text((10, 7), text, fill=(20, 20, 20), font=font)
        column = Image.new("RGB", (tile.width, tile.height + strip.height))
        column.paste(strip, (0, 0))
        column.paste(tile, (0, strip.height))
        tiles.append(np.asarray(column))
    gap = np.full((tiles[0].shape[0], 8, 3), 255, np.uint8)
    out = DOCS / "screenshots" / "explain_classes.png"
    Image.fromarray(np.concatenate([tiles[0], gap, tiles[1]], axis=1)).save(out)
    print(f"wrote docs/screenshots/{out.name}")
    return out


def main() -> int:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest

    from gui.app.application import create_application

    app = create_application([])
    from gui.main.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="convlens-shots-photos-"))
    photos = write_photos(work)
    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    window.start()
    window.add_images([str(p) for p in photos])
    settle(app, window)
    window.image_pane.select_path(str(photos[0]))
    settle(app, window)
    # As a user would drag them: room for the picture, the layer pane narrower.
    window.splitters["main"].setSizes([540, 640, SIZE[0] - 1180])
    window.image_pane.splitter.setSizes([150, SIZE[1] - 150])
    QTest.keyClick(window, Qt.Key.Key_X)
    window.layer_tree.select_layer("top_activation")  # the layer Grad-CAM weighs
    settle(app, window)
    grab(window, "explain.png")

    explaining = window.explaining
    view = explaining.show_compare()
    view.resize(1100, 760)
    view.model_chosen.emit(str(write_transfer_model(work, photos)))
    settle(app, window)
    grab(view, "explain_compare.png", title=view.windowTitle())
    view.close()
    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()

    explain_classes(write_composite(work), ["tabby", "espresso"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
