"""A folder of thousands of photos dropped on the window: all listed, thumbnails only for the
rows on screen, and the keyboard scrolls to the last one."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QPoint, Qt

from tests.gui.conftest import open_window
from tests.gui.main.test_window_images import drop

COUNT = 3000


def test_a_dropped_folder_of_thousands_is_listed_with_thumbnails_for_visible_rows(qtbot, tmp_path):
    folder = tmp_path / "thousands"
    expected = []
    for i in range(COUNT):
        path = folder / f"day{i // 1000}" / f"img{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (16, 12), (i % 256, i // 256 * 20, 90)).save(path)
        expected.append(str(path))
    window = open_window(qtbot, start=False)  # no model: nothing but listing and thumbnails
    model, view = window.session.images, window.image_pane.list

    enter, dropped = drop(window, [folder])
    assert enter.isAccepted() and dropped.isAccepted()
    qtbot.waitUntil(lambda: window.image_pane.count_label.text() == f"{COUNT} images")
    assert model.paths() == expected  # img2 before img10, day0 before day1
    assert window.image_pane.current_path() == expected[0]  # the first is shown

    def visible_rows() -> list[int]:
        area = view.viewport().rect()
        first = view.indexAt(area.topLeft() + QPoint(4, 4)).row()
        last = view.indexAt(area.bottomLeft() + QPoint(4, -4)).row()
        return list(range(first, (last if last >= 0 else COUNT - 1) + 1))

    qtbot.waitUntil(lambda: visible_rows() and visible_rows()[0] == 0)  # laid out
    on_screen = visible_rows()
    assert on_screen[0] == 0 and 1 < len(on_screen) < 100
    qtbot.waitUntil(lambda: all(model.thumbnail(expected[r]) for r in on_screen))
    decoded = [p for p in expected if model.thumbnail(p) is not None]
    assert len(decoded) < 100  # a screenful or two (layout passes), not the whole folder
    bottom = [r for r in range(COUNT - 5, COUNT) if model.thumbnail(expected[r]) is None]
    assert bottom  # the last rows have not been shown, so (most) have no thumbnail yet

    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_End)  # the last photo, scrolled into view
    qtbot.waitUntil(lambda: window.image_pane.current_path() == expected[-1])
    on_screen = visible_rows()
    assert COUNT - 1 in on_screen and set(bottom) <= set(on_screen)
    qtbot.waitUntil(lambda: all(model.thumbnail(expected[r]) for r in on_screen))
