"""Compare two models on the same image: each one's heatmap and top-5, side by side.

The left column is the main window's model (its Explain overlay and top-5); the right one
is the model chosen here. Clicking a label in either top-5 explains that class.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from gui.widgets.image_pane import PictureView
from gui.widgets.model_selector import ModelSelector
from gui.widgets.top5_panel import Top5Panel


class ModelColumn(QWidget):
    """One model: its name, the heatmap over the photo and its top-5."""

    def __init__(self, heading: str, parent=None) -> None:
        super().__init__(parent)
        self.heading = QLabel(heading)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.picture = PictureView()
        self.picture.set_image(None, text="")
        self.picture.setMinimumSize(240, 200)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.top5 = Top5Panel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)
        layout.addWidget(self.top5)

    def show_overlay(self, image: QImage | None, caption: str, message: str = "") -> None:
        self.picture.set_image(image, text=message)
        self.caption.setText(caption)


class CompareWindow(QWidget):
    """Widgets only: gui.main.explaining wires them to the controllers."""

    model_chosen = Signal(str)
    open_file_requested = Signal()
    closed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Compare models — ConvLens")
        self.selector = ModelSelector()
        self.selector.setToolTip("The model to compare with the main window's")
        self.selector.model_chosen.connect(self.model_chosen)
        self.selector.open_file_requested.connect(self.open_file_requested)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setStyleSheet("color: palette(placeholder-text);")
        header = QHBoxLayout()
        header.addWidget(QLabel("Compare with"))
        header.addWidget(self.selector)
        header.addWidget(self.status, 1)
        self.main = ModelColumn("This window's model")
        self.second = ModelColumn("Choose a model above")
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.addWidget(self.main)
        columns.addWidget(self.second)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(columns, 1)
        self.resize(900, 640)

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def closeEvent(self, event) -> None:
        self.closed.emit()
        super().closeEvent(event)
