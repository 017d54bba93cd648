"""The activation panel's heading: the layer's name and shape, and the grid's controls
(sort order, channel labels, pages)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

SORT_MODES = ("Channel order", "Mean activation ↓")


class GridHeader(QWidget):
    """Two rows: the title (in full) with the page label, above the grid's controls."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        self.sort_combo = QComboBox(toolTip="Order of the channels in the grid")
        self.sort_combo.addItems(SORT_MODES)
        self.labels_check = QCheckBox("Labels", checked=True, toolTip="Channel numbers on tiles")
        self.prev_button = QToolButton(text="◀", toolTip="Previous page (channels)")
        self.next_button = QToolButton(text="▶", toolTip="Next page (channels)")
        self.page_spin = QSpinBox(prefix="page ", minimum=1, toolTip="Page of channels")
        self.page_label = QLabel(alignment=Qt.AlignmentFlag.AlignRight)
        self.prev_button.clicked.connect(self.page_spin.stepDown)
        self.next_button.clicked.connect(self.page_spin.stepUp)
        self.grid_controls = QWidget()
        row = QHBoxLayout(self.grid_controls)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (QLabel("Sort:"), self.sort_combo, self.labels_check):
            row.addWidget(widget)
        row.addStretch(1)
        for widget in (self.prev_button, self.page_spin, self.next_button):
            row.addWidget(widget)
        # Hidden, the grid's controls keep their room: showing them must not resize the grid.
        for widget in (self.grid_controls, self.page_label):
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.page_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(heading)
        layout.addWidget(self.grid_controls)
