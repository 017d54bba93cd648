"""Questions the window asks when a model cannot be loaded as it is.

Each function shows one modal dialog and returns the user's answer (None when they back
out). They are module functions so tests can replace them with scripted answers.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from core.errors import UnsafeModelError, WeightsUnavailableError
from core.models.preprocessing import PREPROCESS_MODES
from core.ops.load import PreprocessingNeeded

RETRY, CHOOSE_FILE, RANDOM = "retry", "file", "random"
MODEL_FILE_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
WEIGHTS_FILE_FILTER = "Weights files (*.h5 *.hdf5 *.weights.h5 *.keras);;All files (*)"


def ask_weights_action(
    parent: QWidget | None, name: str, error: WeightsUnavailableError
) -> str | None:
    """Retry, choose a weights file, or use random weights; None to give up."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Weights not available")
    box.setText(f"The ImageNet weights of {name} are not on this computer.")
    box.setInformativeText(weights_advice(error))
    retry = box.addButton("Retry", QMessageBox.ButtonRole.AcceptRole)
    choose = box.addButton("Choose weights file…", QMessageBox.ButtonRole.ActionRole)
    random = box.addButton("Use random weights", QMessageBox.ButtonRole.ActionRole)
    random.setToolTip("Explore the architecture: layers and activations, no meaningful labels")
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return {retry: RETRY, choose: CHOOSE_FILE, random: RANDOM}.get(box.clickedButton())


def weights_advice(error: WeightsUnavailableError) -> str:
    """What happened and the way out, in the words of this dialog's buttons."""
    return (
        f"{error.summary}\n\nDownload it from {error.url} and put it in {error.folder}, "
        "then press Retry. Or choose a weights file you have, or use random weights to "
        "explore the architecture (its labels then mean nothing)."
    )


def ask_weights_file(parent: QWidget | None, folder: Path) -> str | None:
    path, _ = QFileDialog.getOpenFileName(
        parent, "Choose a weights file", str(folder), WEIGHTS_FILE_FILTER
    )
    return path or None


def ask_preprocessing(parent: QWidget | None, model_name: str, message: str) -> str | None:
    """One of core.preprocessing.PREPROCESS_MODES, chosen by the user."""
    choices = [f"{mode} — {text}" for mode, text in PREPROCESS_MODES.items()]
    choice, ok = QInputDialog.getItem(
        parent,
        f"Preprocessing for {model_name}",
        f"{message}\n\nHow were the images scaled when this model was trained?",
        choices,
        0,
        False,
    )
    return choice.split(" — ", 1)[0] if ok and choice else None


def ask_trust(parent: QWidget | None, message: str) -> bool:
    answer = QMessageBox.warning(
        parent,
        "This model file contains code",
        f"{message}\n\nLoad it anyway?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_model_file(parent: QWidget | None, folder: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open model file", folder, MODEL_FILE_FILTER)
    return path or None


def ask_how_to_retry(parent: QWidget | None, name: str, error: Exception) -> dict | None:
    """For a load error the user can answer: what to load differently, as keyword changes
    of the request (``{"weights": ...}``, ``{"preprocess": ...}``, ``{"trust": True}``, or
    ``{}`` to retry as is); None to give up. Other errors: None without asking."""
    if isinstance(error, WeightsUnavailableError):
        action = ask_weights_action(parent, name, error)
        if action == RETRY:
            return {}
        if action == CHOOSE_FILE:
            path = ask_weights_file(parent, error.folder)
            return {"weights": path} if path else None
        return {"weights": "random"} if action == RANDOM else None
    if isinstance(error, PreprocessingNeeded):
        mode = ask_preprocessing(parent, name, str(error))
        return {"preprocess": mode} if mode else None
    if isinstance(error, UnsafeModelError):
        return {"trust": True} if ask_trust(parent, str(error)) else None
    return None
