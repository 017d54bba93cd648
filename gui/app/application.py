"""Starting the window: show it at once, then let the worker import TensorFlow and load a model.

Nothing here (or in any gui module) imports TensorFlow: the window must be on screen and
usable long before TensorFlow's 3-second import has finished.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

import gui.app.qt_compat  # noqa: F401  (before any emit: PySide6 6.12 refcount fix)
from gui.app.icons import app_icon
from gui.main.about import convlens_version
from gui.widgets.error_dialog import install_excepthook


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication with ConvLens' name, style and icon (reused if one exists)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("ConvLens")
    app.setOrganizationName("ConvLens")
    app.setApplicationVersion(convlens_version())
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    return app


def main(argv: list[str] | None = None, notices: list[str] = ()) -> int:
    """Run the window; notices: installation warnings to show once it is up."""
    app = create_application(argv)
    from gui.main.main_window import MainWindow  # after the QApplication: widgets need it

    window = MainWindow()
    install_excepthook(lambda: window)
    window.show()
    for notice in notices:
        QTimer.singleShot(0, lambda text=notice: QMessageBox.warning(window, "ConvLens", text))
    # Start loading once the event loop runs, so the window paints before the worker
    # competes with it for the interpreter.
    QTimer.singleShot(0, window.start)
    code = app.exec()
    if not window.worker_stopped:
        # The worker is stuck where it cannot be cancelled (inside TensorFlow's import or one
        # long native call). Settings are saved; tearing down the interpreter around a
        # running TensorFlow thread can crash, so leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
