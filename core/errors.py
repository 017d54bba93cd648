"""Errors a user can meet. Each message says what happened and what to do about it."""

from __future__ import annotations

from pathlib import Path


class ConvLensError(Exception):
    """Base class for every error ConvLens reports to a user."""


class Cancelled(ConvLensError):
    """The user cancelled a long operation."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)


class ImageLoadError(ConvLensError):
    """An image file could not be read as a picture."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelLoadError(ConvLensError):
    """A model could not be built or read."""


class UnsafeModelError(ModelLoadError):
    """Loading the model would run code stored inside the file (e.g. a Lambda layer)."""


class WeightsUnavailableError(ModelLoadError):
    """Pretrained weights are neither cached nor downloadable."""

    def __init__(self, filename: str, url: str, folder: str | Path, reason: str) -> None:
        self.filename = filename
        self.url = url
        self.folder = Path(folder)
        self.reason = reason
        # What happened, without the command line's way out (a window offers buttons).
        self.summary = (
            f"The weights file {filename} is not in {self.folder} and could not be "
            f"downloaded ({reason})."
        )
        super().__init__(
            f"{self.summary} Download it from {url} and put it in {self.folder}, "
            f"choose a local weights file (--weights FILE), or use random weights (--weights none)."
        )


class ExportError(ConvLensError):
    """Features could not be written."""


class DatasetError(ConvLensError):
    """A training folder is not usable."""


class ExplainError(ConvLensError):
    """A prediction cannot be explained as asked (a method, layer or class that does not fit)."""
