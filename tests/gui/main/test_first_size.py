"""The window's first-start size fits the screen: at 1440×900 on a 1366×768 laptop its
status bar (progress, Cancel, the runtime) was below the bottom of the screen."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize

from gui.main.layout import DEFAULT_SIZE, first_size
from tests.gui.conftest import open_window


class _Screen:
    def __init__(self, width: int, height: int) -> None:
        self._free = QRect(0, 0, width, height)

    def availableGeometry(self) -> QRect:  # noqa: N802 (Qt's name)
        return self._free


class _Window:
    def __init__(self, screen) -> None:
        self._screen = screen

    def screen(self):
        return self._screen


def test_a_small_screen_gets_a_window_that_fits():
    assert first_size(_Window(_Screen(1366, 740))) == QSize(1366, 740)
    assert first_size(_Window(_Screen(2560, 1400))) == QSize(*DEFAULT_SIZE)


def test_the_first_start_window_fits_the_screen(qtbot):
    window = open_window(qtbot, start=False)
    free = window.screen().availableGeometry()
    assert window.width() <= free.width() and window.height() <= free.height()
    assert (window.width(), window.height()) == DEFAULT_SIZE  # the tests' screen: 1920×1200
