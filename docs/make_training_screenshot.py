"""A screenshot of the training window after a real run, for the README.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_training_screenshot.py

Trains the built-in EfficientNet-Lite0 (frozen) on the scikit-image texture dataset of the
tests at 96×96 and writes docs/screenshots/training_view.png with the curves and the
confusion matrix. No network.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["CONVLENS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="convlens-shots-")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots" / "training_view.png"


def main() -> int:
    from PySide6.QtWidgets import QApplication

    import gui.app.qt_compat  # noqa: F401  (PySide6 6.12 refcount guard, as the app does)
    from gui.app.worker import Worker
    from gui.training.window import TrainingWindow
    from tests.training_data import make_texture_dataset

    app = QApplication.instance() or QApplication([])
    data = make_texture_dataset(Path(tempfile.mkdtemp(prefix="convlens-textures-")), 40, 14)
    worker = Worker()
    view = TrainingWindow(worker)
    view.resize(1500, 940)
    view.show()
    view.set_dataset(str(data.train_dir))
    view.settings.val_dir_edit.setText(str(data.val_dir))
    view.settings.input_size.setValue(96)
    view.settings.epochs.setValue(12)
    view.settings.patience.setValue(0)
    settle(app, view)
    view.start()
    settle(app, view)
    if view.result is None:
        print("training did not finish", file=sys.stderr)
        return 1
    view.results.tabs.setCurrentWidget(view.results.confusion)
    for _ in range(20):
        app.processEvents()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    view.grab().save(str(OUT))
    print(f"{OUT}: validation accuracy {view.result.evaluation.accuracy:.3f}")
    view.close()
    worker.shutdown(10)
    return 0


def settle(app, view, timeout: float = 600) -> None:
    """Turn the event loop until the dataset is listed and the window's jobs have ended."""
    deadline = time.monotonic() + timeout
    while (view.is_listing() or view.controller.has_jobs()) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    app.processEvents()


if __name__ == "__main__":
    sys.exit(main())
