"""The Feature map dock in the real main window, driven with real keys and mouse events:
Ctrl+M maps the window's images from the features classification kept, a click opens an
image and lists the images similar to it, Shift+drag selects, Ctrl+Shift+D groups duplicates.
"""

from __future__ import annotations

import shutil

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from core.explore.cache import feature_cache
from gui.main import about
from tests.gui.conftest import wait_idle

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton


def _mouse(widget, kind, pos: QPoint, buttons, modifiers=Qt.KeyboardModifier.NoModifier):
    event = QMouseEvent(
        kind, QPointF(pos), QPointF(widget.mapToGlobal(pos)), LEFT, buttons, modifiers
    )
    QApplication.sendEvent(widget, event)


def _drag(widget, start: QPoint, end: QPoint, modifiers) -> None:
    """Press, move in steps and release, as a hand on a mouse does."""
    _drag_along(widget, [start, end], modifiers)


def _drag_along(widget, corners: list[QPoint], modifiers) -> None:
    """Press at the first corner, move through the others in steps, release at the last."""
    _mouse(widget, QEvent.Type.MouseButtonPress, corners[0], LEFT, modifiers)
    for start, end in zip(corners, corners[1:], strict=False):
        for step in range(1, 11):
            _mouse(
                widget, QEvent.Type.MouseMove, start + (end - start) * (step / 10), LEFT, modifiers
            )
    _mouse(widget, QEvent.Type.MouseButtonRelease, corners[-1], Qt.MouseButton.NoButton, modifiers)


def test_the_feature_map_of_the_windows_images(window, photos, tmp_path, qtbot, monkeypatch):
    copy = tmp_path / "chelsea_copy.jpg"
    shutil.copy(photos["chelsea"], copy)
    paths = [str(photos["chelsea"]), str(photos["coffee"]), str(copy)]
    window.add_images(paths)
    wait_idle(window)
    store = window.session.worker._store
    assert len(feature_cache(store)) == 2  # classification kept the features (copy = original)

    # Ctrl+M shows the dock and maps the images, colouring them by predicted label.
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    exploring = window.exploring
    assert exploring.dock.isVisible() and window.actions["feature_map"].isChecked()
    wait_idle(window)
    qtbot.waitUntil(lambda: exploring.result is not None)
    view = exploring.view
    assert sorted(view.paths) == sorted(paths)
    assert exploring.result.color_by == "predicted"
    legend = [label.text for _sample, label in view.legend.items]
    assert legend == ["Egyptian cat (2)", "espresso (1)"]
    assert "coloured by predicted" in exploring.panel.status.text()

    # Few images in view: each is drawn as a thumbnail at its point.
    qtbot.waitUntil(lambda: view.in_place_count() == 3)
    # Hovering a point shows its thumbnail beside it and its path and label as a tip.
    _mouse(
        view.viewport(),
        QEvent.Type.MouseMove,
        view.view_position(paths[1]),
        Qt.MouseButton.NoButton,
    )
    qtbot.waitUntil(view.hover_shown)
    assert view.toolTip() == f"{paths[1]}\nespresso"

    # A click on the coffee's point opens it in the main view and lists similar images.
    viewport = view.viewport()
    at = view.view_position(paths[1])
    qtbot.mouseClick(viewport, LEFT, pos=at)
    assert window.image_pane.current_path() == paths[1]
    wait_idle(window)
    qtbot.waitUntil(lambda: exploring.panel.similar.count() == 2)
    # And clicking the cat: its copy is the most similar image, at similarity 1.
    qtbot.mouseClick(viewport, LEFT, pos=view.view_position(paths[0]))
    wait_idle(window)
    qtbot.waitUntil(lambda: exploring.panel.similar_paths()[:1] == [str(copy)])
    assert exploring.panel.similar.item(0).text().startswith("1.000")

    # Shift+drag a box around every point selects them all; the list can be saved.
    corners = [view.view_position(p) for p in paths]
    left = min(c.x() for c in corners) - 20
    top = min(c.y() for c in corners) - 20
    right = max(c.x() for c in corners) + 20
    bottom = max(c.y() for c in corners) + 20
    _drag(
        viewport,
        QPoint(int(left), int(top)),
        QPoint(int(right), int(bottom)),
        Qt.KeyboardModifier.ShiftModifier,
    )
    assert sorted(view.selected_paths()) == sorted(paths)
    assert exploring.panel.selected.count() == 3
    assert exploring.panel.tabs.tabText(0) == "Selected (3)"
    listed = tmp_path / "selected.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(listed), ""))
    qtbot.mouseClick(exploring.panel.save_list, LEFT)
    assert sorted(listed.read_text().splitlines()) == sorted(paths)

    # Ctrl+drag a lasso around the coffee's point alone: only it is selected. (pyqtgraph
    # drops mouse moves closer than 10 ms apart; a hand's are, these need not be.)
    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)
    coffee = view.view_position(paths[1])
    ring = [
        coffee + QPoint(dx, dy)
        for dx, dy in ((-15, -15), (15, -15), (15, 15), (-15, 15), (-15, -14))
    ]
    _drag_along(viewport, ring, Qt.KeyboardModifier.ControlModifier)
    assert view.selected_paths() == [paths[1]]

    # Ctrl+Shift+D: the cat and its copy are one group of near-duplicates.
    qtbot.keyClick(window, Qt.Key.Key_D, CTRL_SHIFT)
    wait_idle(window)
    qtbot.waitUntil(lambda: exploring.panel.duplicate_groups() != [])
    assert [sorted(g) for g in exploring.panel.duplicate_groups()] == [
        sorted([paths[0], str(copy)])
    ]

    # The shortcuts are bound once in the window and listed in Help → Shortcuts.
    bound = [
        a.shortcut().toString() for a in window.findChildren(QAction) if not a.shortcut().isEmpty()
    ]
    for keys in ("Ctrl+M", "Ctrl+Shift+D"):
        assert bound.count(keys) == 1
        assert keys in dict(about.SHORTCUTS)

    # Ctrl+M again hides the dock.
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert not exploring.dock.isVisible()


def test_a_features_file_mapped_by_tsne_and_cancelled_with_esc(
    window, tmp_path, qtbot, monkeypatch
):
    from core.io.export import write_features
    from tests.core.explore.synthetic import clustered

    vectors, labels = clustered(classes=4, per_class=150, dims=32)
    names = [f"/data/class{label}/{i}.jpg" for i, label in enumerate(labels)]
    features = write_features(tmp_path / "f.npz", vectors, names, {"model": "x"})
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(features), ""))
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    panel = window.exploring.panel
    wait_idle(window)
    # The keyboard on the closed combos: t-SNE, then "A features file…".
    panel.method.setFocus()
    qtbot.keyClick(panel.method, Qt.Key.Key_Down)
    qtbot.keyClick(panel.method, Qt.Key.Key_Down)
    assert panel.choice(panel.method) == "tsne"
    panel.source.setFocus()
    qtbot.keyClick(panel.source, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: "Computing t-SNE" in window.task_status.text())
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    wait_idle(window)
    assert panel.status.text() == "Cancelled. Press Map to start again."
    assert window.exploring.result is None  # nothing mapped: the window had no images
    assert window.task_status.text() == "Cancelled"
