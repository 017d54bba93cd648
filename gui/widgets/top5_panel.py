"""The top-5 predictions of the selected image, as labelled probability bars.

Clicking a bar asks for that class to be explained (``class_clicked``); the class being
explained is outlined.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from core.models.labels import Label
from gui.widgets.image_list import display_name

ROWS = 5
_BAR_COLOR = QColor("#4c78a8")
_MUTED_BAR_COLOR = QColor("#9a9a9a")
RANDOM_WARNING = "⚠ Random weights — not predictions: these labels mean nothing."


def top5_warning(model) -> str:
    """The warning over a model's top-5 (a core.ops.load.ModelInfo, or None)."""
    return RANDOM_WARNING if model is not None and model.random_weights else ""


class ProbabilityBar(QWidget):
    """A bar as wide as the probability, the label written over it and the percentage right."""

    clicked = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.label = ""
        self.probability = 0.0
        self.highlighted = False  # outlined: the class the heatmap shows
        self.muted = False  # grey: the probabilities mean nothing (random weights)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_highlighted(self, highlighted: bool) -> None:
        if highlighted != self.highlighted:
            self.highlighted = highlighted
            self.update()

    def mousePressEvent(self, event) -> None:
        if self.label and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
            event.accept()
            return
        super().mousePressEvent(event)

    def sizeHint(self) -> QSize:
        return QSize(240, self.fontMetrics().height() + 10)

    def set_value(self, label: str, probability: float) -> None:
        self.label, self.probability = label, probability
        tip = f"{label}: {probability:.2%}\nClick to see what made the model say it (Explain)"
        self.setToolTip(tip if label else "")
        cursor = Qt.CursorShape.PointingHandCursor if label else Qt.CursorShape.ArrowCursor
        self.setCursor(cursor)
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.label:
            return  # a model with fewer classes than rows: no empty tracks
        rect = QRectF(self.rect()).adjusted(0, 2, 0, -2)
        track = self.palette().color(QPalette.ColorRole.Midlight)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(rect, 3, 3)
        filled = QRectF(rect)
        filled.setWidth(max(2.0, rect.width() * min(1.0, self.probability)))
        fill = QColor(_MUTED_BAR_COLOR if self.muted else _BAR_COLOR)
        fill.setAlpha(110)
        painter.setBrush(fill)
        painter.drawRoundedRect(filled, 3, 3)
        if self.highlighted:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 2))
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 3, 3)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        text_rect = rect.adjusted(6, 0, -6, 0)
        percent = f"{self.probability:.1%}"
        percent_width = self.fontMetrics().horizontalAdvance("100.0%") + 8
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, percent
        )
        label = self.fontMetrics().elidedText(
            self.label, Qt.TextElideMode.ElideRight, int(text_rect.width() - percent_width)
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label
        )


class Top5Panel(QWidget):
    """Shows ranked labels for one image; copies them as text."""

    class_clicked = Signal(object)  # the Label of the bar the user clicked

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.title = QLabel("Top-5")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle = QLabel()
        self.subtitle.setTextFormat(Qt.TextFormat.PlainText)
        self.subtitle.setStyleSheet("color: palette(placeholder-text);")
        self.copy_button = QToolButton(text="Copy", autoRaise=True)
        self.copy_button.setToolTip("Copy the predictions as text (Ctrl+Shift+C)")
        self.copy_button.clicked.connect(self.copy)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.subtitle, 1)
        header.addWidget(self.copy_button)
        self.bars = [ProbabilityBar() for _ in range(ROWS)]
        for row, bar in enumerate(self.bars):
            bar.clicked.connect(lambda row=row: self._on_bar_clicked(row))
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b00020; font-weight: bold;")
        self.warning.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.warning)
        for bar in self.bars:
            layout.addWidget(bar)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self._labels: tuple[Label, ...] = ()
        self._image = ""
        self._model = ""
        self._warning = ""
        self._highlighted: int | None = None  # the output index outlined
        self.show_message("Select an image to see what the model thinks it is.")

    def set_predictions(
        self, image_name: str, model_name: str, labels: Sequence[Label], warning: str = ""
    ) -> None:
        """warning: shown above the bars, which turn grey (e.g. RANDOM_WARNING)."""
        self._labels, self._image, self._model = tuple(labels), image_name, model_name
        self._warning = warning
        self.title.setText(image_name)
        self.subtitle.setText(f"  {model_name}")
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        for bar, label in zip(self.bars, list(self._labels) + [None] * ROWS, strict=False):
            bar.muted = bool(warning)
            bar.set_value(display_name(label) if label else "", label.probability if label else 0.0)
        self._show_highlight()
        self.message.setText("")
        self.copy_button.setEnabled(bool(self._labels))

    def show_message(self, text: str, image_name: str = "") -> None:
        self._labels = ()
        self.warning.hide()
        self.title.setText(image_name or "Top-5")
        self.subtitle.setText("")
        for bar in self.bars:
            bar.set_value("", 0.0)
        self.message.setText(text)
        self.copy_button.setEnabled(False)

    def labels(self) -> tuple[Label, ...]:
        return self._labels

    def set_highlighted(self, class_index: int | None) -> None:
        """Outline the bar of this output index (the class explained), or none."""
        self._highlighted = class_index
        self._show_highlight()

    def _show_highlight(self) -> None:
        for bar, label in zip(self.bars, list(self._labels) + [None] * ROWS, strict=False):
            bar.set_highlighted(label is not None and label.index == self._highlighted)

    def _on_bar_clicked(self, row: int) -> None:
        if row < len(self._labels):
            self.class_clicked.emit(self._labels[row])

    def text(self) -> str:
        """The predictions as plain text, one per line."""
        if not self._labels:
            return ""
        lines = [f"{self._image} ({self._model})"]
        if self._warning:
            lines.append(self._warning)
        lines += [
            f"{rank}. {display_name(label)}\t{label.probability:.2%}"
            for rank, label in enumerate(self._labels, 1)
        ]
        return "\n".join(lines)

    def copy(self) -> None:
        if self._labels:
            QGuiApplication.clipboard().setText(self.text())
