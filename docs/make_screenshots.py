"""Screenshots of the real window for the README, made offscreen with real photos.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py

Writes docs/screenshots/main_window.png (top-5 and a conv layer's activation grid),
layer_tree_nested.png (a transfer model whose EfficientNet-Lite0 base is one nested layer)
and export_dialog.png. Uses the built-in model and scikit-image's photos; no network.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# A first start: no remembered model, window layout or recent files of the person running it.
os.environ["CONVLENS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"
SIZE = (1600, 960)
CONV_LAYER = "stem_activation"  # 112×112 maps of edges and colours: one page of 32
NESTED_LAYER = "block2a_expand_activation"
CHANNEL = 5


def write_photos(folder: Path) -> list[Path]:
    import numpy as np
    import skimage.data
    from PIL import Image

    photos = {
        "chelsea.jpg": skimage.data.chelsea(),
        "coffee.jpg": skimage.data.coffee(),
        "astronaut.jpg": skimage.data.astronaut(),
        "rocket.jpg": skimage.data.rocket(),
        "camera.jpg": np.stack([skimage.data.camera()] * 3, axis=-1),
    }
    paths = []
    for name, pixels in photos.items():
        Image.fromarray(pixels).save(folder / name, quality=92)
        paths.append(folder / name)
    # One damaged file, to show how a failure looks in the list.
    (folder / "holiday_scan.jpg").write_bytes(paths[0].read_bytes()[:2000])
    return paths + [folder / "holiday_scan.jpg"]


def write_transfer_model(folder: Path, photos: list[Path]) -> Path:
    """A transfer-learning classifier as users build them: the pretrained base nested.

    Its head is fitted on random crops of four of the photos (cat, coffee, person, rocket),
    so the window shows sensible labels; it is a toy, not an evaluated model.
    """
    import keras
    import numpy as np

    from core.io.images import fit_to_input, load_image
    from core.models.loading import load_model
    from core.models.metadata import write_metadata
    from core.models.preprocessing import preprocess

    classes = ["cat", "coffee", "person", "rocket"]
    base = load_model("EfficientNet-Lite0", include_top=False, pooling="avg").model
    base.trainable = False
    rng = np.random.default_rng(0)
    crops, labels = [], []
    for label, photo in enumerate(photos[:4]):
        image = load_image(photo)
        h, w = image.shape[:2]
        for _ in range(12):
            ch, cw = int(h * rng.uniform(0.6, 1)), int(w * rng.uniform(0.6, 1))
            y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
            crops.append(fit_to_input(image[y : y + ch, x : x + cw], (224, 224)))
            labels.append(label)
    features = base.predict(preprocess(np.stack(crops), "lite"), verbose=0)
    head = keras.layers.Dense(len(classes), activation="softmax", name="classes")
    head_model = keras.Sequential([keras.Input(features.shape[1:]), head])
    head_model.compile("adam", "sparse_categorical_crossentropy")
    head_model.fit(features, np.array(labels), epochs=60, verbose=0)

    inputs = keras.Input((224, 224, 3), name="image")
    x = base(inputs, training=False)
    x = keras.layers.Dropout(0.2, name="dropout")(x)
    outputs = head(x)
    path = folder / "my_photos_classifier.keras"
    keras.Model(inputs, outputs, name="my_photos_classifier").save(path)
    write_metadata(path, {"class_names": classes, "preprocess": "lite"})
    return path


def settle(app, window, timeout: float = 300) -> None:
    window.session.worker.wait_until_idle(timeout)
    for _ in range(5):
        app.processEvents()


def grab(widget, name: str, title: str | None = None) -> Path:
    """Save a widget's picture; a dialog gets a plain title strip (offscreen has no frames)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    image = widget.grab()
    if title:
        image = with_title(image, title)
    if not image.save(str(path)):
        raise OSError(f"Could not write {path}")
    print(f"wrote {path.relative_to(REPO)}")
    return path


def with_title(pixmap, title: str):
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QPainter, QPixmap

    strip = 30
    framed = QPixmap(pixmap.width() + 2, pixmap.height() + strip + 1)
    framed.fill(QColor("#9aa0a6"))
    painter = QPainter(framed)
    painter.fillRect(QRect(1, 1, pixmap.width(), strip - 1), QColor("#e8eaed"))
    font = painter.font()
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(QRect(12, 1, pixmap.width(), strip - 1), Qt.AlignmentFlag.AlignVCenter, title)
    painter.drawPixmap(1, strip, pixmap)
    painter.end()
    return framed


def main() -> int:
    from gui.app.application import create_application

    app = create_application([])
    from PySide6.QtCore import QTimer

    from core.ops.load import LoadModelRequest
    from gui.main.layer_paths import all_layer_paths
    from gui.main.main_window import MainWindow
    from gui.widgets.export_dialog import ExportDialog

    work = Path(tempfile.mkdtemp(prefix="convlens-shots-photos-"))
    photos = write_photos(work)

    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    window.start()
    window.add_images([str(p) for p in photos])
    settle(app, window)
    window.image_pane.select_path(str(photos[0]))
    window.layer_tree.select_layer(CONV_LAYER)
    settle(app, window)
    window.activation_view.select_channel(CHANNEL)
    settle(app, window)
    grab(window, "main_window.png")

    model = window.session.model
    export_dir = Path(tempfile.gettempdir()) / "convlens-features"
    export_dir.mkdir(exist_ok=True)
    dialog = ExportDialog(
        window,
        layers=all_layer_paths(model.layers),
        default_layer=model.default_feature_layer,
        image_count=len(window.session.images.paths()),
        has_selection=True,
        start_dir=str(export_dir),
    )
    dialog.path_edit.setText("cats_and_coffee.npz")
    dialog.show()
    settle(app, window)
    grab(dialog, "export_dialog.png", title=dialog.windowTitle())
    dialog.close()

    window.load_model(LoadModelRequest(str(write_transfer_model(work, photos))))
    settle(app, window)
    nested = next(n for n in model_layers(window) if n.get("children"))
    window.layer_tree.select_layer(f"{nested['path']}/{NESTED_LAYER}")
    settle(app, window)
    grab(window, "layer_tree_nested.png")

    window.close()
    QTimer.singleShot(0, app.quit)
    app.exec()
    return 0


def model_layers(window) -> list[dict]:
    return window.session.model.layers


if __name__ == "__main__":
    sys.exit(main())
