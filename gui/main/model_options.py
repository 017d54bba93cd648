"""The Model menu's fitting options: how photos are fitted (crop or squash) and the input size
zoo models are built at. Remembered in the settings; changing one reloads the model with it.

A model trained by ConvLens keeps the resize policy it was trained with: the squash item is
then disabled and says so. An input size applies to zoo models (built without their ImageNet
classifier at that size, as ``include_top=False, input_shape=…``); a model file keeps its own.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMenu, QMessageBox

from core.models.options import parse_input_size
from core.ops.load import LoadModelRequest, ModelInfo

SQUASH_SHORTCUT = "Ctrl+Alt+R"
INPUT_SIZE_SHORTCUT = "Ctrl+Alt+I"
SQUASH_TIP = (
    "Fit the whole photo to the model's input, stretched, as keras.utils.load_img(path, "
    "target_size=…) does; unchecked: centre crop, as in ImageNet evaluation"
)


class ModelOptions:
    """Two actions in the Model menu and what they change in every load request."""

    def __init__(self, window: QMainWindow, menu: QMenu) -> None:
        self.window = window
        self.settings = window.settings
        self._last: LoadModelRequest | None = None  # the request of the model shown
        menu.addSeparator()
        self.squash = QAction("&Squash whole photos (Keras load_img)", window)
        self.squash.setCheckable(True)
        self.squash.setChecked(self.settings.resize_mode == "squash")
        self.squash.setShortcut(QKeySequence(SQUASH_SHORTCUT))
        self.squash.setStatusTip(SQUASH_TIP)
        self.squash.setToolTip(SQUASH_TIP)
        self.squash.toggled.connect(self._on_squash_toggled)
        menu.addAction(self.squash)
        self.input_size = QAction(self._input_size_text(), window)
        self.input_size.setShortcut(QKeySequence(INPUT_SIZE_SHORTCUT))
        self.input_size.setStatusTip(
            "Build zoo models without their classifier at another input size"
        )
        self.input_size.triggered.connect(self.ask_input_size)
        menu.addAction(self.input_size)
        menu.setToolTipsVisible(True)
        window.session.model_loading.connect(self.model_loading)
        window.session.model_loaded.connect(self.model_loaded)

    def apply(self, request: LoadModelRequest) -> LoadModelRequest:
        """The request with the remembered options."""
        return replace(
            request, resize=self.settings.resize_mode, input_size=self.settings.input_size
        )

    def model_loading(self, request: LoadModelRequest) -> None:
        self._last = request

    def model_loaded(self, info: ModelInfo) -> None:
        """Show the policy the model really uses; a trained model's cannot be changed."""
        self.squash.blockSignals(True)
        self.squash.setChecked(info.resize_mode == "squash")
        self.squash.blockSignals(False)
        self.squash.setEnabled(not info.resize_fixed)
        tip = (
            f"{info.name} was trained on photos fitted by {info.resize_mode!r} and keeps that"
            if info.resize_fixed
            else SQUASH_TIP
        )
        self.squash.setToolTip(tip)
        self.squash.setStatusTip(tip)

    def ask_input_size(self) -> None:
        current = self.settings.input_size
        text, ok = QInputDialog.getText(
            self.window,
            "Input size",
            "Build zoo models without their ImageNet classifier at this input size:\n"
            "one side (300) or height,width (300,400). Empty: each model's own size.",
            text=f"{current[0]},{current[1]}" if current else "",
        )
        if not ok:
            return
        try:
            size = parse_input_size(text) if text.strip() else None
        except ValueError as exc:
            QMessageBox.warning(self.window, "Input size", f"{str(exc).capitalize()}.")
            return
        if size == current:
            return
        self.settings.input_size = size
        self.input_size.setText(self._input_size_text())
        self._reload()

    def _on_squash_toggled(self, checked: bool) -> None:
        self.settings.resize_mode = "squash" if checked else "crop"
        self._reload()

    def _reload(self) -> None:
        if self._last is not None:
            self.window.load_model(self._last)

    def _input_size_text(self) -> str:
        size = self.settings.input_size
        return f"&Input size: {size[0]}×{size[1]}…" if size else "&Input size: model's own…"
