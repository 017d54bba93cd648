"""The main window's Feature map: a dock with the map of the images' features, the images
similar to the one clicked, near-duplicates, and export of a selection.

Holds the feature's state and its requests to the worker (map, similar, duplicates, copy);
the layout runs there too, so umap and numba are imported on the worker, never here.
Kept out of main_window.py, which only creates it and points its menu items here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDockWidget, QFileDialog

from core.explore.features import FEATURE_SUFFIXES
from core.explore.layout import NAMES as METHOD_NAMES
from core.io.atomic import atomic_path
from core.ops.copy_images import CopyImagesRequest
from core.ops.duplicates import DuplicatesRequest
from core.ops.feature_map import MapRequest
from core.ops.feature_source import FeatureSource
from core.ops.similar import SimilarRequest
from gui.main.map_layers import LayerChoices
from gui.widgets.error_dialog import show_error, user_message
from gui.widgets.feature_map_panel import COLORS, METHODS, FeatureMapPanel
from gui.widgets.image_list import DONE, QUEUED, display_name
from gui.widgets.image_loader import ImageLoader

SIMILAR_COUNT = 12
LEAST_TYPICAL = 3  # per class, listed under the duplicate groups
# Maps queue behind the classification in progress, whose features they then reuse;
# similar images answer a click, so they go first.
MAP_PRIORITY, SIMILAR_PRIORITY = 0, 1
POOLED = {"avg": "average-pooled", "max": "max-pooled", "flatten": "flattened"}


class Exploring(QObject):
    """The Feature map dock of one MainWindow."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.worker = window.session.worker
        self.panel = FeatureMapPanel()
        self.view = self.panel.view
        self.dock = QDockWidget("Feature map", window)
        self.dock.setObjectName("feature_map_dock")  # saveState() needs a name
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()
        self.loader = ImageLoader(self)
        self.pixmaps: dict[str, QPixmap] = {}
        self._thumbs_asked: set[str] = set()
        self.source: FeatureSource | None = None
        self.source_kind = "window"
        self.result = None  # the MapResult shown
        self._wanted: MapRequest | None = None
        self._map_job = None  # the worker's job computing the map last asked for
        self.layers = LayerChoices(self.panel, window.settings)
        # The window's images classified since the map of them was asked for: the map
        # follows the window, redrawn when the classification ends (PCA) or on request.
        self._unmapped: set[str] = set()
        self._restore_choices()
        self._wire()
        if window.session.model is not None:
            self.layers.offer(window.session.model)

    def _restore_choices(self) -> None:
        settings = self.window.settings
        for combo, name, choices in (
            (self.panel.method, "method", METHODS),
            (self.panel.color, "color", COLORS),
        ):
            saved = settings.map_option(name)
            keys = [key for key, _ in choices]
            if saved in keys:
                combo.blockSignals(True)
                combo.setCurrentIndex(keys.index(saved))
                combo.blockSignals(False)

    def _wire(self) -> None:
        panel, view = self.panel, self.view
        panel.map_requested.connect(self.refresh)
        panel.layer_chosen.connect(self._on_panel_layer_chosen)
        panel.source_chosen.connect(self._on_panel_source_chosen)
        panel.open_requested.connect(self.open_image)
        panel.duplicates_requested.connect(self.find_duplicates)
        panel.save_list_requested.connect(self.save_selection_list)
        panel.copy_requested.connect(self.copy_selection)
        view.point_clicked.connect(self._on_view_point_clicked)
        view.thumbnails_wanted.connect(self._on_view_thumbnails_wanted)
        self.loader.thumbnail_ready.connect(self._on_loader_thumbnail_ready)
        self.dock.visibilityChanged.connect(self._on_dock_visibility_changed)
        self.window.session.model_loaded.connect(self._on_session_model_loaded)
        self.window.session.image_classified.connect(self._on_session_image_classified)
        self.window.session.task_done.connect(self._on_session_task_done)

    # -- menu items ------------------------------------------------------------------------

    def toggle(self) -> None:
        """Show or hide the dock (Ctrl+M); the first showing maps the window's images."""
        self.dock.setVisible(not self.dock.isVisible())
        if self.dock.isVisible():
            self.dock.raise_()

    def find_duplicates(self, threshold: float | None = None) -> None:
        """Near-duplicate groups and the least typical images of the mapped images (Ctrl+Shift+D)."""
        if not self.dock.isVisible():
            self.dock.show()
        source = self.source or self._window_source()
        if source is None:
            return
        source = self._at_chosen_layer(source)
        threshold = threshold or self.panel.threshold.value()
        request = DuplicatesRequest(source, threshold, LEAST_TYPICAL, self._predicted(source))
        self._run(request, "duplicates", "Looking for near-duplicates…", self._on_duplicates_done)

    def close(self) -> None:
        self.loader.shutdown()

    # -- the map ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Compute the map of the current source with the chosen layer, pooling, method and
        colouring."""
        settings = self.window.settings
        settings.set_map_option("method", self.panel.choice(self.panel.method))
        settings.set_map_option("color", self.panel.choice(self.panel.color))
        self.layers.remember()
        self._unmapped.clear()
        self.panel.show_unmapped(0)
        if self.source_kind == "window" or self.source is None:
            self.source = self._window_source()
        request = None
        if self.source is not None:
            self.source = self._at_chosen_layer(self.source)
            request = MapRequest(
                self.source,
                self.panel.choice(self.panel.method),
                self.panel.choice(self.panel.color),
                self._predicted(self.source),
            )
        # None: nothing to map yet (e.g. a new model classifies the images again); the
        # map follows once there is.
        self._wanted = request
        if self._map_job is not None:
            self.worker.cancel_job(self._map_job)  # what it maps is no longer wanted
            self._map_job = None
            if request is None:
                self.window.task_status.done("map", "")
        if request is not None:
            text = f"Mapping {self.source.describe()} ({METHOD_NAMES[request.method]})…"
            self._map_job = self._run(request, "map", text, self._on_map_done)

    def _at_chosen_layer(self, source: FeatureSource) -> FeatureSource:
        """Images' features at the layer and pooling chosen (a file has its own)."""
        if not source.needs_model:
            return source
        layer, pooling = self.layers.chosen()
        return replace(source, layer=layer, pooling=pooling)

    def _on_panel_layer_chosen(self, layer: str) -> None:
        self.layers.offer_poolings(layer, self.layers.chosen()[1])  # kept where it suits
        self.refresh()

    def _window_source(self) -> FeatureSource | None:
        """The window's images, except those waiting to be classified: their features come
        with their labels, and the map follows when they do."""
        images = self.window.session.images
        paths = [path for path in images.paths() if images.entry(path).state != QUEUED]
        if self.window.session.model is None:
            self.panel.show_status("Wait until the model has loaded, then press Map.")
            return None
        if not paths:
            waiting = images.paths([QUEUED])
            self.panel.show_status(
                "The images are being classified; the map follows."
                if waiting
                else "Add images (Ctrl+O) or choose a folder or features file."
            )
            return None
        return FeatureSource(tuple(paths))

    def _predicted(self, source: FeatureSource) -> tuple[tuple[str, str], ...]:
        """The top label of each image the window has classified."""
        if source.file:
            return ()
        found = []
        for entry in self.window.session.images.entries():
            if entry.state == DONE and entry.labels:
                found.append((entry.path, display_name(entry.labels[0])))
        return tuple(found)

    def _on_map_done(self, result) -> None:
        if result.request != self._wanted:
            return  # a newer map was asked for
        self.result = result
        self.view.set_map(result.points, result.paths, result.labels, result.groups)
        skipped = f"; {len(result.failed)} could not be read" if result.failed else ""
        pooled = POOLED.get(result.pooling or "")
        at = f" at {result.layer}" + (f" ({pooled})" if pooled else "") if result.layer else ""
        self.panel.show_status(
            f"{len(result.paths)} images{at} by {METHOD_NAMES[result.request.method]}, coloured by "
            f"{result.color_by}{skipped}. Click a point to open it; Shift+drag: box, Ctrl+drag: lasso."
        )

    def _on_panel_source_chosen(self, kind: str) -> None:
        settings = self.window.settings
        start = settings.map_option("folder") or settings.last_image_dir
        if kind == "folder":
            folder = QFileDialog.getExistingDirectory(self.panel, "Map a folder of images", start)
            if not folder:
                return
            settings.set_map_option("folder", folder)
            self.source = FeatureSource((folder,))
        elif kind == "file":
            pattern = " ".join(f"*{suffix}" for suffix in sorted(FEATURE_SUFFIXES))
            path, _ = QFileDialog.getOpenFileName(
                self.panel, "Map a features file", start, f"Features ({pattern})"
            )
            if not path:
                return
            settings.set_map_option("folder", str(Path(path).parent))
            self.source = FeatureSource(file=path)
        self.source_kind = kind
        self.panel.enable_layer_choice(kind != "file")
        self.refresh()

    def _on_dock_visibility_changed(self, visible: bool) -> None:
        if visible and self.result is None and self._wanted is None:
            self.refresh()

    def _on_session_model_loaded(self, info) -> None:
        self.layers.offer(info)
        self.panel.enable_layer_choice(self.source_kind != "file")
        # Features of images depend on the model: the map of them is out of date.
        if self.result is not None and self.source is not None and self.source.needs_model:
            self.refresh()

    def _on_session_image_classified(self, result) -> None:
        if self.source_kind != "window" or not (self.dock.isVisible() or self.result is not None):
            return  # no map of the window's images is shown or waited for
        if self._wanted is not None and result.path in dict(self._wanted.predicted):
            return  # the map asked for has it (classified again: the same features)
        self._unmapped.add(result.path)
        self.panel.show_unmapped(len(self._unmapped))

    def _on_session_task_done(self, key: str, _text: str) -> None:
        # PCA is instant: redraw as soon as the batch is classified. UMAP and t-SNE take a
        # while, and reset what the user is looking at: the Update button offers them,
        # unless no map of these images is wanted yet (a new model, or none mapped so far).
        instant = self.panel.choice(self.panel.method) == "pca" or self._wanted is None
        if key == "classify" and self._unmapped and self.dock.isVisible() and instant:
            self.refresh()

    # -- clicking, similar images ----------------------------------------------------------

    def _on_view_point_clicked(self, path: str) -> None:
        self.open_image(path)
        self.show_similar(path)

    def open_image(self, path: str) -> None:
        """Show an image in the main view, adding it to the list if it is not there."""
        if path.startswith("#") or not Path(path).exists():
            self.window.statusBar().showMessage(f"{path} is not an image file here.", 5000)
            return
        if self.window.session.images.entry(path) is None:
            self.window.add_images([path])
        self.window.image_pane.select_path(path)

    def show_similar(self, path: str) -> None:
        if self.source is None:
            return
        request = SimilarRequest(self.source, (path,), SIMILAR_COUNT)
        self._run(
            request, "similar", "Finding similar images…", self._on_similar_done, SIMILAR_PRIORITY
        )

    def _on_similar_done(self, results) -> None:
        [result] = results
        self.panel.show_similar(result.query, result.neighbours, self.pixmaps)
        self.panel.tabs.setCurrentIndex(1)
        paths = [found.path for found in result.neighbours]
        self.view.highlight_paths(paths)
        self._on_view_thumbnails_wanted(paths)

    # -- duplicates, export ----------------------------------------------------------------

    def _on_duplicates_done(self, result) -> None:
        self.panel.show_duplicates(result)
        self.view.highlight_paths([p for group in result.groups for p in group.paths])
        count = len(result.groups)
        self.panel.show_status(
            f"{count} group{'s' if count != 1 else ''} of near-duplicates among "
            f"{result.count} images (similarity ≥ {result.request.threshold:.3f})."
        )

    def save_selection_list(self) -> None:
        paths = self.view.selected_paths()
        if not paths:
            return
        target, _ = QFileDialog.getSaveFileName(
            self.panel, "Save the list of selected images", "selected.txt", "Text (*.txt)"
        )
        if not target:
            return
        try:
            with atomic_path(target) as partial:
                partial.write_text("\n".join(paths) + "\n", encoding="utf-8")
        except Exception as exc:
            show_error(self.window, "Could not save the list", user_message(exc), "")
            return
        self.window.statusBar().showMessage(f"Saved {len(paths)} paths to {target}.", 5000)

    def copy_selection(self) -> None:
        paths = self.view.selected_paths()
        if not paths:
            return
        folder = QFileDialog.getExistingDirectory(self.panel, "Copy the selected images to")
        if folder:
            request = CopyImagesRequest(tuple(paths), folder)
            self._run(request, "copy", f"Copying {len(paths)} images…", self._on_copy_done)

    def _on_copy_done(self, result) -> None:
        note = f"; {len(result.failed)} failed" if result.failed else ""
        self.window.statusBar().showMessage(f"Copied {len(result.copied)} images{note}.", 5000)

    # -- the worker and thumbnails ---------------------------------------------------------

    def _run(self, request, key: str, text: str, on_done, priority: int = MAP_PRIORITY):
        status = self.window.task_status

        def done(result) -> None:
            status.done(key, "")
            on_done(result)

        def failed(error, details: str) -> None:
            status.done(key, "")
            self.panel.show_status(user_message(error))
            show_error(self.window, "The feature map failed", user_message(error), details)

        job = self.worker.run(
            request,
            kind=key,
            priority=priority,
            on_done=done,
            on_error=failed,
            on_cancelled=lambda: self._on_cancelled(key, request),
            on_progress=lambda d, t, message: status.busy(key, message, d, t),
        )
        status.busy(key, text, 0, 0)
        self.panel.show_status(text)
        return job

    def _on_cancelled(self, key: str, request) -> None:
        if key == "map" and request is not self._wanted:
            return  # superseded by a newer map, which is running now
        self.window.task_status.done(key, "Cancelled")
        if key == "map":
            self._wanted = None  # so showing the dock again maps anew
        self.panel.show_status("Cancelled. Press Map to start again.")

    def _on_view_thumbnails_wanted(self, paths: list[str]) -> None:
        for path in paths:
            if path not in self._thumbs_asked:
                self._thumbs_asked.add(path)
                self.loader.request_thumbnail(path)

    def _on_loader_thumbnail_ready(self, path: str, image: QImage) -> None:
        self.pixmaps[path] = QPixmap.fromImage(image)
        self.view.set_thumbnail(path, image)
        self.panel.set_strip_thumbnail(path, image)
