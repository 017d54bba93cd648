"""The Feature map dock's widgets: what to map and how, the map itself, and beside it the
selected images (with export), the images similar to the one clicked, and near-duplicates.

Widgets only: gui.main.exploring decides what they show and what their buttons do.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.widgets.feature_map_view import FeatureMapView

SOURCES = [
    ("window", "Images in the window"),
    ("folder", "A folder…"),
    ("file", "A features file…"),
]
METHODS = [("pca", "PCA (instant)"), ("umap", "UMAP"), ("tsne", "t-SNE")]
COLORS = [
    ("auto", "Colour: auto"),
    ("predicted", "Colour: predicted label"),
    ("folder", "Colour: folder"),
    ("cluster", "Colour: cluster"),
]
STRIP_SIDE = 80
PATH_ROLE = Qt.ItemDataRole.UserRole


def _combo(choices, tip: str) -> QComboBox:
    combo = QComboBox()
    for key, text in choices:
        combo.addItem(text, key)
    combo.setToolTip(tip)
    return combo


class FeatureMapPanel(QWidget):
    map_requested = Signal()  # the Map button, or a new method, colouring or pooling
    layer_chosen = Signal(str)  # the path of the layer to map
    source_chosen = Signal(str)  # window, folder or file
    open_requested = Signal(str)  # show this image in the main view
    duplicates_requested = Signal(float)  # the similarity threshold
    save_list_requested = Signal()
    copy_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source = _combo(SOURCES, "What to map")
        self.method = _combo(METHODS, "How to lay the images out in 2-D")
        self.color = _combo(COLORS, "What the colours show")
        self.layer = QComboBox()
        self.layer.setToolTip(
            "The layer whose outputs are mapped (default: what feeds the classifier); "
            "type a layer's name to find it"
        )
        self.layer.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.layer.setMinimumContentsLength(18)
        self.layer.setEnabled(False)  # until a model's layers are offered
        self.pooling = QComboBox()
        self.pooling.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.pooling.setToolTip("How a layer's feature maps become one vector per image")
        self.pooling.setEnabled(False)
        self.map_button = QPushButton("Map")
        self.map_button.setToolTip("Compute the map again")
        self.update_button = QPushButton()
        self.update_button.setToolTip("Map again with the images classified since")
        self.update_button.hide()  # shown while the map lacks images the window classified
        self.select_button = QToolButton()
        self.select_button.setText("Box select")
        self.select_button.setCheckable(True)
        self.select_button.setToolTip("Drag a box to select images (or hold Shift and drag)")
        self.status = QLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setWordWrap(True)  # on a line of its own: it never widens the dock
        controls = QHBoxLayout()
        for widget in (
            self.source,
            self.layer,
            self.pooling,
            self.method,
            self.color,
            self.map_button,
            self.update_button,
            self.select_button,
        ):
            controls.addWidget(widget)
        controls.addStretch(1)

        self.view = FeatureMapView()
        self.selected = QListWidget()
        self.selected.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.save_list = QPushButton("Save list…")
        self.copy_to = QPushButton("Copy to folder…")
        selected_tab = QWidget()
        selected_layout = QVBoxLayout(selected_tab)
        selected_layout.addWidget(self.selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_list)
        buttons.addWidget(self.copy_to)
        selected_layout.addLayout(buttons)

        self.similar = QListWidget()
        self.similar.setViewMode(QListWidget.ViewMode.IconMode)
        self.similar.setIconSize(QSize(STRIP_SIDE, STRIP_SIDE))
        self.similar.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.similar.setMovement(QListWidget.Movement.Static)
        self.similar.setGridSize(QSize(STRIP_SIDE + 40, STRIP_SIDE + 44))  # icon and two lines
        self.similar.setWordWrap(True)

        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.5, 1.0)
        self.threshold.setSingleStep(0.01)
        self.threshold.setDecimals(3)
        self.threshold.setValue(0.95)
        self.threshold.setPrefix("similarity ≥ ")
        self.find_duplicates = QPushButton("Find")
        self.duplicates = QTreeWidget()
        self.duplicates.setHeaderLabels(["Image", "Similarity"])
        duplicates_tab = QWidget()
        duplicates_layout = QVBoxLayout(duplicates_tab)
        row = QHBoxLayout()
        row.addWidget(self.threshold, 1)
        row.addWidget(self.find_duplicates)
        duplicates_layout.addLayout(row)
        duplicates_layout.addWidget(self.duplicates)

        self.tabs = QTabWidget()
        self.tabs.addTab(selected_tab, "Selected")
        self.tabs.addTab(self.similar, "Similar")
        self.tabs.addTab(duplicates_tab, "Duplicates")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)
        self._wire()

    def _wire(self) -> None:
        self.map_button.clicked.connect(self.map_requested)
        self.update_button.clicked.connect(self.map_requested)
        self.method.currentIndexChanged.connect(lambda _i: self.map_requested.emit())
        self.color.currentIndexChanged.connect(lambda _i: self.map_requested.emit())
        self.layer.currentIndexChanged.connect(self._on_layer_index_changed)
        self.pooling.currentIndexChanged.connect(lambda _i: self.map_requested.emit())
        self.source.activated.connect(lambda i: self.source_chosen.emit(self.source.itemData(i)))
        self.select_button.toggled.connect(self.view.set_select_mode)
        self.view.selection_changed.connect(self.show_selected)
        self.selected.itemActivated.connect(lambda item: self.open_requested.emit(item.text()))
        self.similar.itemClicked.connect(
            lambda item: self.open_requested.emit(item.data(PATH_ROLE))
        )
        self.duplicates.itemActivated.connect(self._on_duplicates_item_activated)
        self.find_duplicates.clicked.connect(
            lambda: self.duplicates_requested.emit(self.threshold.value())
        )
        self.save_list.clicked.connect(self.save_list_requested)
        self.copy_to.clicked.connect(self.copy_requested)

    def _on_layer_index_changed(self, index: int) -> None:
        if index >= 0:
            self.layer_chosen.emit(self.layer.itemData(index))

    # -- showing ----------------------------------------------------------------------------

    def set_layers(self, choices, current: str | None) -> None:
        """Offer these layers (LayerChoice: path, text), current chosen; no signal."""
        self.layer.blockSignals(True)
        self.layer.clear()
        for choice in choices:
            self.layer.addItem(choice.text, choice.path)
        paths = [choice.path for choice in choices]
        if current in paths:
            self.layer.setCurrentIndex(paths.index(current))
        self.layer.setEnabled(bool(paths))
        self.layer.blockSignals(False)

    def set_poolings(self, keys, current: str | None, names: dict[str, str]) -> None:
        """Offer these poolings, current chosen (else the first); no signal. One choice
        (a layer that outputs vectors) is shown, not offered."""
        self.pooling.blockSignals(True)
        self.pooling.clear()
        for key in keys:
            self.pooling.addItem(f"Pool: {names[key]}", key)
        self.pooling.setCurrentIndex(list(keys).index(current) if current in keys else 0)
        self.pooling.setEnabled(len(keys) > 1)
        self.pooling.blockSignals(False)

    def enable_layer_choice(self, on: bool) -> None:
        """A features file has its layer already: the choice is for images only."""
        self.layer.setEnabled(on)
        self.pooling.setEnabled(on and self.pooling.count() > 1)

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def show_unmapped(self, count: int) -> None:
        """Offer to map again when count images were classified after the map was made."""
        self.update_button.setText(f"{count} newly classified — Update map")
        self.update_button.setVisible(count > 0)

    def show_selected(self, paths: list[str]) -> None:
        self.selected.clear()
        self.selected.addItems(paths)
        self.tabs.setTabText(0, f"Selected ({len(paths)})" if paths else "Selected")
        self.save_list.setEnabled(bool(paths))
        self.copy_to.setEnabled(bool(paths))

    def show_similar(self, query: str, neighbours, pixmaps: dict[str, QPixmap]) -> None:
        """The strip: the query's nearest images, most similar first."""
        self.similar.clear()
        for found in neighbours:
            item = QListWidgetItem(f"{found.similarity:.3f}\n{Path(found.path).name}")
            item.setData(PATH_ROLE, found.path)
            item.setToolTip(f"{found.path}\ncosine similarity {found.similarity:.4f}")
            if found.path in pixmaps:
                item.setIcon(QIcon(pixmaps[found.path]))
            self.similar.addItem(item)
        self.tabs.setTabText(1, f"Similar to {Path(query).name}")

    def set_strip_thumbnail(self, path: str, image: QImage) -> None:
        for row in range(self.similar.count()):
            item = self.similar.item(row)
            if item.data(PATH_ROLE) == path:
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    def similar_paths(self) -> list[str]:
        return [self.similar.item(row).data(PATH_ROLE) for row in range(self.similar.count())]

    def show_duplicates(self, result) -> None:
        self.duplicates.clear()
        for number, group in enumerate(result.groups, start=1):
            top = QTreeWidgetItem(
                [f"Group {number}: {len(group.paths)} images", f"≥ {group.similarity:.3f}"]
            )
            for path in group.paths:
                child = QTreeWidgetItem([Path(path).name, ""])
                child.setData(0, PATH_ROLE, path)
                child.setToolTip(0, path)
                top.addChild(child)
            self.duplicates.addTopLevelItem(top)
        if result.least_typical:
            top = QTreeWidgetItem(["Least typical of each class", ""])
            for item in result.least_typical:
                child = QTreeWidgetItem(
                    [f"{item.label}: {Path(item.path).name}", f"{item.similarity:.3f}"]
                )
                child.setData(0, PATH_ROLE, item.path)
                child.setToolTip(0, item.path)
                top.addChild(child)
            self.duplicates.addTopLevelItem(top)
        self.duplicates.expandAll()
        self.duplicates.resizeColumnToContents(0)
        self.tabs.setTabText(2, f"Duplicates ({len(result.groups)})")
        self.tabs.setCurrentIndex(2)

    def duplicate_groups(self) -> list[list[str]]:
        groups = []
        for row in range(self.duplicates.topLevelItemCount()):
            top = self.duplicates.topLevelItem(row)
            if top.text(0).startswith("Group"):
                groups.append([top.child(i).data(0, PATH_ROLE) for i in range(top.childCount())])
        return groups

    def _on_duplicates_item_activated(self, item, _column) -> None:
        path = item.data(0, PATH_ROLE)
        if path:
            self.open_requested.emit(path)

    def choice(self, combo: QComboBox) -> str:
        return combo.currentData()
