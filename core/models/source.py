"""Which model a name means: a zoo architecture or a model file. Light module.

Asked in one place: loading, training, the command line and the window all take a string
that is either a zoo name ("ResNet50", case-insensitive) or a path to a .keras/.h5 file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelLoadError
from core.models.zoo import ZOO, ModelSpec, get_spec

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


class UnknownModelError(ModelLoadError):
    """A model name that is neither in the zoo nor a model file."""


class MissingFileError(ModelLoadError):
    """A model or weights file the user named does not exist."""


@dataclass(frozen=True)
class ModelSource:
    """A zoo spec or a model file path (exactly one is set)."""

    spec: ModelSpec | None = None
    path: Path | None = None

    @property
    def is_file(self) -> bool:
        return self.path is not None

    @property
    def display_name(self) -> str:
        return self.spec.name if self.spec else self.path.name

    @property
    def key(self) -> str:
        """How settings and menus name it: the zoo name, or the file path."""
        return self.spec.name if self.spec else str(self.path)


def looks_like_model_file(name_or_path: str | Path) -> bool:
    path = Path(name_or_path)
    return path.suffix.lower() in MODEL_SUFFIXES or path.is_file()


def model_source(name_or_path: str | Path) -> ModelSource:
    """What name_or_path names; UnknownModelError / MissingFileError say what is wrong."""
    name = str(name_or_path)
    spec = get_spec(name)
    if spec is not None:
        return ModelSource(spec=spec)
    if not looks_like_model_file(name):
        known = ", ".join(s.name for s in ZOO.values())
        raise UnknownModelError(
            f"Unknown model {name!r}. Use a model file (.keras/.h5) or one of: {known}."
        )
    path = Path(name)
    if not path.is_file():
        raise MissingFileError(f"The model file {path} does not exist.")
    return ModelSource(path=path)


def display_name(name_or_path: str | Path) -> str:
    """A zoo name as it is, a file by its name: for titles and status messages."""
    spec = get_spec(str(name_or_path))
    return spec.name if spec else Path(name_or_path).name
