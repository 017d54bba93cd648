"""The Explain controls under the picture: on/off, method, target layer, opacity, export and
compare, with a one-line account of what the heatmap shows."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QWidget,
)

from core.explain import DEFAULT_METHOD, METHODS
from core.explain.overlay import lookup_table

DEFAULT_LAYER = None  # the layer combo's first entry: the model's last conv layer


def legend_pixmap(width: int = 64, height: int = 10) -> QPixmap:
    """The heatmap's colours from low (left) to high (right)."""
    row = lookup_table(width)[None].repeat(height, axis=0)
    row = np.ascontiguousarray(row)
    image = QImage(row.data, width, height, row.strides[0], QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


class ExplainBar(QWidget):
    """Widgets only: the ExplainController decides what they mean."""

    enabled_changed = Signal(bool)
    method_changed = Signal(str)  # a core.explain method name
    layer_changed = Signal(object)  # a layer path, or None for the model's default
    opacity_changed = Signal(float)  # 0–1
    export_requested = Signal()
    compare_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.toggle = QCheckBox("Explain")
        self.toggle.setToolTip(
            "Show what made the model say the class: a heatmap over the picture (X).\n"
            "Click a label of the top-5 to explain that class."
        )
        self.toggle.toggled.connect(self.enabled_changed)
        self.method = QComboBox()
        for name, method in METHODS.items():
            self.method.addItem(method.title, name)
            self.method.setItemData(
                self.method.count() - 1, method.summary, Qt.ItemDataRole.ToolTipRole
            )
        self.method.setToolTip("How the heatmap is computed")
        self.method.currentIndexChanged.connect(self._on_method_index_changed)
        self.layer = QComboBox()
        self.layer.setToolTip(
            "The convolutional layer Grad-CAM looks at (right-click a layer in the tree: "
            "Explain at this layer)"
        )
        self.layer.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.layer.setMinimumContentsLength(8)
        self.layer.currentIndexChanged.connect(self._on_layer_index_changed)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the heatmap")
        self.opacity.valueChanged.connect(lambda value: self.opacity_changed.emit(value / 100))
        legend = QLabel()
        legend.setPixmap(legend_pixmap())
        legend.setToolTip("Heatmap colours: dark = little evidence, bright = much")
        self.export_button = QToolButton(text="Save PNG…", autoRaise=True)
        self.export_button.setToolTip("Save the heatmap over the photo as a PNG (Ctrl+Shift+X)")
        self.export_button.clicked.connect(self.export_requested)
        self.compare_button = QToolButton(text="Compare…", autoRaise=True)
        self.compare_button.setToolTip(
            "Another model's top-5 and heatmap beside this one, for the same image (Ctrl+Alt+C)"
        )
        self.compare_button.clicked.connect(self.compare_requested)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setStyleSheet("color: palette(placeholder-text);")

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 0)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.toggle, 0, 0)
        grid.addWidget(self.method, 0, 1, 1, 3)
        grid.addWidget(QLabel("Layer"), 1, 0)
        grid.addWidget(self.layer, 1, 1, 1, 3)
        grid.addWidget(QLabel("Opacity"), 2, 0)
        grid.addWidget(self.opacity, 2, 1)
        grid.addWidget(legend, 2, 2)
        grid.addWidget(self.export_button, 3, 0, 1, 2, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.compare_button, 3, 2, 1, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.status, 4, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        self.set_layers([], None)
        self.set_method(DEFAULT_METHOD)

    # -- what the controller shows ---------------------------------------------------------

    def set_enabled(self, enabled: bool) -> None:
        """Tick or untick the toggle without emitting enabled_changed."""
        self.toggle.blockSignals(True)
        self.toggle.setChecked(enabled)
        self.toggle.blockSignals(False)

    def set_method(self, name: str) -> None:
        index = self.method.findData(name)
        if index >= 0:
            self.method.blockSignals(True)
            self.method.setCurrentIndex(index)
            self.method.blockSignals(False)
        self._refresh_layer_state()

    def set_opacity(self, opacity: float) -> None:
        self.opacity.blockSignals(True)
        self.opacity.setValue(round(opacity * 100))
        self.opacity.blockSignals(False)

    def set_layers(self, layers: list[str], default: str | None) -> None:
        """The layers a CAM can be taken at; the first entry stands for default."""
        self.layer.blockSignals(True)
        self.layer.clear()
        text = f"Last conv layer ({default.rsplit('/', 1)[-1]})" if default else "Last conv layer"
        self.layer.addItem(text, DEFAULT_LAYER)
        for path in layers:
            self.layer.addItem(path, path)
            self.layer.setItemData(self.layer.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        self.layer.blockSignals(False)
        self._refresh_layer_state()

    def set_layer(self, path: str | None) -> None:
        """Show path as the chosen layer without emitting layer_changed."""
        index = self.layer.findData(path) if path else 0
        self.layer.blockSignals(True)
        self.layer.setCurrentIndex(max(index, 0))
        self.layer.blockSignals(False)

    def show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setToolTip(text)

    # -- internals -------------------------------------------------------------------------

    def current_method(self) -> str:
        return self.method.currentData()

    def _refresh_layer_state(self) -> None:
        method = METHODS.get(self.current_method() or "")
        self.layer.setEnabled(bool(method and method.needs_layer))

    def _on_method_index_changed(self, _index: int) -> None:
        self._refresh_layer_state()
        self.method_changed.emit(self.current_method())

    def _on_layer_index_changed(self, _index: int) -> None:
        self.layer_changed.emit(self.layer.currentData())
