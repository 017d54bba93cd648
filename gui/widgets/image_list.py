"""The list of images in the session and each one's state: queued, done or failed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from core.engine.cache import BoundedCache
from core.models.labels import Label
from gui.widgets.image_loader import THUMBNAIL_SIDE

QUEUED, DONE, FAILED, CANCELLED = "queued", "done", "failed", "cancelled"
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
# Thumbnails kept decoded: a few screens of rows. The others are decoded again when their
# rows are shown, so 10,000 photos cost no more memory than 1,000.
THUMBNAIL_CACHE_ITEMS = 600


@dataclass
class ImageEntry:
    path: str
    state: str = QUEUED
    labels: tuple[Label, ...] | None = None
    error: str | None = None

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
    """Rows of ImageEntry. Thumbnails are asked for (thumbnail_needed) only for the rows a
    view shows, arrive later from the image loader and are kept in a bounded cache."""

    thumbnail_needed = Signal(str)  # path: a view shows its row and it has no thumbnail

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._entries: list[ImageEntry] = []
        self._rows: dict[str, int] = {}
        self._thumbnails = BoundedCache(max_items=THUMBNAIL_CACHE_ITEMS)
        self._no_thumbnail: set[str] = set()  # could not be decoded: not asked for again
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
            thumbnail = self._thumbnails.get(entry.path)
            if thumbnail is None and entry.path not in self._no_thumbnail:
                self.thumbnail_needed.emit(entry.path)
            if entry.state == FAILED and thumbnail is None:
                return self._failed_icon
            return QIcon(thumbnail or self._placeholder)
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

    def thumbnail(self, path: str) -> QPixmap | None:
        """path's thumbnail if it is decoded and still cached."""
        return self._thumbnails.get(image_key(path))

    # -- changing --------------------------------------------------------------------------

    def add_paths(self, paths: Iterable[str | Path]) -> list[str]:
        """Append images not listed yet, all in one insertion; returns the keys of the new ones."""
        new, seen = [], set()
        for path in paths:
            key = image_key(path)
            if key not in self._rows and key not in seen:
                seen.add(key)
                new.append(key)
        if new:
            first = len(self._entries)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._entries += [ImageEntry(key) for key in new]
            self._rows.update((key, first + i) for i, key in enumerate(new))
            self.endInsertRows()
        return new

    def remove_paths(self, paths: Iterable[str]) -> None:
        rows = sorted({self.row_of(p) for p in paths} - {-1})
        # Runs of neighbouring rows go in one removal each, last run first so the rows
        # still to remove keep their numbers; the index is rebuilt once.
        for first, last in reversed(_runs(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._entries[first : last + 1]
            self.endRemoveRows()
        self._reindex()

    def clear(self) -> None:
        self.beginResetModel()
        self._entries, self._rows = [], {}
        self._thumbnails.clear()
        self._no_thumbnail.clear()
        self.endResetModel()

    def set_result(
        self, path: str, labels: Sequence[Label] | None, error: str | None
    ) -> ImageEntry | None:
        return self.set_results([(path, labels, error)])[0]

    def set_results(
        self, results: Iterable[tuple[str, Sequence[Label] | None, str | None]]
    ) -> list[ImageEntry | None]:
        """set_result for (path, labels, error) of several images, with one change signal
        per run of neighbouring rows (results arrive in order, a bunch at a time)."""
        entries, rows = [], []
        for path, labels, error in results:
            row = self.row_of(path)
            entry = self._entries[row] if row >= 0 else None  # removed meanwhile
            if entry is not None:
                entry.state = FAILED if error else DONE
                entry.labels = tuple(labels) if labels is not None else None
                entry.error = error
                rows.append(row)
            entries.append(entry)
        for first, last in _runs(sorted(rows)):
            self.dataChanged.emit(self.index(first), self.index(last), [])
        return entries

    def set_state(self, paths: Iterable[str], state: str) -> None:
        rows = []
        for path in paths:
            row = self.row_of(path)
            if row >= 0:
                entry = self._entries[row]
                entry.state, entry.labels, entry.error = state, None, None
                rows.append(row)
        if rows:  # one signal for them all: a model switch re-queues 10,000 rows at once
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)), [])

    def set_thumbnail(self, path: str, image: QImage) -> None:
        """A decoded thumbnail (a null image: the file could not be decoded)."""
        if self.row_of(path) < 0:
            return
        if image.isNull():
            self._no_thumbnail.add(image_key(path))
        else:
            pixmap = _square(QPixmap.fromImage(image))
            self._thumbnails.put(image_key(path), pixmap, 4 * pixmap.width() * pixmap.height())
        self._changed(path, [Qt.ItemDataRole.DecorationRole])

    def _changed(self, path: str, roles=()) -> None:
        index = self.index(self.row_of(path))
        self.dataChanged.emit(index, index, list(roles))

    def _reindex(self) -> None:
        self._rows = {entry.path: row for row, entry in enumerate(self._entries)}


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive numbers in sorted rows."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row <= runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


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
