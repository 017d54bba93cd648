"""Screenshots of the window at common screen sizes, and of a model with random weights.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_layout_screenshots.py

Writes docs/screenshots/layout_1366x768.png, layout_1920x1080.png (photos, a conv layer's
grid and an enlarged channel) and random_weights.png (MobileNet without its weights, as
after "Use random weights": badges in the selector, title and top-5). No network.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CONVLENS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"


def main() -> None:
    import skimage.data
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from core.ops.load import LoadModelRequest
    from gui.main.main_window import MainWindow

    folder = Path(tempfile.mkdtemp())
    for name, image in (
        ("chelsea.jpg", skimage.data.chelsea()),
        ("coffee.jpg", skimage.data.coffee()),
        ("astronaut.jpg", skimage.data.astronaut()),
    ):
        Image.fromarray(image).save(folder / name)

    def spin(condition, seconds=120.0) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not condition():
            app.processEvents()
            time.sleep(0.02)

    def settle(window) -> None:
        window.session.worker.wait_until_idle(120)
        spin(lambda: False, 0.5)

    for width, height, random in ((1366, 768, False), (1920, 1080, False), (1366, 768, True)):
        os.environ["CONVLENS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-")
        window = MainWindow()
        window.resize(width, height)
        window.show()
        window.start()
        spin(lambda w=window: w.session.model is not None)
        window.add_images([str(p) for p in sorted(folder.iterdir())])
        settle(window)
        window.image_pane.select_path(str(folder / "chelsea.jpg"))
        window.layer_tree.select_layer("block2a_expand_activation")
        settle(window)
        window.activation_view.select_channel(5)
        spin(lambda: False, 0.5)
        if not random:
            window.grab().save(str(OUT / f"layout_{width}x{height}.png"))
            print(f"wrote docs/screenshots/layout_{width}x{height}.png")
        else:
            window.load_model(LoadModelRequest("MobileNet", weights="random"))
            spin(lambda w=window: w.session.model.name == "MobileNet")
            settle(window)
            window.image_pane.select_path(str(folder / "coffee.jpg"))
            settle(window)
            window.grab().save(str(OUT / "random_weights.png"))
            print("wrote docs/screenshots/random_weights.png")
        window.close()


if __name__ == "__main__":
    main()
