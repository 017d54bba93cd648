"""The view of the image list: rows of the same size, laid out in batches, repainted (not laid
out again) when a row's data changes."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractItemView, QListView

LAYOUT_BATCH = 1000  # rows laid out per turn of the event loop


class ImageListView(QListView):
    def __init__(self, model) -> None:
        super().__init__()
        self.setModel(model)
        self.setIconSize(QSize(56, 56))
        # Every row is a thumbnail and two lines of text, whatever they say.
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSpacing(1)
        # A long label ("Rhodesian ridgeback · 27%") is elided, not scrolled sideways to.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        # Every insertion lays out all rows again, calling the model once per row: with
        # 10,000 photos that stopped the window for 60 ms and more. In batches, the event
        # loop turns in between.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)

    def dataChanged(self, top_left, bottom_right, roles=()) -> None:  # noqa: N802 (Qt's name)
        # QListView lays out every row again after any change of data (to follow changed
        # item sizes). Here sizes never change, and with 10,000 rows the relayouts after
        # each result took a quarter of the GUI thread while a folder was classified, so
        # the changed rows are only repainted, as QAbstractItemView does.
        QAbstractItemView.dataChanged(self, top_left, bottom_right, roles)
