"""Choosing a model: the built-in one, the Keras ImageNet zoo, recent model files, or a file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QSizePolicy

from core.models.zoo import ZOO, ModelSpec, weights_cached

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
OPEN_FILE = "\0open-file"  # the key of the "Open model file…" entry
RANDOM_BADGE = "⚠ random weights"


def describe(spec: ModelSpec) -> str:
    """Entry text: the name, then what loading it costs."""
    if spec.builtin:
        return f"{spec.name}  ·  built-in, works offline"
    if weights_cached(spec):
        return f"{spec.name}  ·  weights cached"
    return f"{spec.name}  ·  {spec.download_mb} MB download"


class ModelSelector(QComboBox):
    """A combo box grouped by source. Emits the chosen model's key (zoo name or file path)."""

    model_chosen = Signal(str)
    open_file_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items = QStandardItemModel(self)
        self.setModel(self._items)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMaxVisibleItems(30)
        self.setToolTip("The model that classifies the images (Ctrl+Shift+O opens a model file)")
        self._recent: list[str] = []
        self._current: str | None = None
        self._random_key: str | None = None  # the entry loaded with random weights
        self.rebuild()
        self.activated.connect(self._on_activated)

    # -- public ----------------------------------------------------------------------------

    def set_recent(self, paths: list[str]) -> None:
        self._recent = list(paths)
        self.rebuild()

    def set_current(self, key: str | None, random_weights: bool = False) -> None:
        """Show key as the loaded model (without emitting model_chosen); random_weights
        badges its entry, so the selector never reads like a pretrained model."""
        self._current = key
        random_key = key if random_weights else None
        if random_key != self._random_key or (key and self._row(key) < 0):
            self._random_key = random_key
            if key and self._row(key) < 0 and key not in self._recent:
                self._recent.insert(0, key)
            self.rebuild()
        self._show_current()

    def current_key(self) -> str | None:
        return self._current

    def keys(self) -> list[str]:
        """Every selectable model key, in display order (for tests and the Model menu)."""
        return [
            self._items.item(row).data(KEY_ROLE)
            for row in range(self._items.rowCount())
            if self._items.item(row).isSelectable()
            and self._items.item(row).data(KEY_ROLE) != OPEN_FILE
        ]

    def rebuild(self) -> None:
        """Refill the list, e.g. after weights were downloaded (their "cached" mark changes)."""
        self.blockSignals(True)
        self._items.clear()
        self._header("Built-in (offline)")
        for spec in ZOO.values():
            if spec.builtin:
                self._entry(describe(spec), spec.name, spec.family)
        self._header("Keras ImageNet")
        for spec in ZOO.values():
            if not spec.builtin:
                tip = (
                    f"{spec.family}. Input {spec.input_size[1]}×{spec.input_size[0]}; "
                    f"weights {spec.download_mb} MB"
                    + (" (already downloaded)" if weights_cached(spec) else ", downloaded once")
                )
                self._entry(describe(spec), spec.name, tip)
        if self._recent:
            self._header("Recent model files")
            for path in self._recent:
                self._entry(Path(path).name, path, path)
        self._header("")
        self._entry("Open model file…", OPEN_FILE, "Load a .keras or .h5 model (Ctrl+Shift+O)")
        self.blockSignals(False)
        self._show_current()

    # -- internals -------------------------------------------------------------------------

    def _header(self, text: str) -> None:
        item = QStandardItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # a group title, not a choice
        font = QFont(self.font())
        font.setBold(True)
        item.setFont(font)
        self._items.appendRow(item)

    def _entry(self, text: str, key: str, tip: str) -> None:
        if key == self._random_key:
            text = f"{text.split('  ·  ')[0]}  ·  {RANDOM_BADGE}"
            tip = "Loaded with random weights: its labels are not predictions"
        item = QStandardItem(("    " if key != OPEN_FILE else "") + text)
        item.setData(key, KEY_ROLE)
        item.setToolTip(tip)
        self._items.appendRow(item)

    def _row(self, key: str) -> int:
        for row in range(self._items.rowCount()):
            if self._items.item(row).data(KEY_ROLE) == key:
                return row
        return -1

    def _show_current(self) -> None:
        self.blockSignals(True)
        self.setCurrentIndex(self._row(self._current) if self._current else -1)
        self.blockSignals(False)

    def _on_activated(self, row: int) -> None:
        key = self._items.item(row).data(KEY_ROLE)
        if key == OPEN_FILE:
            self._show_current()  # keep showing the model in use while the file dialog is open
            self.open_file_requested.emit()
        elif key and key != self._current:
            self._current = key  # the window puts the loaded model back if loading fails
            self.model_chosen.emit(key)
