"""File → Export features…: which images, which layer, how pooled, and where to.

The dialog only collects choices; the worker does the export with ``core.io.export``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.io.export import EXPORT_FORMATS

SCOPE_SELECTED = "selected"
SCOPE_ALL = "all"
POOLINGS = {  # the keys are core.inference.POOLINGS (not imported: it loads TensorFlow)
    "avg": "mean over positions: one value per channel",
    "max": "maximum over positions: one value per channel",
    "flatten": "every value, position by position (large)",
    "none": "the layer's output as it is",
}
SUFFIX_ALIASES = {".hdf5": ".h5"}


@dataclass(frozen=True)
class ExportOptions:
    """What the user chose: scope is SCOPE_SELECTED or SCOPE_ALL, pooling a POOLINGS key."""

    scope: str
    layer: str
    pooling: str
    path: Path
    overwrite: bool = False

    @property
    def format(self) -> str:
        suffix = self.path.suffix.lower()
        return SUFFIX_ALIASES.get(suffix, suffix)


def _known_suffix(path: str) -> str | None:
    suffix = Path(path).suffix.lower()
    suffix = SUFFIX_ALIASES.get(suffix, suffix)
    return suffix if suffix in EXPORT_FORMATS else None


class ExportDialog(QDialog):
    """Collects ExportOptions; OK stays disabled until the choices can be exported."""

    def __init__(
        self,
        parent: QWidget | None,
        layers: list[str],
        default_layer: str,
        image_count: int,
        has_selection: bool,
        start_dir: str,
        default_format: str = ".npz",
        suggested_name: str = "",
    ) -> None:
        """start_dir and default_format: the last export's; suggested_name (without suffix)
        fills the path in start_dir, so the folder the user exported to last is seen."""
        super().__init__(parent)
        self.setWindowTitle("Export features")
        self._layers = list(layers)
        self._start_dir = Path(start_dir).expanduser()
        self._overwrite = False
        self._syncing = False  # set while the path and the format update each other

        self.selected_radio = QRadioButton("Selected image")
        self.selected_radio.setEnabled(has_selection)
        if not has_selection:
            self.selected_radio.setToolTip("No image is selected")
        plural = "image" if image_count == 1 else "images"
        self.all_radio = QRadioButton(f"All {image_count} {plural}")
        self.all_radio.setEnabled(image_count > 0)
        # A feature export is usually for a whole set; one image is the exception.
        (self.all_radio if image_count > 0 else self.selected_radio).setChecked(True)
        self._scope_group = QButtonGroup(self)
        for radio in (self.selected_radio, self.all_radio):
            self._scope_group.addButton(radio)
            radio.toggled.connect(self._validate)
        scope_row = QHBoxLayout()
        scope_row.addWidget(self.selected_radio)
        scope_row.addWidget(self.all_radio)
        scope_row.addStretch(1)

        self.layer_combo = QComboBox(editable=True)
        self.layer_combo.addItems(self._layers)
        self.layer_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.layer_combo.setCurrentText(default_layer)
        self.layer_combo.setMinimumContentsLength(24)
        # Contains-matching: layer names share long prefixes (block6a_…, block6b_…).
        completer = QCompleter(self._layers, self.layer_combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.layer_combo.setCompleter(completer)
        self.layer_combo.currentTextChanged.connect(self._validate)
        # A popup left open over a complete name would swallow the user's next click.
        self.layer_combo.currentTextChanged.connect(self._on_layer_combo_text_changed)
        layer_row = QHBoxLayout()
        layer_row.addWidget(self.layer_combo, 1)
        layer_row.addWidget(QLabel("(default: pooled penultimate layer)"))

        self.pooling_combo = QComboBox()
        for key, description in POOLINGS.items():
            self.pooling_combo.addItem(f"{key} — {description}", key)

        self.format_combo = QComboBox()
        for suffix, description in EXPORT_FORMATS.items():
            self.format_combo.addItem(f"{suffix} — {description}", suffix)
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(default_format)))
        self.format_combo.currentIndexChanged.connect(self._on_format_combo_changed)

        self.path_edit = QLineEdit(placeholderText="Choose where to save the features…")
        self.path_edit.setClearButtonEnabled(True)
        self.path_edit.textChanged.connect(self._on_path_edit_changed)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

        self.hint = QLabel(wordWrap=True)
        self.hint.setStyleSheet("color: palette(mid);")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Images:", scope_row)
        form.addRow("Layer:", layer_row)
        form.addRow("Pooling:", self.pooling_combo)
        form.addRow("Format:", self.format_combo)
        form.addRow("Save to:", path_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.resize(640, self.sizeHint().height())
        if suggested_name:
            self.path_edit.setText(str(self._start_dir / (suggested_name + default_format)))
        self._validate()

    # -- results ------------------------------------------------------------------------

    def values(self) -> ExportOptions:
        return ExportOptions(
            scope=SCOPE_SELECTED if self.selected_radio.isChecked() else SCOPE_ALL,
            layer=self.layer_combo.currentText().strip(),
            pooling=self.pooling_combo.currentData(),
            path=self.target_path() or Path(),
            overwrite=self._overwrite,
        )

    def target_path(self) -> Path | None:
        """The absolute file to write, the format's suffix added when the name has none."""
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self._start_dir / path
        # A folder (typed with a trailing slash, or existing) stays one: _problem says so.
        if path.name and not path.suffix and not text.endswith(("/", os.sep)) and not path.is_dir():
            path = path.with_name(path.name + self.format_combo.currentData())
        return path

    def accept(self) -> None:
        path = self.target_path()
        if path is None or not self.ok_button.isEnabled():
            return
        self._overwrite = False
        if path.exists():
            answer = QMessageBox.question(
                self,
                "Replace file?",
                f"{path.name} already exists in {path.parent}.\nDo you want to replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            self._overwrite = True
        super().accept()

    def _on_layer_combo_text_changed(self, text: str) -> None:
        if text.strip() in self._layers:
            # After the key press is handled: the line edit shows the popup after this signal.
            QTimer.singleShot(0, self, self._hide_completion)

    def _hide_completion(self) -> None:
        self.layer_combo.completer().popup().hide()

    # -- keeping path and format in step -------------------------------------------------

    def _on_format_combo_changed(self) -> None:
        text = self.path_edit.text().strip()
        if self._syncing or not text:
            self._validate()
            return
        suffix = self.format_combo.currentData()
        path = Path(text)
        # Swap a known suffix; anything else (a dotted name like "run.v2") keeps its text.
        new = path.with_suffix(suffix) if _known_suffix(text) else Path(text + suffix)
        self._syncing = True
        self.path_edit.setText(str(new))
        self._syncing = False
        self._validate()

    def _on_path_edit_changed(self, text: str) -> None:
        suffix = _known_suffix(text.strip())
        if not self._syncing and suffix is not None:
            self._syncing = True
            self.format_combo.setCurrentIndex(self.format_combo.findData(suffix))
            self._syncing = False
        self._validate()

    def _on_browse_clicked(self) -> None:
        filters = [f"{desc.split(':')[0]} (*{suffix})" for suffix, desc in EXPORT_FORMATS.items()]
        current = filters[self.format_combo.currentIndex()]
        start = self.target_path() or self._start_dir / f"features{self.format_combo.currentData()}"
        # We ask about replacing at OK ourselves, so the file dialog must not ask too.
        path, chosen = QFileDialog.getSaveFileName(
            self,
            "Export features to",
            str(start),
            ";;".join(filters),
            current,
            QFileDialog.Option.DontConfirmOverwrite,
        )
        if not path:
            return
        if _known_suffix(path) is None and chosen in filters:
            path += list(EXPORT_FORMATS)[filters.index(chosen)]
        self.path_edit.setText(path)

    # -- validation ----------------------------------------------------------------------

    def _problem(self) -> str | None:
        """Why the export cannot run yet, in words for the hint line; None when it can."""
        if not (self.selected_radio.isChecked() or self.all_radio.isChecked()):
            return "There are no images to export."
        layer = self.layer_combo.currentText().strip()
        if self._layers and layer not in self._layers:
            return f"The model has no layer named “{layer}”." if layer else "Choose a layer."
        path = self.target_path()
        if path is None:
            return "Choose a file to save to."
        if _known_suffix(str(path)) is None:
            return f"Choose a file ending in {', '.join(EXPORT_FORMATS)}."
        if path.is_dir() or not path.name:
            return f"{path} is a folder; choose a file name."
        if not path.parent.is_dir():
            return f"The folder {path.parent} does not exist."
        return None

    def _validate(self) -> None:
        problem = self._problem()
        self.ok_button.setEnabled(problem is None)
        path = self.target_path()
        self.hint.setText(problem or f"Will write {path}")
