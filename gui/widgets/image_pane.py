"""The left pane: the thumbnail list and the selected picture, with "What the network sees".

The picture may be replaced by an overlay of the same image (the Explain heatmap), which
lasts until it is cleared or another image is selected.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.widgets.image_list import PATH_ROLE, ImageListModel
from gui.widgets.image_list_view import ImageListView
from gui.widgets.image_loader import ImageLoader

EMPTY_HINT = "Drop photos or folders anywhere on the window\nor use File → Open images… (Ctrl+O)"


class PictureView(QWidget):
    """Paints one picture scaled to fit, keeping its aspect ratio; a hint when empty."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._scaled: QPixmap | None = None
        self._pixelated = False
        self._text = EMPTY_HINT
        self.setMinimumSize(160, 140)

    def set_image(self, image: QImage | None, pixelated: bool = False, text: str = "") -> None:
        """pixelated: show an upscaled small input as blocks, as the network gets it."""
        self._pixmap = QPixmap.fromImage(image) if image is not None else None
        self._scaled = None
        self._pixelated = pixelated
        self._text = text
        self.update()

    def has_image(self) -> bool:
        return self._pixmap is not None

    def resizeEvent(self, event) -> None:
        self._scaled = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self._pixmap is None:
            painter.setPen(self.palette().placeholderText().color())
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap  # never clipped
            painter.drawText(self.rect().adjusted(8, 8, -8, -8), flags, self._text)
            return
        if self._scaled is None or self._scaled.size() != self._fit_size():
            # Scale once per size, not on every repaint: a 1600 px photo takes milliseconds.
            mode = (
                Qt.TransformationMode.FastTransformation
                if self._pixelated
                else Qt.TransformationMode.SmoothTransformation
            )
            self._scaled = self._pixmap.scaled(
                self._fit_size(), Qt.AspectRatioMode.KeepAspectRatio, mode
            )
        x = (self.width() - self._scaled.width()) // 2
        y = (self.height() - self._scaled.height()) // 2
        painter.drawPixmap(x, y, self._scaled)

    def _fit_size(self) -> QSize:
        return self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)


class ImagePane(QWidget):
    """Thumbnails of the session's images above, the selected one large below."""

    current_changed = Signal(object)  # path or None
    remove_requested = Signal(list)  # paths
    clear_requested = Signal()
    open_requested = Signal()

    def __init__(self, model: ImageListModel, loader: ImageLoader, parent=None) -> None:
        super().__init__(parent)
        self._model = model
        self._loader = loader
        self._input_size: tuple[int, int] | None = None
        self._resize_mode = "crop"
        self._current: str | None = None
        self._request = 0
        self._overlay: tuple[str, QImage, str, bool] | None = (
            None  # path, image, caption, pixelated
        )

        self.list = ImageListView(model)
        self.list.selectionModel().currentChanged.connect(self._on_list_current_changed)
        model.rowsRemoved.connect(self._on_rows_changed)
        model.modelReset.connect(self._on_rows_changed)

        self.count_label = QLabel()
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.count_label, 1)
        for text, tip, slot in (
            ("Add…", "Open images or folders (Ctrl+O)", self.open_requested.emit),
            ("Remove", "Remove the selected images from the list (Del)", self._remove_selected),
            ("Clear", "Remove all images from the list", self.clear_requested.emit),
        ):
            button = QToolButton(text=text, toolTip=tip, autoRaise=True)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        model.rowsInserted.connect(self._update_count)
        model.rowsRemoved.connect(self._update_count)
        model.modelReset.connect(self._update_count)

        self.picture = PictureView()
        self.network_toggle = QCheckBox("What the network sees")
        self.network_toggle.setToolTip(
            "Show the picture resized and cropped to the model's input, as the network gets it (N)"
        )
        self.network_toggle.toggled.connect(self._refresh_picture)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        # Ignored width: a long file name must not squeeze the toggle below it.
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption.setStyleSheet("color: palette(placeholder-text);")

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.list)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.caption)
        bottom_layout.addWidget(self.picture, 1)
        bottom_layout.addWidget(self.network_toggle)
        self._bottom_layout = bottom_layout
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        loader.picture_ready.connect(self._on_picture_ready)
        self._update_count()

    # -- public ----------------------------------------------------------------------------

    def current_path(self) -> str | None:
        return self._current

    def selected_paths(self) -> list[str]:
        rows = sorted(index.row() for index in self.list.selectionModel().selectedIndexes())
        return [self._model.index(row).data(PATH_ROLE) for row in rows]

    def select_path(self, path: str) -> None:
        row = self._model.row_of(path)
        if row >= 0:
            index = self._model.index(row)
            self.list.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.list.scrollTo(index)

    def add_controls(self, widget: QWidget) -> None:
        """Put a row of controls under the picture (e.g. the Explain bar)."""
        self._bottom_layout.addWidget(widget)

    def show_overlay(self, path: str, image: QImage, caption: str, pixelated: bool = False) -> None:
        """Show image in place of path's picture while path is the current image."""
        self._overlay = (path, image, caption, pixelated)
        if path == self._current:
            self.picture.set_image(image, pixelated=pixelated)
            self.caption.setText(caption)

    def clear_overlay(self) -> None:
        """Show the picture itself again."""
        if self._overlay is not None:
            self._overlay = None
            self._refresh_picture()

    def has_overlay(self) -> bool:
        """Whether the current image is shown with an overlay."""
        return self._overlay is not None and self._overlay[0] == self._current

    def set_network_input(self, input_size: tuple[int, int] | None, resize_mode: str) -> None:
        """The current model's input, for "What the network sees"."""
        self._input_size, self._resize_mode = input_size, resize_mode
        if self.network_toggle.isChecked():
            self._refresh_picture()

    # -- internals -------------------------------------------------------------------------

    def _remove_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            self.remove_requested.emit(paths)

    def _on_list_current_changed(self, current, _previous) -> None:
        path = current.data(PATH_ROLE) if current.isValid() else None
        if path != self._current:
            self._current = path
            self._overlay = None  # it was another image's
            self._refresh_picture()
            self.current_changed.emit(path)

    def _on_rows_changed(self, *_args) -> None:
        index = self.list.selectionModel().currentIndex()
        self._on_list_current_changed(index, None)

    def _update_count(self, *_args) -> None:
        count = self._model.rowCount()
        self.count_label.setText(f"{count} image{'s' if count != 1 else ''}")

    def _refresh_picture(self, *_args) -> None:
        if self._current is None:
            self.caption.setText("")
            self.picture.set_image(None, text=EMPTY_HINT if not self._model.rowCount() else "")
            return
        network = self.network_toggle.isChecked() and self._input_size is not None
        self._request = self._loader.request_picture(
            self._current, self._input_size if network else None, self._resize_mode
        )

    def _on_picture_ready(self, request: int, path: str, image, error: str) -> None:
        if request != self._request:
            return  # the user has moved on to another picture
        if self.has_overlay():
            return  # the overlay stays until it is cleared
        network = self.network_toggle.isChecked() and self._input_size is not None
        if image is None:
            self.picture.set_image(None, text=f"Cannot show this image:\n{error}")
            self.caption.setText("")
            return
        self.picture.set_image(image, pixelated=network)
        if network:
            height, width = self._input_size
            self.caption.setText(f"{Path(path).name}: network input {width}×{height}")
        else:
            self.caption.setText(Path(path).name)
