"""A misclassified image clicked in the training window, opened in the main window with the
model that misjudged it: the trained classifier's answer is said, and the window offers to
switch to that classifier (once per training run) rather than show ImageNet labels."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from core.ops.use_trained import UseTrainedModelRequest


def trained_answer(result, path: str) -> str:
    """What the trained classifier said about path, as one status line ("" if not a mistake)."""
    for wrong in result.evaluation.misclassified:
        if str(wrong.path) == path:
            return (
                f"The trained classifier took {Path(path).name} ({wrong.true_label}) "
                f"for {wrong.predicted_label} ({wrong.probability:.0%})."
            )
    return ""


def ask_use_trained(parent: QWidget, trained: str, current: str) -> bool:
    """True if the user wants the main window to classify with the trained model."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Use the trained classifier?",
        f"The main window classifies with {current}. Switch it to {trained}, the classifier "
        "you just trained, to see its answer and its layers for this image?",
        parent=parent,
    )
    use = box.addButton("Use the trained classifier", QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton(f"Keep {current}", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(use)
    box.setEscapeButton(keep)
    box.exec()
    chosen = box.clickedButton() is use
    box.deleteLater()
    return chosen


class TrainedImageOpener:
    """Opens training-result images in a MainWindow (gui.main.main_window)."""

    def __init__(self, window) -> None:
        self.window = window
        self._asked_for = None  # the TrainResult whose switch was offered already

    def open(self, path: str, result) -> None:
        window = self.window
        window.add_images([path])
        window.image_pane.select_path(path)
        window.raise_()
        window.activateWindow()
        if result is None:
            return
        answer = trained_answer(result, path)
        if answer:
            window.statusBar().showMessage(answer, 15000)
        model = window.session.model
        showing_trained = model is not None and model.name == result.loaded.name
        if showing_trained or self._asked_for is result:
            return
        self._asked_for = result
        current = model.name if model is not None else "no model"
        if ask_use_trained(window, result.loaded.name, current):
            window.load_model(UseTrainedModelRequest(result))
