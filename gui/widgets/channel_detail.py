"""One channel of a layer enlarged, overlaid on the network's input image."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from gui.widgets.colormaps import BACKGROUND, upsample


def fmt(value: float) -> str:
    return f"{value:.3g}"


class ChannelDetail(QWidget):
    """The enlarged channel: the map upsampled over the photo, with an opacity slider.

    Its colours and levels are the grid's (set_lookup_table / set_levels), so both read alike.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._has_photo = False
        self.title = QLabel(wordWrap=True)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(BACKGROUND)
        self.box = self.view.addViewBox(lockAspect=True, invertY=True)
        self.box.setMenuEnabled(False)
        self.photo = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.photo)
        self.box.addItem(self.overlay)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=60)
        self.opacity_slider.setToolTip("Opacity of the channel over the input image")
        self.opacity_slider.valueChanged.connect(self._update_opacity)
        opacity_row = QHBoxLayout()
        opacity_row.addWidget(QLabel("Overlay opacity"))
        opacity_row.addWidget(self.opacity_slider)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addLayout(opacity_row)

    def show_channel(
        self, maps: np.ndarray | None, channel: int | None, photo: np.ndarray | None, levels
    ) -> None:
        """Channel `channel` of maps (H, W, C) over photo; a hint when there is none."""
        if maps is None or channel is None:
            self.title.setText("Click a channel to enlarge it.")
            self.photo.clear()
            self.overlay.clear()
            self.opacity_slider.setEnabled(False)
            return
        data = maps[:, :, channel]
        self.title.setText(
            f"Channel {channel}: mean {fmt(float(data.mean()))}, max {fmt(float(data.max()))}"
        )
        self._has_photo = photo is not None
        if photo is not None:
            height, width = photo.shape[:2]
            self.photo.setImage(photo, autoLevels=False, levels=(0, 255))
            self.overlay.setImage(upsample(data, (height, width)), autoLevels=False)
        else:  # nothing to overlay: the bare map, blocky as it really is
            self.photo.clear()
            self.overlay.setImage(data, autoLevels=False)
        self.opacity_slider.setEnabled(photo is not None)
        self.set_levels(levels)
        self._update_opacity()
        self.box.autoRange(padding=0.01)

    def set_lookup_table(self, lut: np.ndarray) -> None:
        self.overlay.setLookupTable(lut)

    def set_levels(self, levels) -> None:
        self.overlay.setLevels(levels)

    def _update_opacity(self) -> None:
        self.overlay.setOpacity(self.opacity_slider.value() / 100 if self._has_photo else 1.0)
