"""The model's layers as a filterable tree, with per-layer freezing for transfer learning.

Takes the plain dicts of ``core.layers.LayerNode.to_dict()``, so it never needs Keras.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QFont,
    QFontMetrics,
    QIcon,
    QKeySequence,
    QPixmap,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import QHeaderView, QLineEdit, QMenu, QStyle, QTreeView, QVBoxLayout, QWidget

from gui.widgets.layer_rows import NameOrTypeFilter, format_shape, grid_icon, has_maps

COLUMNS = ("Name", "Type", "Output shape", "Params", "Trainable")
NAME, TYPE, SHAPE, PARAMS, TRAINABLE = range(len(COLUMNS))
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
FILTER_SHORTCUT = "Ctrl+L"
IS_BLOCK_ROLE = Qt.ItemDataRole.UserRole + 2


class LayerTreeView(QWidget):
    """Layer tree with a filter box; emits the path of the layer the user selects."""

    layer_selected = Signal(str)
    trainable_changed = Signal(dict)  # {leaf layer path: trainable} for every leaf layer
    explain_layer_requested = Signal(str)  # "Explain at this layer" from the context menu

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = QStandardItemModel(0, len(COLUMNS), self)
        self._model.setHorizontalHeaderLabels(list(COLUMNS))
        self._proxy = NameOrTypeFilter(self)
        self._proxy.setSourceModel(self._model)
        self._trainable_items: dict[str, QStandardItem] = {}  # path -> Trainable cell
        self._leaf_paths: list[str] = []  # graph order, nested layers in place
        self._editable = False
        self._updating = False  # set while we write check states ourselves
        self._filtering = False
        self._selected: str | None = None
        self._explainable: set[str] = set()  # layers a CAM can be taken at
        self._content_width: int | None = None  # cached: layouts ask for sizeHint often
        self._grid_icon = grid_icon()
        blank = QPixmap(16, 16)
        blank.fill(Qt.GlobalColor.transparent)
        self._blank_icon = QIcon(blank)

        self.filter_edit = QLineEdit(placeholderText="Filter layers… (Ctrl+L focuses)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_edit_text_changed)
        self.filter_edit.returnPressed.connect(self._on_filter_edit_return_pressed)
        self.filter_edit.setToolTip("Filter by name or type; Enter shows the first match")
        # Ctrl+L is bound by the window holding the tree (a menu action, or add_shortcut):
        # two bindings of one key in a window make Qt fire neither ("Ambiguous overload").

        self.tree = QTreeView()
        self.tree.setModel(self._proxy)
        self.tree.setUniformRowHeights(True)  # keeps 500-layer models fast to lay out
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QTreeView.SelectionBehavior.SelectRows)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu)
        self.tree.selectionModel().currentRowChanged.connect(self._on_tree_current_changed)
        # A click on the row that is already current (Qt made it so while filtering) is no
        # change of the current row, but it is the user choosing that layer.
        self.tree.clicked.connect(self._choose)
        header = self.tree.header()
        header.setStretchLastSection(False)
        # Every column fits its contents except Type, which takes the room left: names are
        # what tell layers apart (block3a_expand_bn, block3b_expand_bn, …), so they are
        # never cut; squeezed, the type loses its end (its tooltip has it whole).
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TYPE, QHeaderView.ResizeMode.Stretch)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._model.itemChanged.connect(self._on_model_item_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree)

    def sizeHint(self) -> QSize:
        return QSize(self.content_width(), 480)

    def content_width(self) -> int:
        """The width that shows every column unabridged: the layers' when there are some,
        else a typical model's (so a window can be laid out before its model has loaded)."""
        # Measuring walks every row: done once per content, not on each of the window's
        # layout passes (a status message is one), which all ask for the sizeHint.
        if self._content_width is None:
            self._content_width = self._measure_width()
        return self._content_width

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._content_width = None
        super().changeEvent(event)

    def _measure_width(self) -> int:
        header = self.tree.header()
        if self._leaf_paths:
            columns = sum(
                max(self.tree.sizeHintForColumn(c), header.sectionSizeHint(c))
                for c in range(len(COLUMNS))
            )
        else:
            bold = QFont(self.font())
            bold.setBold(True)
            name = self.fontMetrics().horizontalAdvance("block2a_expand_activation")
            kind = QFontMetrics(bold).horizontalAdvance("BatchNormalization")
            numbers = self.fontMetrics().horizontalAdvance("112×112×144 1,281,000")
            indent_and_icon = 2 * self.tree.indentation() + 24
            margins = 4 * 12
            columns = name + indent_and_icon + kind + numbers + margins
            columns += header.sectionSizeHint(TRAINABLE)
        chrome = 2 * self.tree.frameWidth() + self.tree.verticalScrollBar().sizeHint().width()
        return columns + chrome

    # -- content -------------------------------------------------------------------------

    def set_layers(self, nodes: list[dict]) -> None:
        """Show a model's layers (``LayerNode.to_dict()`` dicts); nested models expand."""
        self.clear()
        self._updating = True
        for node in nodes:
            self._model.invisibleRootItem().appendRow(self._make_row(node))
        self._refresh_blocks()
        self._updating = False
        self.tree.expandAll()
        self._content_width = None
        self.updateGeometry()

    def clear(self) -> None:
        self._updating = True
        self._model.removeRows(0, self._model.rowCount())
        self._updating = False
        self._trainable_items.clear()
        self._leaf_paths.clear()
        self._selected = None
        self._content_width = None

    def _make_row(self, node: dict) -> list[QStandardItem]:
        children = node.get("children") or []
        name = QStandardItem(node["name"])
        name.setData(node["path"], PATH_ROLE)
        name.setData(bool(children), IS_BLOCK_ROLE)
        name.setToolTip(node["path"])
        kind = QStandardItem(node["class_name"])
        kind.setToolTip(node["class_name"])
        shape = QStandardItem(format_shape(node.get("output_shape")))
        params = QStandardItem(f"{node.get('params', 0):,}")
        for item in (shape, params):
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if children:
            name.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon))
        elif has_maps(node):
            name.setIcon(self._grid_icon)
        else:  # a blank icon keeps every name in a column starting at the same x
            name.setIcon(self._blank_icon)
        if has_maps(node):
            font = QFont(kind.font())
            font.setBold(True)
            kind.setFont(font)
            kind.setToolTip(
                f"{node['class_name']}: a convolutional output (H×W×C); select it to see "
                "its activation maps"
            )
        trainable = QStandardItem()
        trainable.setData(node["path"], PATH_ROLE)
        trainable.setData(bool(children), IS_BLOCK_ROLE)
        trainable.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self._trainable_items[node["path"]] = trainable
        row = [name, kind, shape, params, trainable]
        for item in row:
            item.setEditable(False)
        if children:
            for child in children:
                name.appendRow(self._make_row(child))
        else:
            self._leaf_paths.append(node["path"])
            self._set_cell_state(trainable, bool(node.get("trainable", True)))
        return row

    # -- selection and filter ------------------------------------------------------------

    def selected_layer(self) -> str | None:
        return self._selected

    def select_layer(self, path: str) -> None:
        """Select the row of path, as a click would (layer_selected is emitted on change)."""
        index = self._proxy_index(path)
        if not index.isValid():  # unknown, or hidden by the filter
            return
        self.tree.scrollTo(index)
        self.tree.setCurrentIndex(index)

    def add_shortcut(self, window: QWidget) -> QShortcut:
        """Bind Ctrl+L in a window without a menu action for it, to focus the filter."""
        shortcut = QShortcut(QKeySequence(FILTER_SHORTCUT), window)
        shortcut.activated.connect(self.focus_filter)
        return shortcut

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def _proxy_index(self, path: str) -> QModelIndex:
        item = self._trainable_items.get(path)
        if item is None:
            return QModelIndex()
        source = self._model.indexFromItem(item).siblingAtColumn(NAME)
        return self._proxy.mapFromSource(source)

    def _on_filter_edit_text_changed(self, text: str) -> None:
        # Rows vanishing under the filter move Qt's current index; that is not the user
        # choosing a layer, and a spurious layer_selected would start an activation run.
        # So no row may look chosen unless it is the layer shown: the shown layer stays
        # highlighted while the filter keeps it, and no row is highlighted when it hides it.
        self._filtering = True
        self._proxy.set_needle(text.strip())
        self.tree.expandAll()
        index = self._proxy_index(self._selected) if self._selected else QModelIndex()
        if index.isValid():
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
        else:
            self.tree.selectionModel().clear()
        self._filtering = False

    def _on_filter_edit_return_pressed(self) -> None:
        first = self._proxy.index(0, NAME)
        while first.isValid() and self._proxy.rowCount(first):  # a block: its first layer
            first = self._proxy.index(0, NAME, first)
        if first.isValid():
            self.tree.setCurrentIndex(first)
            self._choose(first)
            self.tree.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_tree_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._filtering:
            self._choose(current)

    def _choose(self, index: QModelIndex) -> None:
        path = index.siblingAtColumn(NAME).data(PATH_ROLE) if index.isValid() else None
        if path and path != self._selected:
            self._selected = path
            self.layer_selected.emit(path)

    # -- freezing ------------------------------------------------------------------------

    def set_trainable_editable(self, editable: bool) -> None:
        """Show the Trainable column as checkboxes (transfer learning) or as plain yes/no."""
        self._editable = editable
        state = self.trainable_state()
        self._updating = True
        for path, item in self._trainable_items.items():
            if path in state:
                self._set_cell_state(item, state[path])
        self._refresh_blocks()
        self._updating = False
        self._content_width = None  # checkboxes instead of yes/no

    def trainable_state(self) -> dict[str, bool]:
        """{leaf layer path: trainable}, in graph order."""
        return {
            path: bool(self._trainable_items[path].data(Qt.ItemDataRole.UserRole))
            for path in self._leaf_paths
        }

    def set_trainable_state(self, state: dict[str, bool]) -> None:
        """Apply {path: trainable} to the leaf layers it names; emits trainable_changed."""
        self._updating = True
        for path, value in state.items():
            if path in self._leaf_paths:
                self._set_cell_state(self._trainable_items[path], value)
        self._refresh_blocks()
        self._updating = False
        self.trainable_changed.emit(self.trainable_state())

    def freeze_up_to(self, path: str) -> None:
        """Freeze every leaf up to and including path (a block: its last leaf); thaw the rest."""
        last = max(i for i, leaf in enumerate(self._leaf_paths) if _within(leaf, path))
        self.set_trainable_state({leaf: i > last for i, leaf in enumerate(self._leaf_paths)})

    def unfreeze_all(self) -> None:
        self.set_trainable_state(dict.fromkeys(self._leaf_paths, True))

    def _set_cell_state(self, item: QStandardItem, value: bool | None) -> None:
        # UserRole keeps the truth (None = mixed block) whether or not a checkbox shows it.
        item.setData(value, Qt.ItemDataRole.UserRole)
        item.setCheckable(self._editable)
        if self._editable:
            item.setText("")
            check = {True: Qt.CheckState.Checked, False: Qt.CheckState.Unchecked}
            item.setCheckState(check.get(value, Qt.CheckState.PartiallyChecked))
        else:
            item.setData(None, Qt.ItemDataRole.CheckStateRole)  # else Qt still paints a box
            item.setText({True: "yes", False: "no"}.get(value, "partly"))

    def _refresh_blocks(self) -> None:
        """Recompute each block's state from its leaves: on, off, or mixed (partial)."""
        state = self.trainable_state()
        for path, item in self._trainable_items.items():
            if item.data(IS_BLOCK_ROLE):
                values = {v for leaf, v in state.items() if _within(leaf, path)}
                self._set_cell_state(item, values.pop() if len(values) == 1 else None)

    def _on_model_item_changed(self, item: QStandardItem) -> None:
        if self._updating or not self._editable or item.column() != TRAINABLE:
            return
        value = item.checkState() == Qt.CheckState.Checked
        if item.checkState() == Qt.CheckState.PartiallyChecked:
            value = True  # clicking a mixed block makes its whole block trainable
        path = item.data(PATH_ROLE)
        self.set_trainable_state({leaf: value for leaf in self._leaf_paths if _within(leaf, path)})

    def _on_tree_context_menu(self, pos) -> None:
        index = self.tree.indexAt(pos)
        menu = self.context_menu(index.siblingAtColumn(NAME).data(PATH_ROLE))
        if menu.isEmpty():
            menu.deleteLater()
            return
        # popup(), not exec(): no nested event loop, and the menu deletes itself on close.
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def set_explain_layers(self, paths) -> None:
        """The layers whose context menu offers "Explain at this layer"."""
        self._explainable = set(paths)

    def context_menu(self, path: str | None) -> QMenu:
        """The row's context menu; built separately so it can be inspected and tested."""
        menu = QMenu(self)
        if path in self._explainable:
            explain = QAction("Explain at this layer", menu)
            explain.setToolTip("Grad-CAM over this layer's maps, on the picture (Explain)")
            explain.triggered.connect(lambda: self.explain_layer_requested.emit(path))
            menu.addAction(explain)
        if self._editable and self._leaf_paths:
            if path is not None:
                freeze = QAction("Freeze up to here", menu)
                freeze.setToolTip("Freeze this layer and every layer before it; train the rest")
                freeze.triggered.connect(lambda: self.freeze_up_to(path))
                menu.addAction(freeze)
            unfreeze = QAction("Unfreeze all", menu)
            unfreeze.triggered.connect(self.unfreeze_all)
            menu.addAction(unfreeze)
        return menu


def _within(leaf: str, path: str) -> bool:
    """True when leaf is path itself or lies inside the block at path."""
    # "/" is core.layers.PATH_SEPARATOR, not imported: core.models.layers is not a light module.
    return leaf == path or leaf.startswith(path + "/")
