"""The main window's Explain feature: composes its controllers and views and wires them to
the window's session, top-5 panel, image pane, layer tree and status bar.

Kept out of main_window.py, which only creates it and points its menu items here.
"""

from __future__ import annotations

from pathlib import Path

from core.explain import METHODS
from gui.main import model_dialogs
from gui.main.compare_controller import CompareController
from gui.main.explain_controller import ExplainController, Shown, describe, to_qimage
from gui.main.save_png import save_png
from gui.widgets.compare_window import CompareWindow
from gui.widgets.error_dialog import show_error
from gui.widgets.explain_bar import ExplainBar
from gui.widgets.image_list import DONE


class Explaining:
    """Explain overlay, its controls and the compare window of one MainWindow."""

    def __init__(self, window) -> None:
        self.window = window
        session, settings = window.session, window.settings
        self.controller = ExplainController(session.worker, window)
        self.compare = CompareController(session.worker, window)
        self.compare_window: CompareWindow | None = None  # made when first opened
        self.bar = ExplainBar()
        window.image_pane.add_controls(self.bar)

        method = settings.explain_method
        if method in METHODS:
            self.controller.method = self.compare.method = method
        opacity = settings.explain_opacity
        if opacity is not None:
            self.controller.opacity = self.compare.opacity = min(max(opacity, 0.0), 1.0)
        self.bar.set_method(self.controller.method)
        self.bar.set_opacity(self.controller.opacity)
        self._wire()

    def _wire(self) -> None:
        window, controller, bar = self.window, self.controller, self.bar
        session = window.session
        bar.enabled_changed.connect(controller.set_enabled)
        bar.method_changed.connect(self._on_bar_method_changed)
        bar.layer_changed.connect(controller.set_layer)
        bar.opacity_changed.connect(self._on_bar_opacity_changed)
        bar.export_requested.connect(self.export_png)
        bar.compare_requested.connect(self.show_compare)
        controller.enabled_changed.connect(bar.set_enabled)
        controller.status_changed.connect(bar.show_status)
        controller.overlay_ready.connect(self._on_controller_overlay_ready)
        controller.overlay_cleared.connect(window.image_pane.clear_overlay)
        controller.highlight_changed.connect(window.top5.set_highlighted)
        controller.result_changed.connect(self._show_main_column)
        controller.failed.connect(
            lambda title, text, details: show_error(window, title, text, details)
        )
        for source in (controller, self.compare):
            source.task_busy.connect(window.task_status.busy)
            source.task_done.connect(window.task_status.done)
        session.model_loaded.connect(self._on_session_model_loaded)
        session.current_image_changed.connect(self._on_session_current_image_changed)
        window.top5.class_clicked.connect(lambda label: controller.explain_class(label.index))
        window.layer_tree.explain_layer_requested.connect(self.explain_at_layer)
        window.image_pane.network_toggle.toggled.connect(controller.set_network_view)

    # -- menu items ------------------------------------------------------------------------

    def toggle(self) -> None:
        self.controller.toggle()

    def explain_at_layer(self, path: str) -> None:
        """Grad-CAM (or the CAM method chosen) at this layer, turning Explain on."""
        if not METHODS[self.controller.method].needs_layer:
            self.bar.set_method("gradcam")
            self._on_bar_method_changed("gradcam")
        self.bar.set_layer(path)
        self.controller.set_layer(path)
        self.controller.set_enabled(True)

    def export_png(self) -> None:
        result = self.controller.result
        if result is None:
            self.window.statusBar().showMessage(
                "Turn on Explain (X) and wait for the heatmap first.", 5000
            )
            return
        name = f"{Path(result.path).stem}_{result.label.label}_{result.method}.png"
        save_png(
            self.window,
            "Save the heatmap",
            self.controller.export_png,
            "Could not save the heatmap",
            suggested=name,
        )

    def show_compare(self) -> CompareWindow:
        """Open (or raise) the compare window; Explain is turned on for the left column."""
        if self.compare_window is None:
            self.compare_window = self._make_compare_window()
        view = self.compare_window
        view.show()
        view.raise_()
        view.activateWindow()
        self.controller.set_enabled(True)
        self.compare.set_image(self.window.image_pane.current_path())
        self.compare.set_active(True)
        self._show_main_column(self.controller.result)
        last = self.window.settings.compare_model
        if self.compare.request is None and last:
            self._on_compare_model_chosen(last)
        return view

    def close(self) -> None:
        if self.compare_window is not None:
            self.compare_window.close()

    # -- the compare window ----------------------------------------------------------------

    def _make_compare_window(self) -> CompareWindow:
        view = CompareWindow(self.window)
        view.selector.set_recent(self.window.settings.recent_models)
        view.selector.set_current(None)
        view.model_chosen.connect(self._on_compare_model_chosen)
        view.open_file_requested.connect(self._on_compare_open_file_requested)
        view.closed.connect(lambda: self.compare.set_active(False))
        view.main.top5.class_clicked.connect(
            lambda label: self.controller.explain_class(label.index)
        )
        view.second.top5.class_clicked.connect(lambda label: self.compare.set_class(label.index))
        self.controller.highlight_changed.connect(view.main.top5.set_highlighted)
        self.compare.status_changed.connect(view.show_status)
        self.compare.result_ready.connect(self._show_second_column)
        self.compare.cleared.connect(lambda: view.second.show_overlay(None, "", "Computing…"))
        self.compare.load_failed.connect(self._on_compare_load_failed)
        return view

    def _on_compare_model_chosen(self, key: str) -> None:
        self.window.settings.compare_model = key
        if self.compare_window is not None:
            self.compare_window.selector.set_current(key)
            self.compare_window.second.heading.setText(Path(key).name)
        self.compare.set_model(key)

    def _on_compare_open_file_requested(self) -> None:
        settings = self.window.settings
        start = str(Path(settings.recent_models[0]).parent) if settings.recent_models else ""
        path = model_dialogs.ask_model_file(self.compare_window, start or settings.last_image_dir)
        if path:
            self._on_compare_model_chosen(path)

    def _on_compare_load_failed(self, request, error, details: str) -> None:
        changes = model_dialogs.ask_how_to_retry(self.compare_window, request.display_name, error)
        if changes is not None:
            self.compare.retry(changes)

    def _show_main_column(self, result) -> None:
        view = self.compare_window
        if view is None:
            return
        entry = self.window.session.current_entry()
        model = self.window.session.model
        view.main.heading.setText(model.name if model else "This window's model")
        if entry is not None and entry.state == DONE and entry.labels:
            view.main.top5.set_predictions(entry.name, model.name if model else "", entry.labels)
        else:
            view.main.top5.show_message("Not classified yet.")
        view.main.top5.set_highlighted(result.label.index if result else None)
        if result is None:
            view.main.show_overlay(None, "", "Computing…" if entry else "Select an image.")
        else:
            view.main.show_overlay(to_qimage(result.overlay), describe(result))

    def _show_second_column(self, result) -> None:
        view = self.compare_window
        if view is None:
            return
        explanation = result.explanation
        name = result.model_name + ("  (random weights)" if result.random_weights else "")
        view.second.heading.setText(name)
        view.second.top5.set_predictions(Path(explanation.path).name, name, result.labels)
        view.second.top5.set_highlighted(explanation.label.index)
        view.second.show_overlay(to_qimage(explanation.overlay), describe(explanation))

    # -- slots -----------------------------------------------------------------------------

    def _on_bar_method_changed(self, name: str) -> None:
        self.window.settings.explain_method = name
        self.controller.set_method(name)
        self.compare.set_method(name)

    def _on_bar_opacity_changed(self, opacity: float) -> None:
        self.window.settings.explain_opacity = opacity
        self.controller.set_opacity(opacity)
        self.compare.set_opacity(opacity)

    def _on_controller_overlay_ready(self, shown: Shown) -> None:
        self.window.image_pane.show_overlay(shown.path, shown.image, shown.caption, shown.pixelated)

    def _on_session_model_loaded(self, info) -> None:
        self.bar.set_layers(list(info.map_layers), info.explain_layer)
        self.window.layer_tree.set_explain_layers(info.map_layers)
        self.controller.on_model_loaded(info)
        self.bar.set_layer(self.controller.layer)

    def _on_session_current_image_changed(self, entry) -> None:
        self.controller.on_current_image_changed(entry)
        self.compare.set_image(entry.path if entry is not None else None)
        self._show_main_column(self.controller.result)
