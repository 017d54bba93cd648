"""The list of images in the session and each one's state: queued, done or failed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from core.models.labels import Label
from gui.widgets.image_loader import THUMBNAIL_SIDE

QUEUED, DONE, FAILED, CANCELLED = "queued", "done", "failed", "cancelled"
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2


@dataclass
class ImageEntry:
    path: str
    state: str = QUEUED
    labels: tuple[Label, ...] | None = None
    error: str | None = None
    thumbnail: QPixmap | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def summary(self) -> str:
        """The second line under the file name."""
        if self.state == FAILED:
            return "could not be read"
        if self.state == CANCELLED:
            return "not classified"
        if self.state == QUEUED:
            return "waiting…"
        if not self.labels:
            return "no classifier head"
        top = self.labels[0]
        return f"{display_name(top)} · {top.probability:.0%}"


def display_name(label: Label) -> str:
    """ImageNet's names use underscores ("tiger_cat"); people read spaces."""
    return label.label.replace("_", " ")


def image_key(path: str | Path) -> str:
    """One spelling per file, so the same image dropped twice is listed once."""
    return str(Path(path))


class ImageListModel(QAbstractListModel):
    """Rows of ImageEntry; thumbnails arrive later from the image loader."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._entries: list[ImageEntry] = []
        self._rows: dict[str, int] = {}
        self._placeholder = _placeholder_pixmap()
        warning = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self._failed_icon = QIcon(_square(warning.pixmap(48, 48)))

    # -- reading ---------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{entry.name}\n{entry.summary}"
        if role == Qt.ItemDataRole.DecorationRole:
            if entry.state == FAILED and entry.thumbnail is None:
                return self._failed_icon
            return QIcon(entry.thumbnail or self._placeholder)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(entry)
        if role == Qt.ItemDataRole.ForegroundRole and entry.state == FAILED:
            return QColor("#b3261e")
        if role == PATH_ROLE:
            return entry.path
        if role == STATE_ROLE:
            return entry.state
        return None

    def entries(self) -> list[ImageEntry]:
        return list(self._entries)

    def paths(self, states: Iterable[str] | None = None) -> list[str]:
        wanted = set(states) if states is not None else None
        return [e.path for e in self._entries if wanted is None or e.state in wanted]

    def entry(self, path: str) -> ImageEntry | None:
        row = self._rows.get(image_key(path))
        return self._entries[row] if row is not None else None

    def row_of(self, path: str) -> int:
        return self._rows.get(image_key(path), -1)

    # -- changing --------------------------------------------------------------------------

    def add_paths(self, paths: Sequence[str | Path]) -> list[str]:
        """Append images not listed yet; returns the keys of the new ones."""
        new = []
        for path in paths:
            key = image_key(path)
            if key not in self._rows and key not in new:
                new.append(key)
        if new:
            first = len(self._entries)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._entries += [ImageEntry(key) for key in new]
            self._reindex()
            self.endInsertRows()
        return new

    def remove_paths(self, paths: Iterable[str]) -> None:
        rows = sorted((self.row_of(p) for p in paths), reverse=True)
        for row in rows:
            if row >= 0:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._entries[row]
                self._reindex()
                self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._entries, self._rows = [], {}
        self.endResetModel()

    def set_result(
        self, path: str, labels: Sequence[Label] | None, error: str | None
    ) -> ImageEntry | None:
        entry = self.entry(path)
        if entry is None:
            return None  # removed while it was being classified
        entry.state = FAILED if error else DONE
        entry.labels = tuple(labels) if labels is not None else None
        entry.error = error
        self._changed(path)
        return entry

    def set_state(self, paths: Iterable[str], state: str) -> None:
        for path in paths:
            entry = self.entry(path)
            if entry is not None:
                entry.state, entry.labels, entry.error = state, None, None
                self._changed(path)

    def set_thumbnail(self, path: str, image: QImage) -> None:
        entry = self.entry(path)
        if entry is not None:
            entry.thumbnail = _square(QPixmap.fromImage(image))
            self._changed(path, [Qt.ItemDataRole.DecorationRole])

    def _changed(self, path: str, roles=()) -> None:
        index = self.index(self.row_of(path))
        self.dataChanged.emit(index, index, list(roles))

    def _reindex(self) -> None:
        self._rows = {entry.path: row for row, entry in enumerate(self._entries)}


def _tooltip(entry: ImageEntry) -> str:
    lines = [entry.path]
    if entry.state == FAILED:
        lines.append(f"Failed: {entry.error}")
    elif entry.state == DONE and entry.labels:
        lines += [f"{label.probability:6.1%}  {display_name(label)}" for label in entry.labels]
    elif entry.state == QUEUED:
        lines.append("Waiting to be classified")
    elif entry.state == CANCELLED:
        lines.append("Not classified: cancelled (Model → Classify images, F5)")
    return "\n".join(lines)


def _square(pixmap: QPixmap) -> QPixmap:
    """pixmap centred on a transparent THUMBNAIL_SIDE square: every row's icon has one size,
    so rows keep one height whatever the photos' shapes (the list lays out uniform rows)."""
    side = THUMBNAIL_SIDE
    square = QPixmap(QSize(side, side))
    square.fill(QColor(0, 0, 0, 0))
    painter = QPainter(square)
    painter.drawPixmap((side - pixmap.width()) // 2, (side - pixmap.height()) // 2, pixmap)
    painter.end()
    return square


def _placeholder_pixmap() -> QPixmap:
    """A neutral tile shown until the thumbnail is decoded, so rows don't jump."""
    side = THUMBNAIL_SIDE
    pixmap = QPixmap(QSize(side, side))
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#d8dbe0"))
    painter.drawRoundedRect(8, 16, side - 16, side - 32, 6, 6)
    painter.end()
    return pixmap
