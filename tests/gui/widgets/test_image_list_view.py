"""The image list with thousands of rows: results arriving must not lay every row out again."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QApplication

from core.models.labels import Label
from gui.widgets.image_list import DONE, FAILED, QUEUED, ImageListModel
from gui.widgets.image_list_view import ImageListView

ROWS = 2_000
TABBY = (Label("tabby", "n02123045", 281, 0.9),)


class CountingModel(ImageListModel):
    """Counts how often the view asks for the number of rows: once per row in a layout."""

    def __init__(self) -> None:
        super().__init__()
        self.row_count_calls = 0

    def rowCount(self, parent=QModelIndex()):  # noqa: N802, B008 (Qt's name and default)
        self.row_count_calls += 1
        return super().rowCount(parent)


def path(i: int) -> str:
    return f"/photos/img_{i:05d}.jpg"


@pytest.fixture
def shown_list(qtbot):
    model = CountingModel()
    model.add_paths(path(i) for i in range(ROWS))
    view = ImageListView(model)
    qtbot.addWidget(view)
    view.resize(360, 600)
    view.show()
    qtbot.waitExposed(view)
    # Batched layout: the last row has a place once every batch is laid out.
    last = model.index(ROWS - 1)
    qtbot.waitUntil(lambda: view.visualRect(last).top() > view.visualRect(model.index(0)).top())
    return model, view


def test_results_arriving_repaint_rows_without_laying_out_the_list_again(shown_list, qtbot):
    model, view = shown_list
    laid_out_bottom = view.visualRect(model.index(ROWS - 1)).bottom()
    model.row_count_calls = 0

    for bunch in range(10):  # results come in bunches, as from the worker
        rows = range(bunch * 10, bunch * 10 + 10)
        model.set_results((path(i), TABBY, None) for i in rows)
        QApplication.processEvents()  # a relayout, if one was asked for, runs here
        view.viewport().repaint()  # the changed rows are painted

    # One layout of 2,000 rows asks for the row count at least 2,000 times; with ten
    # bunches of results the old list did that ten times (20,000 calls and more).
    assert model.row_count_calls < ROWS
    assert view.visualRect(model.index(ROWS - 1)).bottom() == laid_out_bottom
    assert model.index(5).data() == "img_00005.jpg\ntabby · 90%"


def test_a_bunch_of_results_is_one_change_per_run_of_neighbouring_rows(qtbot):
    model = ImageListModel()
    model.add_paths(path(i) for i in range(10))
    changes = []
    model.dataChanged.connect(lambda top, bottom, roles: changes.append((top.row(), bottom.row())))

    results = [(path(i), TABBY, None) for i in (0, 1, 2, 5)]
    results += [(path(6), None, "cannot identify image file"), ("/photos/removed.jpg", TABBY, None)]
    entries = model.set_results(results)

    assert changes == [(0, 2), (5, 6)]
    assert [e.state if e else None for e in entries] == [DONE, DONE, DONE, DONE, FAILED, None]
    assert entries[4].error == "cannot identify image file"
    assert model.entry(path(3)).state == QUEUED
