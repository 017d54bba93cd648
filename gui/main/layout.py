"""The main window's panes: splitters, their first-start proportions, saving and restoring.

Layout: the image pane on the left; the top-5 panel above the layer tree in the middle;
the activation view on the right. Until the user drags the main splitter (or a saved
layout was restored), the layer pane follows the width of the model's layer table.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSplitter

# First-start layout of the main splitter: the image pane's share of the width; the layer
# pane gets its table's width within these bounds; the activation view the rest.
IMAGE_PANE_SHARE = 0.2  # the photo large enough to see what the model saw
LAYER_PANE_MIN, LAYER_PANE_MAX_SHARE = 300, 0.4
ACTIVATION_PANE_MIN = 360
DEFAULT_SIZE = (1440, 900)
SPLITTER_STYLE = (
    "QSplitter::handle { background: palette(midlight); }"
    "QSplitter::handle:hover { background: palette(highlight); }"
)


def first_size(window) -> QSize:
    """DEFAULT_SIZE, or the screen's free area where that is smaller (a 1366×768 laptop):
    a window taller than the screen hid its status bar, progress and Cancel included."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    width, height = DEFAULT_SIZE
    if screen is None:
        return QSize(width, height)
    free = screen.availableGeometry()
    return QSize(min(width, free.width()), min(height, free.height()))


class WindowLayout:
    """Builds the splitters of a MainWindow and keeps their sizes sensible."""

    def __init__(self, window) -> None:
        self.window = window
        middle = QSplitter(Qt.Orientation.Vertical)
        middle.addWidget(window.top5)
        middle.addWidget(window.layer_tree)
        middle.setStretchFactor(1, 1)
        middle.setMinimumWidth(280)  # names, types and shapes of layers stay readable
        main = QSplitter(Qt.Orientation.Horizontal)
        for widget in (window.image_pane, middle, window.activation_view):
            main.addWidget(widget)
        main.setStretchFactor(2, 1)
        main.splitterMoved.connect(self._on_main_splitter_moved)
        self.splitters = {"main": main, "middle": middle, "images": window.image_pane.splitter}
        self.pending = True  # first start: proportions are set once the size is known
        self.auto = True  # the layer pane follows the layer table's width
        window.setCentralWidget(main)
        # Splitter handles that can be seen (Qt's default is a few invisible pixels).
        for splitter in (main, middle, window.image_pane.splitter, window.activation_view.splitter):
            splitter.setHandleWidth(6)
        window.setStyleSheet(SPLITTER_STYLE)

    def save(self, settings) -> None:
        settings.set_window_bytes("geometry", self.window.saveGeometry())
        settings.set_window_bytes("state", self.window.saveState())
        for name, splitter in self.splitters.items():
            settings.set_window_bytes(f"splitter/{name}", splitter.saveState())

    def restore(self, settings) -> None:
        window = self.window
        geometry = settings.window_bytes("geometry")
        if geometry is None:
            window.resize(first_size(window))
        else:
            window.restoreGeometry(geometry)
        state = settings.window_bytes("state")
        if state is not None:
            window.restoreState(state)
        for name, splitter in self.splitters.items():
            saved = settings.window_bytes(f"splitter/{name}")
            if saved is not None:
                splitter.restoreState(saved)
                self.pending = self.auto = False

    def first_show(self) -> None:
        """Set the first-start proportions, once the window knows its size."""
        if not self.pending:
            return
        self.pending = False
        window = self.window
        width = self.splitters["main"].width() or window.width()
        images = int(width * IMAGE_PANE_SHARE)
        layers = self._layer_pane_width(width)
        self.splitters["main"].setSizes([images, layers, width - images - layers])
        self.splitters["middle"].setSizes([window.top5.sizeHint().height(), 10_000])
        height = window.image_pane.splitter.height() or window.height()
        window.image_pane.splitter.setSizes([int(height * 0.45), int(height * 0.55)])

    def _layer_pane_width(self, window_width: int) -> int:
        """Room for every column of the layer table, within a share of the window."""
        wanted = self.window.layer_tree.content_width()
        return max(LAYER_PANE_MIN, min(wanted, int(window_width * LAYER_PANE_MAX_SHARE)))

    def fit_layer_pane(self) -> None:
        """Resize the layer pane to the loaded model's table, at the activation view's cost."""
        main = self.splitters["main"]
        if not self.auto or not self.window.isVisible():
            return
        sizes = main.sizes()
        layers = self._layer_pane_width(sum(sizes))
        spare = sizes[1] + sizes[2] - layers
        if layers != sizes[1] and spare >= ACTIVATION_PANE_MIN:
            main.setSizes([sizes[0], layers, spare])

    def _on_main_splitter_moved(self) -> None:
        self.auto = False
